"""An IKEv1 (ISAKMP major version 1) datagram arrives: parse it, find its state, run it.

Phase 1 messages (message ID 0) belong to the ISAKMP SA named by the cookies (the initiator
learns CKY-R from MR1); Quick Mode and Informational messages are found by cookies, then by
message ID. A repeat of the last message a state accepted gets our last answer again. The
commit bit (RFC 2408 §3.1) is ignored with a warning, as libreswan does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluto.engine.host import Endpoint, format_endpoint
from pluto.ikev1 import (
    dpd,
    established,
    informational,
    main_mode,
    messages,
    natt,
    quick_mode,
    transaction,
    transitions,
)
from pluto.ikev1.aggressive_mode import aggr_inI1_outR1
from pluto.ikev1.states import IsakmpSa, QuickSa, V1StateKind
from pluto.packet.errors import MalformedMessage
from pluto.packet.ikev1 import Message, parse_message
from pluto.packet.ikev1_types import COOKIE_SIZE, ExchangeType, HeaderFlag

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

ZERO_COOKIE = bytes(COOKIE_SIZE)
# an initiator learns CKY-R from the first answer (MR1, AR1)
_FIRST_INITIATOR_STATES = (V1StateKind.STATE_MAIN_I1, V1StateKind.STATE_AGGR_I1)
POLICIES = ("accept", "reject", "drop")


def policy(core: Pluto) -> str:
    """The core's ``ikev1-policy`` (libreswan's accept|reject|drop); IKEv1 is off unless
    it says accept."""
    return getattr(core.options, "ikev1_policy", "drop")


def packet_received(core: Pluto, data: bytes, local: Endpoint, remote: Endpoint) -> None:
    where = f"packet from {format_endpoint(remote)}"
    if policy(core) != "accept":
        core.logger.debug("base", f"{where}: IKEv1 message dropped (ikev1-policy="
                                  f"{policy(core)})")
        return
    try:
        msg = parse_message(data, core.logger)
    except MalformedMessage as err:
        core.logger.log(f"{where}: dropping malformed IKEv1 message: {err.reason}")
        return
    if msg.flags & HeaderFlag.COMMIT:
        core.logger.log(f"{where}: IKE message has the Commit Flag set but Pluto doesn't "
                        "support this feature; ignoring flag")
    if msg.rcookie == ZERO_COOKIE:
        _without_rcookie(core, msg, data, local, remote)
        return
    isakmp = core.states.by_spis(msg.icookie, msg.rcookie)
    if isakmp is None:
        isakmp = core.states.by_spis(msg.icookie, ZERO_COOKIE)  # MR1: CKY-R is news to us
        if not isinstance(isakmp, IsakmpSa) or isakmp.kind not in _FIRST_INITIATOR_STATES:
            core.logger.log(f"{where}: {messages.exchange_name(msg.exchange)} message has "
                            f"unknown cookies {msg.icookie.hex()}/{msg.rcookie.hex()}; "
                            "ignoring it")
            return
    if not isinstance(isakmp, IsakmpSa):
        return
    if msg.exchange == ExchangeType.INFORMATIONAL:
        informational.informational_in(core, isakmp, msg)
        return
    if msg.message_id == 0:
        natt.phase1_arrival(core, isakmp, msg.is_encrypted, local, remote)  # MI3 on 4500
        _phase1(core, isakmp, msg, data)
    elif msg.exchange == ExchangeType.QUICK:
        _quick(core, isakmp, msg, data)
    elif msg.exchange == ExchangeType.TRANSACTION:  # XAUTH, Mode Config
        transaction.message_in(core, isakmp, msg, data)
    else:
        isakmp.logger.log(f"unsupported IKEv1 exchange {messages.exchange_name(msg.exchange)};"
                          " ignoring it")


def _without_rcookie(core: Pluto, msg: Message, data: bytes, local: Endpoint,
                     remote: Endpoint) -> None:
    if msg.exchange == ExchangeType.INFORMATIONAL:  # the answer to our MI1, before MR1
        isakmp = core.states.by_spis(msg.icookie, ZERO_COOKIE)
        if isinstance(isakmp, IsakmpSa) and isakmp.remote == remote:
            informational.informational_in(core, isakmp, msg)
            return
    if msg.exchange not in (ExchangeType.MAIN, ExchangeType.AGGRESSIVE) or msg.message_id != 0:
        core.logger.log(f"packet from {format_endpoint(remote)}: IKEv1 "
                        f"{messages.exchange_name(msg.exchange)} message without a responder "
                        "cookie; ignoring it")
        return
    existing = core.states.by_init(msg.icookie, remote)
    if isinstance(existing, IsakmpSa):
        if not messages.answer_duplicate(core, existing, existing, data):
            existing.logger.debug("base", "MI1 for an existing ISAKMP SA; dropping it")
        return
    if not core.listening:
        return
    if msg.exchange == ExchangeType.AGGRESSIVE:
        aggr_inI1_outR1(core, msg, data, local, remote)
    else:
        main_mode.main_inI1_outR1(core, msg, data, local, remote)
    created = core.states.by_init(msg.icookie, remote)
    if isinstance(created, IsakmpSa):  # MI1 / AI1 announce DPD (RFC 3706 §5.1)
        dpd.note_vendor_ids(created, msg.payloads)


def _phase1(core: Pluto, isakmp: IsakmpSa, msg: Message, data: bytes) -> None:
    if messages.answer_duplicate(core, isakmp, isakmp, data):
        return
    transition = transitions.find(isakmp.kind, msg.exchange, msg.is_encrypted)
    if transition is None:
        isakmp.logger.log(f"{isakmp.kind.name}: unexpected "
                          f"{messages.exchange_name(msg.exchange)} message; ignoring it")
        return
    if msg.encrypted is None:
        dpd.note_vendor_ids(isakmp, msg.payloads)
    before = isakmp.kind
    transition.handler(core, isakmp, msg, data)
    established.after_transition(core, isakmp, before)


def _quick(core: Pluto, isakmp: IsakmpSa, msg: Message, data: bytes) -> None:
    if not isakmp.kind.established:
        isakmp.logger.log("Quick Mode message before the ISAKMP SA is established; "
                          "ignoring it")
        return
    serial = isakmp.phase2.get(msg.message_id)
    if serial is None:
        if msg.message_id in isakmp.seen_ids:
            isakmp.logger.debug("base", f"Quick Mode message ID {msg.message_id:#x} was used "
                                        "before; dropping it")
            return
        quick_mode.quick_inI1_outR1(core, isakmp, msg, data)
        return
    quick = core.states.get(serial)
    if not isinstance(quick, QuickSa):
        return
    if messages.answer_duplicate(core, isakmp, quick, data):
        return
    transition = transitions.find(quick.kind, msg.exchange, msg.is_encrypted)
    if transition is None:
        quick.logger.log(f"{quick.kind.name}: unexpected Quick Mode message; ignoring it")
        return
    before = quick.kind
    transition.handler(core, isakmp, quick, msg, data)
    established.after_transition(core, quick, before)
