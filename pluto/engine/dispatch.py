"""An IKEv2 datagram arrives: parse it, find its IKE SA and message-ID slot, run the handler.

Malformed requests are answered as RFC 7296 §2.5/§2.21 say (INVALID_MAJOR_VERSION,
INVALID_SYNTAX, UNSUPPORTED_CRITICAL_PAYLOAD with the payload type),
messages for unknown SPIs are ignored, retransmitted requests get the cached response, and
messages that fail their integrity check are dropped without an answer.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from pluto.engine import packet_impairs
from pluto.engine.host import Endpoint, format_endpoint
from pluto.engine.states import IkeSa, StateKind
from pluto.ikev2 import ike_sa_init, messages, nat, transitions
from pluto.ikev2.protection import IntegrityCheckFailed
from pluto.packet.errors import MalformedMessage
from pluto.packet.ikev2 import Message, emit_message, parse_message
from pluto.packet.ikev2_types import ExchangeType, HeaderFlag, NotifyType

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

_HEADER = struct.Struct("!8s8sBBBBII")
# What a malformed IKE_SA_INIT request is answered with (RFC 7296 §2.5, §2.21.1).
_INIT_ANSWERS = frozenset({NotifyType.INVALID_SYNTAX, NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD})


def packet_received(core: Pluto, data: bytes, local: Endpoint, remote: Endpoint) -> None:
    packet_impairs.receive(core, remote, lambda: _one(core, data, local, remote))


def _one(core: Pluto, data: bytes, local: Endpoint, remote: Endpoint) -> None:
    if core.logger.debugging("raw"):  # no per-packet strings unless asked for
        core.logger.debug("raw", f"received {len(data)} bytes from {format_endpoint(remote)}")
    if len(data) > 17 and data[17] >> 4 == 1:  # ISAKMP major version 1: IKEv1 (issue 8)
        from pluto.ikev1 import dispatch as ikev1_dispatch

        if ikev1_dispatch.policy(core) != "reject":  # reject: INVALID_MAJOR_VERSION below
            ikev1_dispatch.packet_received(core, data, local, remote)
            return
    try:
        msg = parse_message(data, core.logger)
    except MalformedMessage as err:
        _malformed(core, data, err, local, remote)
        return
    if msg.exchange == ExchangeType.IKE_SA_INIT:
        _ike_sa_init(core, msg, data, local, remote)
        return
    ike = core.states.by_spis(msg.ispi, msg.rspi)
    if ike is None:
        core.ddos.count("unknown-spi")
        core.logger.log(f"packet from {format_endpoint(remote)}: "
                        f"{_exchange_text(msg.exchange)} message "
                        f"has unknown IKE SPIs {msg.ispi.hex()}/{msg.rspi.hex()}; ignoring it")
        return
    if ike.protector is None:
        ike.logger.log(f"packet from {format_endpoint(remote)}: encrypted message before keys "
                       "exist; ignoring it")
        return
    if msg.is_response:
        _response(core, ike, msg, data)
    else:
        # RFC 7296 §2.11: answer from the address and port the request was sent to, to the
        # one it came from (a peer may float to 4500 without a NAT, as strongSwan does).
        ike.request_endpoints = (local, remote)
        _request(core, ike, msg, data)


def _unprotect(core: Pluto, ike: IkeSa, msg: Message, data: bytes, *, request: bool):
    if msg.encrypted is None:
        # Anyone who saw the SPIs can send this: answering it would use up the peer's
        # message ID (its next real request would get our cached error), so drop it.
        core.ddos.count("unprotected")
        ike.logger.log(f"{_exchange_text(msg.exchange)} message without an SK payload; "
                       "dropping it")
        return None
    try:
        return ike.protector.unprotect(data, msg)
    except IntegrityCheckFailed as err:
        core.ddos.count("integrity-failed")
        ike.logger.log(f"{ExchangeType(msg.exchange).name} message failed its integrity "
                       f"check ({err}); dropping it")
    except MalformedMessage as err:
        ike.logger.log(f"malformed encrypted {ExchangeType(msg.exchange).name} "
                       f"{'request' if request else 'response'}: {err.reason}")
        if request:
            messages.send_response(core, ike, msg, [messages.notify(err.notify, err.data)],
                                   encrypted=True)
    return None


def _response(core: Pluto, ike: IkeSa, msg: Message, data: bytes) -> None:
    out = ike.outstanding
    if out is None or out.message_id != msg.message_id or out.exchange != msg.exchange:
        ike.logger.debug("base", f"#{ike.serial}: response with message ID {msg.message_id} "
                                 "answers nothing outstanding; dropping it")
        return
    payloads = _unprotect(core, ike, msg, data, request=False)
    if payloads is None:
        return
    messages.response_arrived(core, ike)
    out.on_response(core, ike, msg, payloads, data)
    messages.run_queued(core, ike)


def _request(core: Pluto, ike: IkeSa, msg: Message, data: bytes) -> None:
    if msg.message_id < ike.next_peer_request_id:
        core.ddos.count("duplicate-request")
        if not messages.resend_cached_response(core, ike, msg.message_id):
            ike.logger.debug("base", f"#{ike.serial}: old request {msg.message_id}; dropping")
        return
    if msg.message_id != ike.next_peer_request_id:
        core.ddos.count("outside-window")
        ike.logger.log(f"request with message ID {msg.message_id} is outside the window "
                       f"(expecting {ike.next_peer_request_id}); dropping it")
        return
    transition = transitions.find(ike.kind, msg.exchange)
    payloads = _unprotect(core, ike, msg, data, request=True)
    if payloads is None:
        return
    if ike.request_endpoints is not None:  # authenticated now: a NATed peer may have moved
        nat.request_from(core, ike, *ike.request_endpoints)
    if transition is None:
        name = ExchangeType(msg.exchange).name if msg.exchange in ExchangeType._value2member_map_ \
            else str(msg.exchange)
        ike.logger.log(f"{ike.kind.name}: unexpected {name} request; responding with "
                       "NO_ADDITIONAL_SAS" if msg.exchange == ExchangeType.CREATE_CHILD_SA
                       else f"{ike.kind.name}: unexpected {name} request; ignoring it")
        if msg.exchange == ExchangeType.CREATE_CHILD_SA:
            messages.send_response(core, ike, msg,
                                   [messages.notify(NotifyType.NO_ADDITIONAL_SAS)],
                                   encrypted=True)
        return
    transition.handler(core, ike, msg, payloads, data)


def _ike_sa_init(core: Pluto, msg: Message, data: bytes, local: Endpoint,
                 remote: Endpoint) -> None:
    if msg.is_response:
        ike = core.states.by_spis(msg.ispi, bytes(8))
        if ike is None or ike.kind is not StateKind.STATE_V2_IKE_SA_INIT_I:
            core.logger.debug("base", "IKE_SA_INIT response for no state; dropping it")
            return
        _response_cleartext(core, ike, msg, data)
        return
    existing = core.states.by_init(msg.ispi, remote)
    if existing is not None:
        if existing.init_request == data and existing.last_response is not None:
            messages.resend_cached_response(core, existing, msg.message_id)
        else:
            existing.logger.debug("base", "IKE_SA_INIT request for an existing IKE SA; "
                                          "dropping it")
        return
    if not core.listening:
        return
    if not core.ddos.admit_init(core, msg, local, remote):  # limits and COOKIEs (ddos.py)
        return
    ike_sa_init.process_request(core, msg, data, local, remote)
    core.ddos.track(core, msg, remote)


def _response_cleartext(core: Pluto, ike: IkeSa, msg: Message, data: bytes) -> None:
    out = ike.outstanding
    if out is None or out.message_id != msg.message_id:
        return
    messages.response_arrived(core, ike)
    out.on_response(core, ike, msg, msg.payloads, data)


def _malformed(core: Pluto, data: bytes, err: MalformedMessage, local: Endpoint,
               remote: Endpoint) -> None:
    where = f"packet from {format_endpoint(remote)}"
    core.ddos.count("malformed")
    core.logger.log(f"{where}: dropping malformed message: {err.reason}")
    if len(data) < _HEADER.size:
        return
    ispi, rspi, _np, _version, exchange, flags, message_id, _length = _HEADER.unpack_from(data)
    if flags & HeaderFlag.RESPONSE:
        return
    # Outside IKE_SA_INIT a cleartext error cannot be authenticated: only the version
    # mismatch is answered there (§2.5, §2.21.1); errors inside SK are answered encrypted.
    if err.notify == NotifyType.INVALID_MAJOR_VERSION or (
            exchange == ExchangeType.IKE_SA_INIT and err.notify in _INIT_ANSWERS):
        core.logger.log(f"{where}: responding with {messages.notify_name(err.notify)}")
        answer = Message(ispi=ispi, rspi=rspi, exchange=exchange,
                         flags=int(HeaderFlag.RESPONSE), message_id=message_id,
                         payloads=[messages.notify(err.notify, err.data)])
        core.send_raw(emit_message(answer, core.logger), local, remote)


def _exchange_text(exchange: int) -> str:
    """The exchange's name, or its number when it has none."""
    try:
        return ExchangeType(exchange).name
    except ValueError:
        return str(exchange)
