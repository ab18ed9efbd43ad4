"""CREATE_CHILD_SA (RFC 7296 §1.3, §2.8, §2.17, §2.18): new Child SAs and rekeys.

    initiate_child   (initiator) SK{SA, Ni, [KEi], TSi, TSr}              -> NEW_CHILD_I1
    rekey_child      (initiator) SK{N(REKEY_SA), SA, Ni, [KEi], TSi, TSr} -> REKEY_CHILD_I1
    process_request  (responder) SK{SA, Nr, [KEr], TSi, TSr}; an IKE SA rekey request goes
                     to rekey_ike.py (which also has the initiator's side)
    responses        (initiator) install the Child SA

After a rekey the initiator deletes the old SA with an INFORMATIONAL Delete; the new SAs are
already in the kernel (sharing the old SA's policies and reqid). When both ends rekey the same
SA at once, the SA created by the exchange holding the lowest of the four nonces is redundant:
the end that initiated that exchange deletes it, the other deletes the old SA (§2.8.1, §2.8.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pluto.connections.connection import Connection, Kind
from pluto.crypto.ke import InvalidKeyExchange
from pluto.crypto.proposals import parse_esp
from pluto.engine import child_sas, lifetimes, outcome
from pluto.engine.states import ChildSa, IkeSa, State, StateKind
from pluto.ikev2 import informational, messages, nat
from pluto.ikev2 import rekey_ike as ike_rekeying
from pluto.ikev2.create_child_common import (
    find,
    find_notify,
    first_error,
    nonce_key,
    refuse,
    rekey_in_progress,
    suggested_group,
)
from pluto.ikev2.ike_sa_init import NONCE_SIZE
from pluto.ikev2.keys import derive_child_sa_keys
from pluto.ikev2.negotiation import (
    NoProposalChosen,
    accept_answer,
    choose,
    offered_ke,
    proposals_to_sa,
    with_child_ke,
    without_ke,
)
from pluto.ikev2.ts import narrow, narrow_peer, network_of, selectors_for, within
from pluto.impair import REGISTRY, ImpairSpec, register
from pluto.impair import Kind as ImpairKind
from pluto.kernel.ops import KernelError
from pluto.packet.ikev2 import (
    KEPayload,
    Message,
    NoncePayload,
    Payload,
    SAPayload,
    TSiPayload,
    TSrPayload,
)
from pluto.packet.ikev2_types import ExchangeType, NotifyType, ProtocolId
from pluto.whack_protocol import RC_NOTIFICATION

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

CREATE_CHILD_SA = ExchangeType.CREATE_CHILD_SA
# The IKE SA rekey lives in rekey_ike.py; whack and the lifetimes start it through here too.
rekey_ike = ike_rekeying.rekey_ike

for _name, _help in (("rekey-ike", "rekey the IKE SA of state #N now"),
                     ("rekey-child", "rekey the Child SA #N now"),
                     ("replace", "replace state #N now: delete it and negotiate it again")):
    if _name not in REGISTRY:
        register(ImpairSpec(_name, ImpairKind.ACTION, _help))


@dataclass
class _Offer:
    """Our CREATE_CHILD_SA request, kept to check the answer against."""

    sa: SAPayload
    proposals: list
    ke: Any  # KeAlgorithm or None
    keypair: Any
    ni: bytes


def esp_proposals(conn: Connection, ike: IkeSa) -> list:
    """``esp=`` for CREATE_CHILD_SA: with PFS, proposals without a group get the IKE SA's."""
    proposals = parse_esp(conn.esp, pfs=conn.policy.pfs)
    if conn.policy.pfs and ike.chosen is not None and ike.chosen.ke is not None:
        return with_child_ke(proposals, ike.chosen.ke)
    return without_ke(proposals)


# --- which IKE SA a new Child SA can use -------------------------------------------------


def usable_ike_sa(core: Pluto, conn: Connection) -> IkeSa | None:
    """An established IKE SA to the peer of ``conn`` with the same IDs, newest first."""
    if conn.that.host is None:
        return None
    local, remote = (conn.this.host, conn.this.ikeport), (conn.that.host, conn.that.ikeport)
    found = None
    for state in core.states:
        if not isinstance(state, IkeSa) or not state.kind.established or state.rekeyed_to:
            continue
        if not nat.same_path(state, local, remote):
            continue
        wanted = conn.that.identity()
        if state.conn.this.identity() != conn.this.identity() or (
                wanted is not None and state.peer_id is not None
                and not wanted.matches(state.peer_id)):
            continue
        found = state
    return found


# --- initiator: new Child SA and Child SA rekey --------------------------------------------


