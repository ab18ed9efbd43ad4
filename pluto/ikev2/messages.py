"""Sending IKEv2 messages: headers, message IDs, retransmission and the response cache.

RFC 7296 §2.1-§2.3 with a window of one: we have at most one request outstanding per IKE SA,
resend it with exponential back-off (libreswan: 0.5 s doubling) until a response arrives or
the retransmit timeout passes; a retransmitted request from the peer is answered with the
cached copy of our last response rather than processed again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pluto.engine.states import IkeSa, Outstanding
from pluto.impair import REGISTRY, ImpairSpec, Kind, register
from pluto.packet.ikev2 import Message, NotifyPayload, Payload, emit_message
from pluto.packet.ikev2_impair import impair_inner_payloads, impair_outbound
from pluto.packet.ikev2_types import ExchangeType, HeaderFlag, NotifyType

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

if "suppress-retransmits" not in REGISTRY:
    register(ImpairSpec("suppress-retransmits", Kind.BOOLEAN,
                        "never retransmit a request (the exchange still times out)"))

OnResponse = Callable[["Pluto", IkeSa, Message, list[Payload]], None]
OnTimeout = Callable[["Pluto", IkeSa], None]


# Plain ints: or-ing IntFlag members goes through enum machinery on every message.
_INITIATOR_FLAG = int(HeaderFlag.INITIATOR)
_RESPONSE_FLAG = int(HeaderFlag.RESPONSE)


def header(ike: IkeSa, exchange: int, *, response: bool, message_id: int) -> Message:
    flags = (_INITIATOR_FLAG if ike.initiator else 0) | (_RESPONSE_FLAG if response else 0)
    return Message(ispi=ike.spi_i, rspi=ike.spi_r, exchange=exchange, flags=flags,
                   message_id=message_id)


def encode(core: Pluto, ike: IkeSa, msg: Message, inner: Sequence[Payload] | None) -> bytes:
    """The datagram for ``msg``: cleartext payloads as they are, or ``inner`` inside SK."""
    impairs = core.impairs
    if inner is None:
        if impairs.values:
            msg = impair_outbound(msg, impairs, ike.logger)
        return emit_message(msg, core.logger)
    if impairs.values:
        inner = impair_inner_payloads(inner, msg.exchange, impairs, ike.logger)
    datagram = ike.protector.protect(msg, list(inner), core.rand)
    if impairs.values:
        from pluto.packet.ikev2 import parse_message

        datagram = emit_message(impair_outbound(parse_message(datagram), impairs, ike.logger))
    return datagram


def send_request(core: Pluto, ike: IkeSa, exchange: int, payloads: Sequence[Payload], *,
                 encrypted: bool, on_response: OnResponse, timeout: float | None = None) -> int:
    """Send a new request on ``ike`` and arm its retransmit timer; returns its message ID.

    ``timeout``: give up after this many seconds instead of the core's retransmit timeout
    (liveness probes use dpdtimeout).
    """
    message_id = ike.next_request_id
    ike.next_request_id += 1
    msg = header(ike, exchange, response=False, message_id=message_id)
    if encrypted:
        datagram = encode(core, ike, msg, payloads)
    else:
        msg.payloads = list(payloads)
        datagram = encode(core, ike, msg, None)
    ike.outstanding = Outstanding(message_id, exchange, datagram, core.clock.now(),
                                  on_response=on_response, timeout=timeout)
    core.transmit(ike, datagram)
    _arm_retransmit(core, ike)
    return message_id


def _arm_retransmit(core: Pluto, ike: IkeSa) -> None:
    out = ike.outstanding
    assert out is not None
    delay = core.options.retransmit_interval * (2 ** out.retransmits)
    deadline = out.first_sent + _timeout(core, out)
    delay = max(0.0, min(delay, deadline - core.clock.now()))
    core.schedule(ike, "retransmit", delay, lambda: _retransmit(core, ike))


def _retransmit(core: Pluto, ike: IkeSa) -> None:
    out = ike.outstanding
    if out is None:
        return
    elapsed = core.clock.now() - out.first_sent
    if elapsed >= _timeout(core, out):
        ike.outstanding = None
        ike.queued.clear()
        ike.logger.log(f"{ike.kind.name}: {_timeout(core, out):g} second timeout "
                       f"exceeded after {out.retransmits} retransmits.  No response (or no "
                       f"acceptable response) to our {ExchangeType(out.exchange).name} message")
        from pluto.engine import outcome

        outcome.exchange_timed_out(core, ike, out.exchange)
        return
    out.retransmits += 1
    if core.impairs.get("suppress-retransmits"):
        ike.logger.impair(f"suppressing retransmit {out.retransmits} of the "
                          f"{ExchangeType(out.exchange).name} request")
    else:
        next_delay = core.options.retransmit_interval * (2 ** out.retransmits)
        ike.logger.log(f"{ike.kind.name}: retransmission; will wait {next_delay:g} seconds "
                       "for response")
        core.transmit(ike, out.datagram)
    _arm_retransmit(core, ike)


def _timeout(core: Pluto, out: Outstanding) -> float:
    return out.timeout if out.timeout is not None else core.options.retransmit_timeout


def when_idle(core: Pluto, ike: IkeSa, start: Callable[[], None]) -> None:
    """Run ``start`` (which sends a request) now, or once our outstanding request is answered:
    the window is one request (RFC 7296 §2.3)."""
    if ike.outstanding is None and not ike.queued:
        start()
    else:
        ike.logger.debug("base", f"#{ike.serial}: request queued behind message ID "
                                 f"{ike.outstanding.message_id if ike.outstanding else '?'}")
        ike.queued.append(start)


def run_queued(core: Pluto, ike: IkeSa) -> None:
    """The window opened: send the next queued request, if the IKE SA is still there."""
    while ike.queued and ike.outstanding is None and core.states.get(ike.serial) is ike:
        ike.queued.pop(0)()


def response_arrived(core: Pluto, ike: IkeSa) -> Outstanding | None:
    """The outstanding request is answered: stop retransmitting and hand it back."""
    out = ike.outstanding
    ike.outstanding = None
    core.cancel(ike, "retransmit")
    return out


def send_response(core: Pluto, ike: IkeSa, request: Message, payloads: Sequence[Payload], *,
                  encrypted: bool) -> bytes:
    """Answer ``request`` and cache the answer for retransmitted copies of it."""
    msg = header(ike, request.exchange, response=True, message_id=request.message_id)
    if encrypted:
        datagram = encode(core, ike, msg, payloads)
    else:
        msg.payloads = list(payloads)
        datagram = encode(core, ike, msg, None)
    ike.last_response = (request.message_id, [datagram])
    ike.next_peer_request_id = request.message_id + 1
    _answer(core, ike, datagram)
    return datagram


def _answer(core: Pluto, ike: IkeSa, datagram: bytes) -> None:
    """Send a response where the request came from (see dispatch), else to the IKE SA's peer."""
    if ike.request_endpoints is None:
        core.transmit(ike, datagram)
    else:
        core.send_raw(datagram, *ike.request_endpoints)


