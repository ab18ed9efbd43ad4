"""Rekeying the IKE SA with CREATE_CHILD_SA (RFC 7296 §1.3.2, §2.18, §2.8.2).

    rekey_ike        (initiator) SK{SA(IKE, new SPIi), Ni, KEi}  -> new IKE SA in REKEY_IKE_I1
    process_request  (responder) SK{SA(IKE, new SPIr), Nr, KEr}  -> new IKE SA established
    the response     (initiator) the new IKE SA takes over the Child SAs; the old is deleted

The new IKE SA's keys come from the old SA's SK_d. When both ends rekey the same IKE SA at
once, the new IKE SA made by the exchange with the lowest nonce is redundant and deleted by
the end that initiated that exchange; the Child SAs end up on the other one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluto.crypto.ke import InvalidKeyExchange
from pluto.crypto.proposals import parse_ike
from pluto.engine import lifetimes, outcome
from pluto.engine.states import ChildSa, IkeSa, StateKind
from pluto.ikev2 import informational, messages
from pluto.ikev2.create_child_common import (
    find,
    first_error,
    nonce_key,
    refuse,
    rekey_in_progress,
    suggested_group,
)
from pluto.ikev2.ike_sa_init import NONCE_SIZE, describe_ike_algorithms
from pluto.ikev2.keys import derive_rekeyed_ike_sa_keys
from pluto.ikev2.negotiation import (
    NoProposalChosen,
    accept_answer,
    choose,
    offered_ke,
    proposals_to_sa,
)
from pluto.ikev2.protection import Protector
from pluto.packet.ikev2 import KEPayload, Message, NoncePayload, Payload, SAPayload
from pluto.packet.ikev2_types import ExchangeType, NotifyType
from pluto.whack_protocol import RC_NOTIFICATION

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

CREATE_CHILD_SA = ExchangeType.CREATE_CHILD_SA


# --- initiator -----------------------------------------------------------------------------


def rekey_ike(core: Pluto, old: IkeSa, whack=None) -> IkeSa | None:
    """Start rekeying ``old``: the new IKE SA is larval (REKEY_IKE_I1) until answered."""
    if not old.kind.established or old.rekeyed_to or old.protector is None:
        return None
    if rekey_in_progress(core, old):
        old.logger.log("IKE SA is already being rekeyed")
        return None
    new = core.new_ike(old.conn, initiator=True, local=old.local, remote=old.remote,
                       spi_i=core.rand.spi_i(core.impairs, old.logger),
                       kind=StateKind.STATE_V2_REKEY_IKE_I1)
    new.whack, new.rekey_of = whack, old.serial
    new.ike_proposals = parse_ike(old.conn.ike)
    new.ke_group = old.chosen.ke
    messages.when_idle(core, old, lambda: _send_ike_rekey(core, old, new))
    return new


def _send_ike_rekey(core: Pluto, old: IkeSa, new: IkeSa) -> None:
    if core.states.get(new.serial) is not new:
        return
    new.keypair = new.ke_group.implementation().generate(core.rand)
    new.ni = core.rand.nonce(NONCE_SIZE, core.impairs, new.logger)
    new.offered_sa = proposals_to_sa(new.ike_proposals, spi=new.spi_i)
    payloads = [new.offered_sa, NoncePayload(data=new.ni),
                KEPayload(dh_group=new.ke_group.ikev2_id, data=new.keypair.public)]
    messages.send_request(core, old, CREATE_CHILD_SA, payloads, encrypted=True,
                          on_response=lambda c, i, m, p, d: _ike_rekey_response(c, i, new, p))
    core.log_new_state(new, f"sent CREATE_CHILD_SA request to rekey IKE SA #{old.serial}")


def _ike_rekey_response(core: Pluto, old: IkeSa, new: IkeSa, payloads: list[Payload]) -> None:
    if core.states.get(new.serial) is not new:
        return
    error = first_error(payloads)
    if error is not None and error.notify_type == NotifyType.INVALID_KE_PAYLOAD:
        group = suggested_group(error)
        ke = offered_ke(new.ike_proposals, group) if group is not None else None
        if ke is not None and ke is not new.ke_group:
            new.logger.log(f"received INVALID_KE_PAYLOAD response to {new.ke_group.fqn}; "
                           f"resending CREATE_CHILD_SA request with {ke.fqn}")
            new.ke_group = ke
            _send_ike_rekey(core, old, new)
            return
    if error is not None:
        _ike_rekey_failed(core, new, error.notify_type, "rekey of IKE SA failed: peer "
                          f"answered {messages.notify_name(error.notify_type)}")
        return
    sa, nonce, ke = (find(payloads, SAPayload), find(payloads, NoncePayload),
                     find(payloads, KEPayload))
    if sa is None or nonce is None or ke is None:
        _ike_rekey_failed(core, new, NotifyType.INVALID_SYNTAX,
                          "IKE SA rekey response lacks SA, Nr or KEr")
        return
    try:
        chosen = accept_answer(new.offered_sa, sa, logger=core.logger)
    except NoProposalChosen as err:
        _ike_rekey_failed(core, new, NotifyType.NO_PROPOSAL_CHOSEN,
                          f"IKE SA rekey response has an unacceptable proposal: {err}")
        return
    if chosen.ke is None or chosen.ke.ikev2_id != ke.dh_group \
            or ke.dh_group != new.ke_group.ikev2_id or len(chosen.spi) != 8:
        _ike_rekey_failed(core, new, NotifyType.INVALID_SYNTAX,
                          "IKE SA rekey response has the wrong KE group or SPI")
        return
    try:
        g_ir = new.keypair.shared_secret(ke.data)
    except InvalidKeyExchange as err:
        _ike_rekey_failed(core, new, NotifyType.INVALID_SYNTAX, f"peer's KE is invalid: {err}")
        return
    new.nr, new.chosen = nonce.data, chosen
    core.states.rekeyed_spis(new, chosen.spi)
    new.keys = derive_rekeyed_ike_sa_keys(old.keys, chosen, new.ni, new.nr, g_ir,
                                          new.spi_i, new.spi_r)
    new.protector = Protector(new.keys, initiator=True, logger=core.logger)
    rival = next((s for s in core.states.rekeys_of(old.serial)
                  if s is not new and s.kind.established), None)
    _take_over(core, old, new)
    outcome.succeeded(core, new, f"initiator rekeyed IKE SA #{old.serial} "
                                 f"{{{describe_ike_algorithms(chosen)}}}")
    if rival is not None and nonce_key(new.ni, new.nr) < nonce_key(rival.ni, rival.nr):
        new.logger.log(f"simultaneous rekey of IKE SA #{old.serial}: this exchange has the "
                       "lowest nonce; deleting the redundant IKE SA")
        _move_children(core, new, rival)
        old.rekeyed_to = rival.serial
        informational.delete_replaced_ike_sa(core, new)
        return
    if rival is not None:
        # The Child SAs went to the peer's new IKE SA when we answered it: they come here.
        new.logger.log(f"simultaneous rekey of IKE SA #{old.serial}: the peer's IKE SA "
                       f"#{rival.serial} is redundant and the peer deletes it")
        _move_children(core, rival, new)
    informational.delete_replaced_ike_sa(core, old)


def _ike_rekey_failed(core: Pluto, new: IkeSa, notify_type: int, text: str) -> None:
    core.logger.sink(new.logger.prefix + text)
    outcome.release_whack(core, new, RC_NOTIFICATION + notify_type, new.logger.prefix + text)
    outcome.delete_state(core, new)


def _move_children(core: Pluto, src: IkeSa, dst: IkeSa) -> None:
    for serial in list(src.children):
        child = core.states.get(serial)
        if isinstance(child, ChildSa) and child.kind.established:
            src.children.remove(serial)
            child.ike_serial = dst.serial
            dst.children.append(serial)


def _take_over(core: Pluto, old: IkeSa, new: IkeSa) -> None:
    """``new`` replaces ``old``: same peer, the Child SAs move, lifetimes start again."""
    new.peer_id = old.peer_id
    new.local, new.remote = old.local, old.remote
    _move_children(core, old, new)
    old.rekeyed_to = new.serial
    core.cancel(old, "rekey")
    core.cancel(old, "liveness")
    core.change_state(new, StateKind.STATE_V2_ESTABLISHED_IKE_SA)
    new.established_at = core.clock.now()
    lifetimes.schedule_ike(core, new)


# --- responder -----------------------------------------------------------------------------


def process_request(core: Pluto, ike: IkeSa, msg: Message, payloads: list[Payload],
                      sa: SAPayload, nonce: NoncePayload) -> None:
    ke = find(payloads, KEPayload)
    if ke is None:
        refuse(core, ike, msg, NotifyType.INVALID_SYNTAX, "IKE SA rekey request lacks KEi")
        return
    try:
        chosen = choose(parse_ike(ike.conn.ike), sa, ke_hint=ke.dh_group, logger=core.logger)
    except NoProposalChosen as err:
        refuse(core, ike, msg, NotifyType.NO_PROPOSAL_CHOSEN,
                f"no acceptable IKE SA rekey proposal ({err})")
        return
    if chosen.ke is None or chosen.ke.ikev2_id != ke.dh_group:
        wanted = chosen.ke.ikev2_id if chosen.ke else 0
        refuse(core, ike, msg, NotifyType.INVALID_KE_PAYLOAD,
                f"IKE SA rekey KE is for group {ke.dh_group}", wanted.to_bytes(2, "big"))
        return
    if len(chosen.spi) != 8:
        refuse(core, ike, msg, NotifyType.INVALID_SYNTAX,
                f"IKE SA rekey proposal has a {len(chosen.spi)}-byte SPI")
        return
    keypair = chosen.ke.implementation().generate(core.rand)
    try:
        g_ir = keypair.shared_secret(ke.data)
    except InvalidKeyExchange as err:
        refuse(core, ike, msg, NotifyType.INVALID_SYNTAX, f"peer's KE is invalid ({err})")
        return
    # The rekey's initiator is the new IKE SA's original initiator (§2.18).
    new = core.new_ike(ike.conn, initiator=False, local=ike.local, remote=ike.remote,
                       spi_i=chosen.spi, kind=StateKind.STATE_V2_REKEY_IKE_I1)
    new.rekey_of = ike.serial
    core.states.rekeyed_spis(new, core.rand.spi_r(core.impairs, new.logger))
    new.ni, new.nr = nonce.data, core.rand.nonce(NONCE_SIZE, core.impairs, new.logger)
    new.chosen, new.keypair, new.ke_group = chosen, keypair, chosen.ke
    new.keys = derive_rekeyed_ike_sa_keys(ike.keys, chosen, new.ni, new.nr, g_ir,
                                          new.spi_i, new.spi_r)
    new.protector = Protector(new.keys, initiator=False, logger=core.logger)
    messages.send_response(core, ike, msg, [chosen.to_sa(new.spi_r), NoncePayload(data=new.nr),
                                            KEPayload(dh_group=chosen.ke.ikev2_id,
                                                      data=keypair.public)], encrypted=True)
    ours = next((s for s in core.states.rekeys_of(ike.serial)
                 if s is not new and s.initiator), None)
    if ours is not None and ours.kind.established:
        # Our own rekey finished first (the peer's request was late): keep the children.
        core.change_state(new, StateKind.STATE_V2_ESTABLISHED_IKE_SA)
        new.peer_id = ike.peer_id
        new.established_at = core.clock.now()
        lifetimes.schedule_ike(core, new)
    else:
        _take_over(core, ike, new)
    core.log_new_state(new, f"responder rekeyed IKE SA #{ike.serial} "
                            f"{{{describe_ike_algorithms(chosen)}}}")