def initiate_child(core: Pluto, ike: IkeSa, conn: Connection, whack=None,
                   replacing: ChildSa | None = None) -> ChildSa:
    """Start a CREATE_CHILD_SA exchange for a new Child SA (or to rekey ``replacing``)."""
    kind = StateKind.STATE_V2_REKEY_CHILD_I1 if replacing else StateKind.STATE_V2_NEW_CHILD_I1
    child = core.new_child(ike, conn, kind, initiator=True)
    child.whack = whack
    if replacing is not None:
        child.replacing = replacing.serial
        child.local_ts, child.remote_ts = replacing.local_ts, replacing.remote_ts
    else:
        child.local_ts, child.remote_ts = conn.this.selector(), conn.that.selector()
    messages.when_idle(core, ike, lambda: _send_child_request(core, ike, child, None))
    return child


def rekey_child(core: Pluto, old: ChildSa, whack=None) -> ChildSa | None:
    ike = core.states.ike(old.ike_serial)
    if ike is None or not ike.kind.established or not old.kind.established:
        return None
    if rekey_in_progress(core, old):
        old.logger.log("Child SA is already being rekeyed")
        return None
    return initiate_child(core, ike, old.conn, whack=whack, replacing=old)


def _send_child_request(core: Pluto, ike: IkeSa, child: ChildSa, ke) -> None:
    if core.states.get(child.serial) is not child:
        return  # deleted while waiting for the window
    conn = child.conn
    old = core.states.get(child.replacing) if child.replacing else None
    if child.replacing and not isinstance(old, ChildSa):
        child.logger.log(f"Child SA #{child.replacing} went away before its rekey started")
        outcome.release_whack(core, child, RC_NOTIFICATION + NotifyType.CHILD_SA_NOT_FOUND)
        outcome.delete_state(core, child)
        return
    if not child.inbound_spi:
        child.inbound_spi = core.kernel.allocate_spi("esp", ike.remote[0], ike.local[0])
    proposals = esp_proposals(conn, ike)
    if ke is None and proposals[0].ke:
        ke = proposals[0].ke[0]
    keypair = ke.implementation().generate(core.rand) if ke is not None else None
    ni = core.rand.nonce(NONCE_SIZE, core.impairs, child.logger)
    sa = proposals_to_sa(proposals, spi=child.inbound_spi.to_bytes(4, "big"))
    child.offer = _Offer(sa, proposals, ke, keypair, ni)
    payloads: list[Payload] = []
    if isinstance(old, ChildSa):
        payloads.append(messages.notify(NotifyType.REKEY_SA, protocol=ProtocolId.ESP,
                                        spi=old.inbound_spi.to_bytes(4, "big")))
    if not conn.policy.tunnel:
        payloads.append(messages.notify(NotifyType.USE_TRANSPORT_MODE))
    payloads += [sa, NoncePayload(data=ni)]
    if keypair is not None:
        payloads.append(KEPayload(dh_group=ke.ikev2_id, data=keypair.public))
    payloads += [TSiPayload(selectors=[selectors_for(child.local_ts)]),
                 TSrPayload(selectors=[selectors_for(child.remote_ts)])]
    messages.send_request(core, ike, CREATE_CHILD_SA, payloads, encrypted=True,
                          on_response=lambda c, i, m, p, d: _child_response(c, i, child, m, p))
    what = f"to rekey Child SA #{old.serial}" if isinstance(old, ChildSa) else \
        "for new IPsec SA"
    core.log_new_state(child, f"sent CREATE_CHILD_SA request {what} using IKE SA #{ike.serial}"
                              f"{' (PFS ' + ke.fqn + ')' if ke is not None else ''}")