def resend_cached_response(core: Pluto, ike: IkeSa, message_id: int) -> bool:
    """A duplicate of the peer's last request: answer it again from the cache."""
    if ike.last_response is None or ike.last_response[0] != message_id:
        return False
    ike.logger.log(f"received duplicate {message_id_text(message_id)} request; "
                   "retransmitting response")
    for datagram in ike.last_response[1]:
        _answer(core, ike, datagram)
    return True


def message_id_text(message_id: int) -> str:
    return f"message ID {message_id}"


def notify(notify_type: int, data: bytes = b"", protocol: int = 0,
           spi: bytes = b"") -> NotifyPayload:
    return NotifyPayload(notify_type=notify_type, data=data, protocol=protocol, spi=spi)


def notify_name(notify_type: int) -> str:
    try:
        return NotifyType(notify_type).name
    except ValueError:
        return f"NOTIFY_{notify_type}"


def send_cleartext_notify(core: Pluto, request: Message, local, remote, notify_type: int,
                          data: bytes = b"") -> None:
    """An unencrypted notify answering an IKE_SA_INIT request (no state is kept)."""
    msg = Message(ispi=request.ispi, rspi=bytes(8), exchange=request.exchange,
                  flags=int(HeaderFlag.RESPONSE), message_id=request.message_id,
                  payloads=[notify(notify_type, data)])
    core.send_raw(emit_message(msg, core.logger), local, remote)
