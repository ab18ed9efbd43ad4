"""INFORMATIONAL exchanges (RFC 7296 §1.4): Delete of Child and IKE SAs, empty liveness checks.

    delete_sa         (either side) send SK{D(ESP, our inbound SPI)} or SK{D(IKE)}
    delete_replaced_ike_sa  after a rekey: SK{D(IKE)} on the old SA, kept until answered
    process_request   answer Deletes with the matching SPIs (§1.4.1), answer empty requests
    delete_everything shutdown: every IKE SA is deleted, each peer told once
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pluto.engine import outcome, revival
from pluto.engine.states import ChildSa, IkeSa, State, StateKind
from pluto.ikev2 import messages
from pluto.impair import REGISTRY, ImpairSpec, Kind, register
from pluto.packet.ikev2 import DeletePayload, Message, Payload
from pluto.packet.ikev2_types import ExchangeType, ProtocolId

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

INFORMATIONAL = ExchangeType.INFORMATIONAL

if "send-no-delete" not in REGISTRY:
    register(ImpairSpec("send-no-delete", Kind.BOOLEAN,
                        "delete SAs without telling the peer (no Delete payload is sent)"))
if "liveness" not in REGISTRY:
    register(ImpairSpec("liveness", Kind.ACTION,
                        "send a liveness probe (empty INFORMATIONAL) on IKE SA #N now"))


def _aged(core: Pluto, state: State) -> str:
    return f"aged {core.clock.now() - state.created:.3f}s"


def delete_sa(core: Pluto, state: State) -> None:
    """Delete ``state`` (an IKE SA with its children, or one Child SA), telling the peer."""
    from pluto.ikev1 import informational as ikev1_informational
    from pluto.ikev1.states import IsakmpSa, QuickSa

    if isinstance(state, IsakmpSa | QuickSa):  # whack and shutdown reach IKEv1 states here
        ikev1_informational.delete_sa(core, state)
        return
    ike = state if isinstance(state, IkeSa) else core.states.ike(state.ike_serial)
    if ike is None or not ike.kind.established or ike.protector is None:
        outcome.delete_state(core, state)
        return
    state.logger.log(f"deleting state ({state.kind.name}) {_aged(core, state)} and sending "
                     "notification")
    if isinstance(state, ChildSa):
        _log_traffic(core, state)
    if core.impairs.get("send-no-delete"):
        state.logger.impair("not sending a Delete payload")
        outcome.delete_state(core, state)
        return
    if isinstance(state, IkeSa):
        for child in core.states.children_of(state):
            _log_traffic(core, child)
        payload = DeletePayload(protocol=ProtocolId.IKE)
        # The IKE SA goes now: its response would find nothing to do (libreswan does the same).
        _send_once(core, ike, [payload])
        outcome.delete_state(core, ike)
        return
    payload = DeletePayload(protocol=ProtocolId.ESP, spis=[state.inbound_spi.to_bytes(4, "big")])
    # A window of one: behind an outstanding request, the Delete waits its turn; the state
    # (and its kernel SAs) goes now.
    messages.when_idle(core, ike, lambda: messages.send_request(
        core, ike, INFORMATIONAL, [payload], encrypted=True,
        on_response=_delete_child_answered))
    outcome.delete_state(core, state)


def delete_replaced_ike_sa(core: Pluto, ike: IkeSa) -> None:
    """Delete an IKE SA that a rekey replaced (or made redundant), waiting for the answer.

    Its Child SAs have moved on, so nothing is lost by waiting: the SA stays, as a zombie
    that nothing else uses, until the peer answers the Delete (RFC 7296 §1.4.1: the response
    to an INFORMATIONAL request comes back on the SA it was sent on) or its retransmits run
    out. Dropping it at once made the answer arrive for unknown SPIs.
    """
    if (ike.outstanding is not None or ike.queued or not ike.kind.established
            or ike.protector is None or core.impairs.get("send-no-delete")):
        delete_sa(core, ike)  # busy, unkeyed or impaired: the usual immediate delete
        return
    ike.logger.log(f"deleting state ({ike.kind.name}) {_aged(core, ike)} and sending "
                   "notification")
    for child in core.states.children_of(ike):
        _log_traffic(core, child)
        outcome.delete_state(core, child)
    for event in list(ike.timers):
        core.cancel(ike, event)
    core.change_state(ike, StateKind.STATE_V2_ZOMBIE)
    # Retransmits as for any request; the give-up timer below ends them quietly (a replaced
    # SA whose Delete goes unanswered is no dead peer to revive).
    messages.send_request(core, ike, INFORMATIONAL, [DeletePayload(protocol=ProtocolId.IKE)],
                          encrypted=True, on_response=_delete_ike_answered, timeout=math.inf)
    core.schedule(ike, "delete-answer", core.options.retransmit_timeout,
                  lambda: _delete_ike_unanswered(core, ike))


def _delete_ike_answered(core: Pluto, ike: IkeSa, msg: Message, payloads: list[Payload],
                         data: bytes) -> None:
    ike.logger.debug("base", f"#{ike.serial}: peer confirmed the IKE SA delete")
    outcome.delete_state(core, ike)


def _delete_ike_unanswered(core: Pluto, ike: IkeSa) -> None:
    if core.states.get(ike.serial) is not ike:
        return
    ike.logger.log(f"no answer to the Delete of the replaced IKE SA within "
                   f"{core.options.retransmit_timeout:g}s; forgetting it")
    outcome.delete_state(core, ike)


def _send_once(core: Pluto, ike: IkeSa, payloads: list[Payload]) -> None:
    """A request we do not wait for (the IKE SA is going away)."""
    message_id = ike.next_request_id
    ike.next_request_id += 1
    msg = messages.header(ike, INFORMATIONAL, response=False, message_id=message_id)
    core.transmit(ike, messages.encode(core, ike, msg, payloads))


def _delete_child_answered(core: Pluto, ike: IkeSa, msg: Message, payloads: list[Payload],
                           data: bytes) -> None:
    core.logger.debug("base", f"#{ike.serial}: peer confirmed the Child SA delete")


def _log_traffic(core: Pluto, child: ChildSa) -> None:
    ins = outs = 0
    for sa in child.sas:
        try:
            counters = core.kernel.sa_counters(sa.id)
        except Exception:  # noqa: BLE001 - a vanished SA counts as zero
            continue
        if sa.id.spi == child.inbound_spi:
            ins = counters.bytes
        else:
            outs = counters.bytes
    child.logger.log(f"ESP traffic information: in={ins}B out={outs}B")


def process_request(core: Pluto, ike: IkeSa, msg: Message, payloads: list[Payload],
                    data: bytes) -> None:
    deletes = [p for p in payloads if isinstance(p, DeletePayload)]
    if not deletes:
        messages.send_response(core, ike, msg, [], encrypted=True)
        return
    if any(d.protocol == ProtocolId.IKE for d in deletes):
        ike.logger.log("received Delete SA payload: deleting IKE SA and its Child SAs")
        messages.send_response(core, ike, msg, [], encrypted=True)
        for child in core.states.children_of(ike):
            _log_traffic(core, child)
        outcome.delete_state(core, ike)
        revival.after_peer_delete(core, ike)
        return
    ours: list[bytes] = []
    gone: list[ChildSa] = []
    children = {c.outbound_spi: c for c in core.states.children_of(ike)}
    for delete in deletes:
        if delete.protocol != ProtocolId.ESP:
            continue
        for spi in delete.spis:
            child = children.get(int.from_bytes(spi, "big"))
            if child is None:
                ike.logger.log(f"received Delete SA payload for unknown SPI 0x{spi.hex()}; "
                               "ignoring it")
                continue
            child.logger.log(f"received Delete SA payload: deleting Child SA "
                             f"(ESP SPI 0x{spi.hex()})")
            _log_traffic(core, child)
            ours.append(child.inbound_spi.to_bytes(4, "big"))
            outcome.delete_state(core, child)
            gone.append(child)
    answer = [DeletePayload(protocol=ProtocolId.ESP, spis=ours)] if ours else []
    messages.send_response(core, ike, msg, answer, encrypted=True)
    for child in gone:  # after the answer: a revival's CREATE_CHILD_SA must wait its turn
        revival.after_peer_delete(core, child)


def send_liveness(core: Pluto, ike: IkeSa, timeout: float | None = None) -> None:
    """An empty INFORMATIONAL request: the peer must answer it (DPD) within ``timeout``."""
    if ike.outstanding is not None:
        return
    ike.logger.debug("base", f"#{ike.serial}: sending liveness probe")
    messages.send_request(core, ike, INFORMATIONAL, [], encrypted=True,
                          on_response=_liveness_answered, timeout=timeout)


def _liveness_answered(core: Pluto, ike: IkeSa, msg: Message, payloads: list[Payload],
                       data: bytes) -> None:
    ike.logger.debug("base", f"#{ike.serial}: peer answered the liveness probe")


def terminate_connection(core: Pluto, conn) -> int:
    """Delete every state of ``conn`` (IKE SAs take their children); how many went."""
    states = [s for s in core.states if s.conn is conn or
              (s.conn.template is conn if s.conn.template is not None else False)]
    count = 0
    for state in states:
        if core.states.get(state.serial) is None:
            continue
        if isinstance(state, ChildSa) and core.states.ike(state.ike_serial) is not None \
                and core.states.ike(state.ike_serial).conn is state.conn:
            continue  # goes with its IKE SA
        delete_sa(core, state)
        count += 1
    return count


def delete_everything(core: Pluto) -> None:
    for state in list(core.states):
        if core.states.get(state.serial) is None:
            continue
        if isinstance(state, IkeSa):
            delete_sa(core, state)
    for state in list(core.states):
        outcome.delete_state(core, state)