def _child_response(core: Pluto, ike: IkeSa, child: ChildSa, msg: Message,
                    payloads: list[Payload]) -> None:
    if core.states.get(child.serial) is not child:
        return
    offer: _Offer = child.offer
    error = first_error(payloads)
    if error is not None and error.notify_type == NotifyType.INVALID_KE_PAYLOAD:
        group = suggested_group(error)
        ke = offered_ke(offer.proposals, group) if group is not None else None
        if ke is not None and ke is not offer.ke:
            child.logger.log(f"received INVALID_KE_PAYLOAD response to "
                             f"{offer.ke.fqn if offer.ke else 'no KE'}; resending "
                             f"CREATE_CHILD_SA request with {ke.fqn}")
            _send_child_request(core, ike, child, ke)
            return
    if error is not None:
        _child_failed(core, child, error.notify_type,
                      f"CREATE_CHILD_SA failed: peer answered "
                      f"{messages.notify_name(error.notify_type)}")
        return
    sa, nonce = find(payloads, SAPayload), find(payloads, NoncePayload)
    tsi, tsr = find(payloads, TSiPayload), find(payloads, TSrPayload)
    if sa is None or nonce is None or tsi is None or tsr is None:
        _child_failed(core, child, NotifyType.INVALID_SYNTAX,
                      "CREATE_CHILD_SA response lacks SA, Nr, TSi or TSr")
        return
    try:
        chosen = accept_answer(offer.sa, sa, logger=core.logger)
    except NoProposalChosen as err:
        _child_failed(core, child, NotifyType.NO_PROPOSAL_CHOSEN,
                      f"CREATE_CHILD_SA response has an unacceptable proposal: {err}")
        return
    g_ir = _shared_secret(core, child, chosen, offer, find(payloads, KEPayload))
    if g_ir is False:
        return
    if len(tsi.selectors) != 1 or len(tsr.selectors) != 1 or not within(
            tsi.selectors[0], child.local_ts) or not within(tsr.selectors[0], child.remote_ts):
        _child_failed(core, child, NotifyType.TS_UNACCEPTABLE,
                      "traffic selectors of the CREATE_CHILD_SA response are not within ours")
        return
    child.chosen = chosen
    child.outbound_spi = int.from_bytes(chosen.spi, "big")
    child.local_ts = network_of(tsi.selectors[0]) or child.local_ts
    child.remote_ts = network_of(tsr.selectors[0]) or child.remote_ts
    child.ni, child.nr = offer.ni, nonce.data
    child.offer = None
    keys = derive_child_sa_keys(ike.keys, chosen, child.ni, child.nr, g_ir)
    old = core.states.get(child.replacing) if child.replacing else None
    old = old if isinstance(old, ChildSa) else None
    if not _establish(core, ike, child, keys, old):
        return
    verb = f"rekeyed Child SA #{old.serial}" if old is not None else "established Child SA"
    outcome.succeeded(core, child, f"initiator {verb} using #{ike.serial}; "
                                   f"{child_sas.tunnel_text(child)}")
    if old is not None:
        _finish_child_rekey(core, ike, child, old)


def _shared_secret(core: Pluto, child: ChildSa, chosen, offer: _Offer, ke: KEPayload | None):
    """g^ir of the answer's KE (None without PFS); False after failing the child."""
    if chosen.ke is None:
        return None
    if ke is None or offer.ke is None or ke.dh_group != chosen.ke.ikev2_id \
            or chosen.ke.ikev2_id != offer.ke.ikev2_id:
        _child_failed(core, child, NotifyType.INVALID_KE_PAYLOAD,
                      "CREATE_CHILD_SA response KE is missing or not for our group")
        return False
    try:
        return offer.keypair.shared_secret(ke.data)
    except InvalidKeyExchange as err:
        _child_failed(core, child, NotifyType.INVALID_SYNTAX, f"peer's KE is invalid: {err}")
        return False


def _establish(core: Pluto, ike: IkeSa, child: ChildSa, keys, old: ChildSa | None) -> bool:
    """Initiator: the peer has the Child SA already; if our kernel refuses it, the peer is
    told to delete its half."""
    try:
        child_sas.install(core, ike, child, keys, replacing=old)
    except KernelError as err:
        from pluto.ikev2 import ike_auth

        ike_auth.child_unusable(core, child, f"kernel refused the Child SA: {err}")
        return False
    _established(core, child, old)
    return True


def _established(core: Pluto, child: ChildSa, old: ChildSa | None) -> None:
    core.change_state(child, StateKind.STATE_V2_ESTABLISHED_CHILD_SA)
    child.established_at = core.clock.now()
    lifetimes.schedule_child(core, child)
    if old is not None:
        core.cancel(old, "rekey")  # replaced: only its deletion is left


def _child_failed(core: Pluto, child: ChildSa, notify_type: int | None, text: str) -> None:
    core.logger.sink(child.logger.prefix + text)
    outcome.release_whack(core, child, RC_NOTIFICATION + (notify_type or 0),
                          child.logger.prefix + text)
    outcome.delete_state(core, child)


def _finish_child_rekey(core: Pluto, ike: IkeSa, child: ChildSa, old: ChildSa) -> None:
    """Our rekey of ``old`` is done: delete the old SA, or our new one if it is redundant."""
    rival = next((c for c in core.states.children_of(ike) if c is not child
                  and c.replacing == old.serial and not c.initiator
                  and c.kind.established), None)
    if rival is not None:
        if nonce_key(child.ni, child.nr) < nonce_key(rival.ni, rival.nr):
            child.logger.log(f"simultaneous rekey of Child SA #{old.serial}: this exchange "
                             "has the lowest nonce; deleting the redundant Child SA")
            informational.delete_sa(core, child)
            return
        child.logger.log(f"simultaneous rekey of Child SA #{old.serial}: the peer's Child SA "
                         f"#{rival.serial} is redundant and the peer deletes it")
    informational.delete_sa(core, old)


