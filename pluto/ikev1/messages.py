"""Sending IKEv1 messages: headers, encryption, retransmits, answers to duplicates, failure.

IKEv1 has no message window. Like pluto, a state that expects the peer's next message resends
its own last one with exponential back-off (the core's retransmit interval, doubling) until the
retransmit timeout; a datagram identical to the last one the state accepted means our answer
was lost, and the answer is sent again ("retransmitting in response to duplicate packet").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pluto.engine import outcome
from pluto.ikev1.crypt import UndecryptableMessage, after_first_payload
from pluto.ikev1.states import IsakmpSa, QuickSa
from pluto.packet.errors import MalformedMessage
from pluto.packet.ikev1 import (
    EncryptedBody,
    Message,
    Payload,
    emit_message,
    emit_payloads,
    parse_payloads,
)
from pluto.packet.ikev1_impair import impair_header, impair_outbound, impair_payloads
from pluto.packet.ikev1_types import ExchangeType, HeaderFlag
from pluto.whack_protocol import RC_NOTIFICATION

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

V1State = IsakmpSa | QuickSa


def encode(core: Pluto, isakmp: IsakmpSa, exchange: int, message_id: int,
           payloads: Sequence[Payload], *, encrypt: bool) -> bytes:
    msg = Message(isakmp.spi_i, isakmp.spi_r, exchange, message_id=message_id)
    impairs = core.impairs
    if not encrypt:
        msg.payloads = list(payloads)
        if impairs.values:
            msg = impair_outbound(msg, impairs, isakmp.logger)
        return emit_message(msg, core.logger)
    if impairs.values:
        payloads = impair_payloads(list(payloads), impairs, isakmp.logger)
    first, body = emit_payloads(list(payloads), core.logger)
    msg.flags |= HeaderFlag.ENCRYPTION
    msg.encrypted = EncryptedBody(first, isakmp.crypto.encrypt(message_id, body))
    if impairs.values:
        msg = impair_header(msg, impairs, isakmp.logger)
    return emit_message(msg, core.logger)


def send(core: Pluto, isakmp: IsakmpSa, state: V1State, datagram: bytes, *,
         wait: bool) -> None:
    """Transmit ``datagram`` as ``state``'s latest message; with ``wait`` keep resending it
    until the peer's next message arrives."""
    ex = state.exchange
    ex.last_sent, ex.waiting, ex.answered = datagram, wait, bool(ex.last_received)
    ex.first_sent, ex.retransmits = core.clock.now(), 0
    core.transmit(isakmp, datagram)
    if wait:
        _arm(core, isakmp, state)
    else:
        core.cancel(state, "retransmit")


def accepted(core: Pluto, state: V1State, data: bytes) -> None:
    """The peer's message was good: it is the one a duplicate would repeat."""
    state.exchange.last_received = data
    state.exchange.waiting = state.exchange.answered = False
    core.cancel(state, "retransmit")


def answer_duplicate(core: Pluto, isakmp: IsakmpSa, state: V1State, data: bytes) -> bool:
    """True when ``data`` repeats the last accepted message (resent our answer, if any)."""
    ex = state.exchange
    if not ex.last_received or data != ex.last_received:
        return False
    if ex.last_sent and ex.answered:
        state.logger.log("retransmitting in response to duplicate packet; already "
                         f"{state.kind.name}")
        core.transmit(isakmp, ex.last_sent)
    return True


def _arm(core: Pluto, isakmp: IsakmpSa, state: V1State) -> None:
    ex = state.exchange
    delay = core.options.retransmit_interval * (2 ** ex.retransmits)
    deadline = ex.first_sent + core.options.retransmit_timeout
    delay = max(0.0, min(delay, deadline - core.clock.now()))
    core.schedule(state, "retransmit", delay, lambda: _retransmit(core, isakmp, state))


def _retransmit(core: Pluto, isakmp: IsakmpSa, state: V1State) -> None:
    ex = state.exchange
    if not ex.waiting or core.states.get(state.serial) is not state:
        return
    if core.clock.now() - ex.first_sent >= core.options.retransmit_timeout:
        ex.waiting = False
        reason = (f"{state.kind.name}: {core.options.retransmit_timeout:g} second timeout "
                  f"exceeded after {ex.retransmits} retransmits.  No response (or no "
                  "acceptable response) to our IKEv1 message")
        fail(core, state, None, reason)
        return
    ex.retransmits += 1
    if core.impairs.get("suppress-retransmits"):
        state.logger.impair(f"suppressing retransmit {ex.retransmits}")
    else:
        state.logger.log(f"{state.kind.name}: retransmission; will wait "
                         f"{core.options.retransmit_interval * 2 ** ex.retransmits:g} "
                         "seconds for response")
        core.transmit(isakmp, ex.last_sent)
    _arm(core, isakmp, state)


def decrypt_payloads(isakmp: IsakmpSa, msg: Message, what: str
                     ) -> tuple[list[Payload], bytes] | None:
    """The payloads of ``msg``'s encrypted body and the bytes after its first payload (what
    HASH(1) covers); None, logged, when it does not decrypt or parse."""
    assert msg.encrypted is not None and isakmp.crypto is not None
    try:
        plaintext = isakmp.crypto.decrypt(msg.message_id, msg.encrypted.data)
        payloads, padding = parse_payloads(plaintext, msg.encrypted.first_payload)
        return payloads, after_first_payload(plaintext, padding)
    except (UndecryptableMessage, MalformedMessage) as err:
        isakmp.logger.log(f"cannot decrypt or parse the {what} message: {err}; dropping it")
        return None


def fail(core: Pluto, state: V1State, notify_type: int | None, reason: str) -> None:
    """A negotiation failed: whack hears why, the state goes, an initiator may try again."""
    core.logger.sink(state.logger.prefix + reason)
    rc = RC_NOTIFICATION + notify_type if notify_type is not None else outcome.RC_TIMEOUT
    outcome.release_whack(core, state, rc, state.logger.prefix + reason)
    retry = isinstance(state, IsakmpSa) and state.initiator and not state.kind.established
    conn, tries = state.conn, getattr(state, "keying_try", 1)
    outcome.delete_state(core, state)
    if retry:
        outcome.retry(core, conn, tries, state.logger)  # IKEv1 connections restart Main Mode


def exchange_name(exchange: int) -> str:
    try:
        return ExchangeType(exchange).name
    except ValueError:
        return str(exchange)