# --- responder -----------------------------------------------------------------------------


def process_request(core: Pluto, ike: IkeSa, msg: Message, payloads: list[Payload],
                    data: bytes) -> None:
    sa, nonce = find(payloads, SAPayload), find(payloads, NoncePayload)
    if sa is None or nonce is None or not sa.proposals:
        refuse(core, ike, msg, NotifyType.INVALID_SYNTAX,
                "CREATE_CHILD_SA request lacks SA or Ni")
        return
    if ike.rekeyed_to:
        refuse(core, ike, msg, NotifyType.TEMPORARY_FAILURE,
                f"CREATE_CHILD_SA request on IKE SA rekeyed to #{ike.rekeyed_to}")
        return
    if sa.proposals[0].protocol == ProtocolId.IKE:
        ike_rekeying.process_request(core, ike, msg, payloads, sa, nonce)
    else:
        _answer_child(core, ike, msg, payloads, sa, nonce)


def _connection_for(core: Pluto, ike: IkeSa, tsi, tsr) -> tuple[Connection, Any, Any] | None:
    """The connection whose subnets fit the proposed selectors.

    Among those that fit, one without a Child SA on this IKE SA yet comes first (a new Child
    SA is for another connection, or for one whose Child SA is gone), then the IKE SA's own.
    """
    candidates = [ike.conn] + [
        c for c in core.connections.candidates_for(nat.ike_port_endpoint(ike), ike.remote)
        if c is not ike.conn and c.kind is Kind.PERMANENT
        and c.this.identity() == ike.conn.this.identity()]
    busy = {c.conn.name for c in core.states.children_of(ike) if c.kind.established}
    fits = []
    for conn in candidates:
        narrowed_i = narrow_peer(conn.that, tsi.selectors, core.options.virtual_private)
        narrowed_r = narrow(conn.this.selector(), tsr.selectors)
        if narrowed_i is not None and narrowed_r is not None:
            fits.append((conn.name in busy, conn, narrowed_i, narrowed_r))
    if not fits:
        return None
    _busy, conn, narrowed_i, narrowed_r = min(fits, key=lambda fit: fit[0])
    return conn, narrowed_i, narrowed_r


def _answer_child(core: Pluto, ike: IkeSa, msg: Message, payloads: list[Payload],
                  sa: SAPayload, nonce: NoncePayload) -> None:
    rekey = find_notify(payloads, NotifyType.REKEY_SA)
    old: ChildSa | None = None
    if rekey is not None:
        wanted = int.from_bytes(rekey.spi, "big") if rekey.spi else -1
        old = next((c for c in core.states.children_of(ike)
                    if c.kind.established and c.outbound_spi == wanted), None)
        if old is None:
            refuse(core, ike, msg, NotifyType.CHILD_SA_NOT_FOUND,
                    f"CREATE_CHILD_SA request rekeys unknown Child SA SPI 0x{rekey.spi.hex()}")
            return
    tsi, tsr = find(payloads, TSiPayload), find(payloads, TSrPayload)
    if tsi is None or tsr is None:
        refuse(core, ike, msg, NotifyType.INVALID_SYNTAX, "CREATE_CHILD_SA request lacks TS")
        return
    if old is not None:
        match = (old.conn, narrow_peer(old.conn.that, tsi.selectors,
                                       core.options.virtual_private),
                 narrow(old.conn.this.selector(), tsr.selectors))
        match = None if None in match else match
    else:
        match = _connection_for(core, ike, tsi, tsr)
    if match is None:
        refuse(core, ike, msg, NotifyType.TS_UNACCEPTABLE,
                "traffic selectors of the CREATE_CHILD_SA request fit no connection")
        return
    conn, narrowed_i, narrowed_r = match
    ke = find(payloads, KEPayload)
    try:
        chosen = choose(esp_proposals(conn, ike), sa, ke_hint=ke.dh_group if ke else None,
                        logger=core.logger)
    except NoProposalChosen as err:
        refuse(core, ike, msg, NotifyType.NO_PROPOSAL_CHOSEN,
                f"no acceptable Child SA proposal ({err})")
        return
    keypair = g_ir = None
    if chosen.ke is not None:
        if ke is None or ke.dh_group != chosen.ke.ikev2_id:
            refuse(core, ike, msg, NotifyType.INVALID_KE_PAYLOAD,
                    f"KE payload is not for {chosen.ke.fqn}",
                    chosen.ke.ikev2_id.to_bytes(2, "big"))
            return
        keypair = chosen.ke.implementation().generate(core.rand)
        try:
            g_ir = keypair.shared_secret(ke.data)
        except InvalidKeyExchange as err:
            refuse(core, ike, msg, NotifyType.INVALID_SYNTAX, f"peer's KE is invalid ({err})")
            return
    kind = StateKind.STATE_V2_REKEY_CHILD_R0 if old else StateKind.STATE_V2_NEW_CHILD_R0
    child = core.new_child(ike, conn, kind, initiator=False)
    child.replacing = old.serial if old is not None else None
    child.chosen = chosen
    child.outbound_spi = int.from_bytes(chosen.spi, "big")
    child.inbound_spi = core.kernel.allocate_spi("esp", ike.remote[0], ike.local[0])
    child.local_ts = network_of(narrowed_r) or conn.this.selector()
    child.remote_ts = network_of(narrowed_i) or conn.that.selector()
    child.ni, child.nr = nonce.data, core.rand.nonce(NONCE_SIZE, core.impairs, child.logger)
    keys = derive_child_sa_keys(ike.keys, chosen, child.ni, child.nr, g_ir)
    answer: list[Payload] = []
    if not conn.policy.tunnel and find_notify(payloads, NotifyType.USE_TRANSPORT_MODE):
        answer.append(messages.notify(NotifyType.USE_TRANSPORT_MODE))
    answer += [chosen.to_sa(child.inbound_spi.to_bytes(4, "big")), NoncePayload(data=child.nr)]
    if keypair is not None:
        answer.append(KEPayload(dh_group=chosen.ke.ikev2_id, data=keypair.public))
    answer += [TSiPayload(selectors=[narrowed_i]), TSrPayload(selectors=[narrowed_r])]
    # Into the kernel before the answer: success must not be claimed for a Child SA that
    # then fails to install.
    try:
        child_sas.install(core, ike, child, keys, replacing=old)
    except KernelError as err:
        outcome.delete_state(core, child)
        refuse(core, ike, msg, NotifyType.TS_UNACCEPTABLE,
                f"kernel refused the Child SA ({err})")
        return
    messages.send_response(core, ike, msg, answer, encrypted=True)
    _established(core, child, old)
    verb = f"rekeyed Child SA #{old.serial}" if old is not None else "established Child SA"
    core.log_new_state(child, f"responder {verb} using #{ike.serial}; "
                              f"{child_sas.tunnel_text(child)}")


# --- action impairs: rekey-ike:N, rekey-child:N, replace:N -----------------------------------


def impair_action(core: Pluto, name: str, state: State) -> str | None:
    """Run one of this module's action impairs on ``state``; an error text, or None."""
    if name == "rekey-ike":
        ike = state if isinstance(state, IkeSa) else core.states.ike(state.ike_serial)
        if ike is None or rekey_ike(core, ike) is None:
            return f"cannot rekey the IKE SA of #{state.serial}"
    elif name == "rekey-child":
        if not isinstance(state, ChildSa) or rekey_child(core, state) is None:
            return f"#{state.serial} is not an established Child SA that can be rekeyed"
    elif name == "replace":
        replace_state(core, state)
    return None


def can_replace(core: Pluto, state: State) -> bool:
    """Whether :func:`replace_state` can negotiate a successor for ``state`` (not merely
    delete it): a Child SA needs its established IKE SA, an IKE SA a connection we can
    initiate (instances of road-warrior templates cannot)."""
    if isinstance(state, ChildSa):
        ike = core.states.ike(state.ike_serial)
        return ike is not None and ike.kind.established and not ike.rekeyed_to
    return state.conn.that.host is not None and core.connections.get(state.conn.name) \
        is state.conn


def replace_state(core: Pluto, state: State) -> None:
    """Delete ``state`` (telling the peer) and negotiate its replacement from scratch."""
    conn = state.conn
    ike = core.states.ike(state.ike_serial) if isinstance(state, ChildSa) else None
    informational.delete_sa(core, state)
    if ike is not None and core.states.get(ike.serial) is ike and ike.kind.established:
        initiate_child(core, ike, conn)
    elif isinstance(state, IkeSa) and conn.that.host is not None \
            and core.connections.get(conn.name) is conn:
        from pluto.ikev2 import ike_sa_init

        ike_sa_init.initiate(core, conn)
