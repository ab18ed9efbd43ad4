"""IKE_AUTH with pre-shared keys or RSA signatures, and the first Child SA (RFC 7296 §1.2,
§2.15, §2.9; RFC 7427). pluto/ikev2/auth.py makes and checks the AUTH payloads.

    send_request      (initiator) SK{IDi, AUTH, SA, TSi, TSr}         -> STATE_V2_IKE_AUTH_I
    process_request   (responder) refine by ID, verify AUTH, answer
                      SK{IDr, AUTH, SA, TSi, TSr} (or an error notify) -> ESTABLISHED_IKE_SA
                      (without SA/TS when the initiator announced childless support, RFC 6023)
    process_response  (initiator) verify AUTH, install the Child SA     -> ESTABLISHED_IKE_SA
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pluto.certs.payloads import BadCertPayload, certreqs_in, certs_in
from pluto.certs.pubkeys import store_of
from pluto.connections.connection import Connection, Kind
from pluto.connections.ids import Identity, IdentityError
from pluto.crypto.proposals import parse_esp
from pluto.engine import child_sas, lifetimes, outcome
from pluto.engine.states import ChildSa, IkeSa, StateKind
from pluto.ikev2 import messages, nat
from pluto.ikev2.auth import (
    AuthError,
    PeerCerts,
    check_peer_auth,
    id_payload_body,
    make_auth,
    our_cert_payloads,
    our_cert_request,
)
from pluto.ikev2.keys import derive_child_sa_keys
from pluto.ikev2.negotiation import NoProposalChosen, accept_answer, choose, proposals_to_sa
from pluto.ikev2.ts import narrow, narrow_instance, narrow_peer, network_of, selectors_for, within
from pluto.impair import REGISTRY, ImpairSpec, register
from pluto.impair import Kind as ImpairKind
from pluto.kernel.ops import KernelError
from pluto.packet.errors import MalformedMessage
from pluto.packet.ikev2 import (
    AuthPayload,
    IDiPayload,
    IDrPayload,
    Message,
    NotifyPayload,
    Payload,
    SAPayload,
    TSiPayload,
    TSrPayload,
    parse_message,
)
from pluto.packet.ikev2_types import ExchangeType, NotifyType

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

IKE_AUTH = ExchangeType.IKE_AUTH

if "omit-v2-ike-auth-child" not in REGISTRY:
    register(ImpairSpec("omit-v2-ike-auth-child", ImpairKind.BOOLEAN,
                        "send the IKE_AUTH request without a Child SA (childless, RFC 6023)"))
# Errors about the Child SA only: the IKE SA stays up (RFC 7296 §1.2).
CHILD_ERRORS = frozenset({NotifyType.NO_PROPOSAL_CHOSEN, NotifyType.TS_UNACCEPTABLE,
                          NotifyType.SINGLE_PAIR_REQUIRED, NotifyType.INTERNAL_ADDRESS_FAILURE,
                          NotifyType.FAILED_CP_REQUIRED, NotifyType.INVALID_SELECTORS})


def child_proposals(conn: Connection) -> list:
    """esp= without key exchanges: IKE_AUTH's Child SA takes its keys from the IKE SA."""
    return [replace(p, ke=()) for p in parse_esp(conn.esp, pfs=conn.policy.pfs)]


def _id_payload(cls, identity: Identity):
    return cls(id_type=int(identity.type), data=identity.data)


def _our_auth(core: Pluto, ike: IkeSa, conn: Connection, peer: Identity | None,
              id_body: bytes) -> AuthPayload:
    """Our AUTH payload: the initiator signs its IKE_SA_INIT request and Nr, the responder
    its response and Ni (§2.15). Raises AuthError when our secret is missing."""
    if ike.initiator:
        message, nonce, sk_p = ike.init_request, ike.nr, ike.keys.sk_pi
    else:
        message, nonce, sk_p = ike.init_response, ike.ni, ike.keys.sk_pr
    method, data = make_auth(conn, core.secrets, peer, ike.peer_hash_algorithms,
                             prf_alg=ike.chosen.prf, message_octets=message, peer_nonce=nonce,
                             sk_p=sk_p, id_body=id_body, store=core.certs)
    return AuthPayload(method=method, data=data)


def _check_auth(core: Pluto, ike: IkeSa, conn: Connection, peer: Identity, auth: AuthPayload,
                id_body: bytes, payloads: list[Payload]) -> str:
    """Verify the peer's AUTH (with the certificates among ``payloads``); returns how it
    authenticated, raises AuthError."""
    try:
        certs = PeerCerts(core.certs, core.clock.wall(), certs_in(payloads))
    except BadCertPayload as err:
        raise AuthError(f"authentication failed: {err}") from None

    if ike.initiator:
        message, nonce, sk_p = ike.init_response, ike.ni, ike.keys.sk_pr
    else:
        message, nonce, sk_p = ike.init_request, ike.nr, ike.keys.sk_pi
    return check_peer_auth(conn, core.secrets, peer, auth.method, auth.data,
                           store_of(core).find, prf_alg=ike.chosen.prf,
                           message_octets=message, our_nonce=nonce, sk_p=sk_p, id_body=id_body,
                           certs=certs)


def messages_payloads(data: bytes | None) -> list[Payload]:
    """The payloads of a message we already parsed once (the IKE_SA_INIT response: its
    CERTREQ); empty when it cannot be read again."""
    if not data:
        return []
    try:
        return list(parse_message(data).payloads)
    except (MalformedMessage, ValueError):
        return []


# --- initiator -----------------------------------------------------------------------------


def send_request(core: Pluto, ike: IkeSa) -> None:
    conn = ike.conn
    idi = _id_payload(IDiPayload, conn.this.identity())
    try:
        auth = _our_auth(core, ike, conn, conn.that.identity(), id_payload_body(idi))
    except AuthError as err:
        outcome.fail(core, ike, NotifyType.AUTHENTICATION_FAILED, str(err))
        return
    asked = certreqs_in(messages_payloads(ike.init_response)) if conn.this.cert else []
    payloads: list[Payload] = [idi, *our_cert_payloads(conn, core.certs, asked),
                               *our_cert_request(conn, core.certs), auth]
    if not core.impairs.get("omit-v2-ike-auth-child"):
        child = core.new_child(ike, conn, StateKind.STATE_V2_IKE_AUTH_CHILD_I0, initiator=True)
        child.inbound_spi = core.kernel.allocate_spi("esp", ike.remote[0], ike.local[0])
        sa = proposals_to_sa(child_proposals(conn), spi=child.inbound_spi.to_bytes(4, "big"))
        ike.child_offer = (sa, child.serial)
        if not conn.policy.tunnel:
            payloads.append(messages.notify(NotifyType.USE_TRANSPORT_MODE))
        payloads += [sa, TSiPayload(selectors=[selectors_for(conn.this.selector())]),
                     TSrPayload(selectors=[selectors_for(conn.that.selector())])]
    else:
        ike.logger.impair("omitting the Child SA from the IKE_AUTH request")
    core.change_state(ike, StateKind.STATE_V2_IKE_AUTH_I)
    messages.send_request(core, ike, IKE_AUTH, payloads, encrypted=True,
                          on_response=process_response)
    core.log_new_state(ike, f"sent IKE_AUTH request to {core.describe(ike.remote)}")


def process_response(core: Pluto, ike: IkeSa, msg: Message, payloads: list[Payload],
                     data: bytes) -> None:
    notifies = [p for p in payloads if isinstance(p, NotifyPayload)]
    idr = next((p for p in payloads if isinstance(p, IDrPayload)), None)
    auth = next((p for p in payloads if isinstance(p, AuthPayload)), None)
    fatal = next((n for n in notifies if n.notify_type < 16384
                  and n.notify_type not in CHILD_ERRORS), None)
    if fatal is not None or idr is None or auth is None:
        if fatal is None:
            fatal_type, text = NotifyType.INVALID_SYNTAX, "IKE_AUTH response lacks IDr or AUTH"
        else:
            fatal_type = fatal.notify_type
            text = f"IKE SA authentication request rejected by peer: " \
                   f"{messages.notify_name(fatal_type)}"
        outcome.fail(core, ike, fatal_type, text)
        return
    conn = ike.conn
    try:
        peer = Identity.from_payload(idr.id_type, idr.data)
    except IdentityError as err:
        outcome.fail(core, ike, NotifyType.AUTHENTICATION_FAILED, f"peer ID is bad: {err}")
        return
    wanted = conn.that.identity()
    if wanted is not None and not wanted.matches(peer):
        outcome.fail(core, ike, NotifyType.AUTHENTICATION_FAILED,
                     f"peer ID '{peer}' is not the expected '{wanted}'")
        return
    try:
        how = _check_auth(core, ike, conn, peer, auth, id_payload_body(idr), payloads)
    except AuthError as err:
        outcome.fail(core, ike, NotifyType.AUTHENTICATION_FAILED, str(err))
        return
    ike.peer_id = peer
    _ike_established(core, ike, f"initiator established IKE SA; authenticated peer using "
                                f"{how}")
    replace_older_ike_sas(core, ike)
    offer = ike.child_offer
    ike.child_offer = None
    if offer is None:
        outcome.succeeded(core, ike, "initiator established childless IKE SA")
        return
    sa_offered, child_serial = offer
    child = core.states.get(child_serial)
    assert isinstance(child, ChildSa)
    child_error = next((n for n in notifies if n.notify_type in CHILD_ERRORS), None)
    sa = next((p for p in payloads if isinstance(p, SAPayload)), None)
    tsi = next((p for p in payloads if isinstance(p, TSiPayload)), None)
    tsr = next((p for p in payloads if isinstance(p, TSrPayload)), None)
    if child_error is not None or sa is None or tsi is None or tsr is None:
        notify_type = child_error.notify_type if child_error else NotifyType.INVALID_SYNTAX
        _child_failed(core, child, notify_type,
                      f"IKE_AUTH response rejected Child SA with "
                      f"{messages.notify_name(notify_type)}")
        return
    try:
        chosen = accept_answer(sa_offered, sa, logger=core.logger)
    except NoProposalChosen as err:
        _child_failed(core, child, NotifyType.NO_PROPOSAL_CHOSEN,
                      f"Child SA proposal in the IKE_AUTH response is unacceptable: {err}")
        return
    ours_i, ours_r = conn.this.selector(), conn.that.selector()
    if len(tsi.selectors) != 1 or len(tsr.selectors) != 1 or not within(
            tsi.selectors[0], ours_i) or not within(tsr.selectors[0], ours_r):
        _child_failed(core, child, NotifyType.TS_UNACCEPTABLE,
                      "traffic selectors of the IKE_AUTH response are not within ours")
        return
    child.chosen = chosen
    child.outbound_spi = int.from_bytes(chosen.spi, "big")
    child.local_ts = network_of(tsi.selectors[0]) or ours_i
    child.remote_ts = network_of(tsr.selectors[0]) or ours_r
    keys = derive_child_sa_keys(ike.keys, chosen, ike.ni, ike.nr)
    _child_established(core, ike, child, keys, "initiator")


def _ike_established(core: Pluto, ike: IkeSa, text: str) -> None:
    core.change_state(ike, StateKind.STATE_V2_ESTABLISHED_IKE_SA)
    ike.established_at = core.clock.now()
    core.log_new_state(ike, text)
    lifetimes.schedule_ike(core, ike)


def _base(conn: Connection) -> Connection:
    return conn.template if conn.kind is Kind.INSTANCE and conn.template is not None else conn


def replace_older_ike_sas(core: Pluto, ike: IkeSa) -> None:
    """--uniqueids: a peer ID has one IKE SA per connection; older ones (with their Child SAs)
    are deleted, the peer told, once a newer one is authenticated (a rebooted road warrior)."""
    if not core.options.uniqueids or ike.peer_id is None:
        return
    base = _base(ike.conn)
    older = [s for s in core.states if isinstance(s, IkeSa) and s is not ike
             and s.serial < ike.serial and s.kind.established and _base(s.conn) is base
             and s.peer_id is not None and s.peer_id == ike.peer_id]
    from pluto.ikev2 import informational

    for old in older:
        ike.logger.log(f"uniqueids: IKE SA #{old.serial} of {old.conn.label} is for the same "
                       f"peer ID '{ike.peer_id}'; deleting it")
        informational.delete_sa(core, old)


def _child_established(core: Pluto, ike: IkeSa, child: ChildSa, keys, role: str) -> bool:
    """Initiator: the peer has the Child SA already; if our kernel refuses it, the peer is
    told to delete its half with an INFORMATIONAL Delete."""
    try:
        child_sas.install(core, ike, child, keys)
    except KernelError as err:
        child_unusable(core, child, f"kernel refused the Child SA: {err}")
        return False
    child_up(core, ike, child, role)
    return True


def child_unusable(core: Pluto, child: ChildSa, text: str) -> None:
    """The peer installed a Child SA that we cannot: close whack, delete it on both ends."""
    from pluto.ikev2 import informational
    from pluto.whack_protocol import RC_NOTIFICATION

    core.logger.sink(child.logger.prefix + text)
    outcome.release_whack(core, child, RC_NOTIFICATION, child.logger.prefix + text)
    informational.delete_sa(core, child)


def child_up(core: Pluto, ike: IkeSa, child: ChildSa, role: str) -> None:
    """The Child SA is in the kernel: established, lifetimes armed, the line logged."""
    core.change_state(child, StateKind.STATE_V2_ESTABLISHED_CHILD_SA)
    child.established_at = core.clock.now()
    lifetimes.schedule_child(core, child)
    line = (f"{role} established Child SA using #{ike.serial}; "
            f"{child_sas.tunnel_text(child)}")
    if role == "initiator":
        outcome.succeeded(core, child, line)
    else:
        core.log_new_state(child, line)


def _child_failed(core: Pluto, child: ChildSa, notify_type: int | None, text: str) -> None:
    from pluto.whack_protocol import RC_NOTIFICATION

    core.logger.sink(child.logger.prefix + text)
    rc = RC_NOTIFICATION + (notify_type or 0)
    outcome.release_whack(core, child, rc, child.logger.prefix + text)
    outcome.delete_state(core, child)


# --- responder -----------------------------------------------------------------------------


def process_request(core: Pluto, ike: IkeSa, msg: Message, payloads: list[Payload],
                    data: bytes) -> None:
    idi = next((p for p in payloads if isinstance(p, IDiPayload)), None)
    auth = next((p for p in payloads if isinstance(p, AuthPayload)), None)
    if idi is None or auth is None:
        _reject(core, ike, msg, NotifyType.INVALID_SYNTAX, "IKE_AUTH request lacks IDi or AUTH")
        return
    try:
        peer = Identity.from_payload(idi.id_type, idi.data)
    except IdentityError as err:
        _reject(core, ike, msg, NotifyType.AUTHENTICATION_FAILED, f"peer ID is bad: {err}")
        return
    tsi = next((p for p in payloads if isinstance(p, TSiPayload)), None)
    tsr = next((p for p in payloads if isinstance(p, TSrPayload)), None)
    conn = _refine(core, ike, peer, tsi, tsr)
    if conn is None:
        _reject(core, ike, msg, NotifyType.AUTHENTICATION_FAILED,
                f"no connection is willing to talk to peer ID '{peer}'")
        return
    try:
        how = _check_auth(core, ike, conn, peer, auth, id_payload_body(idi), payloads)
    except AuthError as err:
        _reject(core, ike, msg, NotifyType.AUTHENTICATION_FAILED, str(err))
        return
    sa = next((p for p in payloads if isinstance(p, SAPayload)), None)
    # No SA (and no TSi/TSr): a childless IKE SA (RFC 6023). Our IKE_SA_INIT response always
    # announced CHILDLESS_IKEV2_SUPPORTED, and that announcement is what allows the initiator
    # to leave the Child SA out; initiators (strongSwan, libreswan) need not announce it too.
    idr = _id_payload(IDrPayload, conn.this.identity())
    try:
        my_auth = _our_auth(core, ike, conn, peer, id_payload_body(idr))
    except AuthError as err:
        _reject(core, ike, msg, NotifyType.AUTHENTICATION_FAILED, str(err))
        return
    ike.peer_id = peer
    core.cancel(ike, "discard")
    answer: list[Payload] = [idr, *our_cert_payloads(conn, core.certs, certreqs_in(payloads)),
                             my_auth]
    _ike_established(core, ike, f"responder established IKE SA; authenticated peer using "
                                f"{how}")
    # Before the new Child SA is installed: the old one holds the same kernel policies.
    replace_older_ike_sas(core, ike)
    child = None
    if sa is not None:
        child = _answer_child(core, ike, conn, payloads, sa, answer)
    messages.send_response(core, ike, msg, answer, encrypted=True)
    if child is not None:
        child_up(core, ike, child, "responder")


def _answer_child(core: Pluto, ike: IkeSa, conn: Connection, payloads: list[Payload],
                  sa: SAPayload, answer: list[Payload]):
    """Choose and install the Child SA; append SA/TS (or the error notify) to ``answer``."""
    tsi = next((p for p in payloads if isinstance(p, TSiPayload)), None)
    tsr = next((p for p in payloads if isinstance(p, TSrPayload)), None)
    try:
        chosen = choose(child_proposals(conn), sa, logger=core.logger)
    except NoProposalChosen as err:
        ike.logger.log(f"no acceptable Child SA proposal ({err}); responding with "
                       "NO_PROPOSAL_CHOSEN")
        answer.append(messages.notify(NotifyType.NO_PROPOSAL_CHOSEN))
        return None
    narrowed_i = narrow_peer(conn.that, tsi.selectors, core.options.virtual_private) \
        if tsi else None
    narrowed_r = narrow(conn.this.selector(), tsr.selectors) if tsr else None
    if narrowed_i is None or narrowed_r is None:
        ike.logger.log("traffic selectors do not match ours "
                       f"[{conn.this.selector()}==={conn.that.selector()}]; responding with "
                       "TS_UNACCEPTABLE")
        answer.append(messages.notify(NotifyType.TS_UNACCEPTABLE))
        return None
    child = core.new_child(ike, conn, StateKind.STATE_V2_IKE_AUTH_CHILD_R0, initiator=False)
    child.chosen = chosen
    child.outbound_spi = int.from_bytes(chosen.spi, "big")
    child.inbound_spi = core.kernel.allocate_spi("esp", ike.remote[0], ike.local[0])
    child.local_ts = network_of(narrowed_r) or conn.this.selector()
    child.remote_ts = network_of(narrowed_i) or conn.that.selector()
    keys = derive_child_sa_keys(ike.keys, chosen, ike.ni, ike.nr)
    # Into the kernel before the answer: success must not be claimed for a Child SA that
    # then fails to install.
    try:
        child_sas.install(core, ike, child, keys)
    except KernelError as err:
        child.logger.log(f"kernel refused the Child SA ({err}); responding with "
                         "TS_UNACCEPTABLE")
        outcome.delete_state(core, child)
        answer.append(messages.notify(NotifyType.TS_UNACCEPTABLE))
        return None
    narrow_instance(conn, child.remote_ts)
    answer += [chosen.to_sa(child.inbound_spi.to_bytes(4, "big")),
               TSiPayload(selectors=[narrowed_i]), TSrPayload(selectors=[narrowed_r])]
    return child


def _ts_fit(core: Pluto, conn: Connection, tsi: TSiPayload, tsr: TSrPayload) -> bool:
    """Whether ``conn``'s subnets can be narrowed to the proposed traffic selectors."""
    return (narrow_peer(conn.that, tsi.selectors, core.options.virtual_private) is not None
            and narrow(conn.this.selector(), tsr.selectors) is not None)


def _refine(core: Pluto, ike: IkeSa, peer: Identity, tsi: TSiPayload | None = None,
            tsr: TSrPayload | None = None) -> Connection | None:
    """The connection for this peer ID: ours if it fits, else a better one (§ responder).

    Among the connections that accept the peer ID, one whose subnets fit the proposed
    traffic selectors wins over one whose do not: several connections between the same two
    IDs that differ only in their subnets (leftsubnets=, or one conn per subnet pair) each
    get their own Child SAs, as in libreswan.
    """
    current = ike.conn
    candidates = [current]
    for conn in core.connections.candidates_for(nat.ike_port_endpoint(ike), ike.remote):
        base = current.template if current.kind is Kind.INSTANCE else current
        if conn is not current and conn is not base:
            candidates.append(conn)
    chosen = core.connections.refine_by_id(candidates, peer)
    if chosen is None:
        return None
    if tsi is not None and tsr is not None and not _ts_fit(core, chosen, tsi, tsr):
        fitting = [c for c in candidates if c is not chosen and _ts_fit(core, c, tsi, tsr)]
        better = core.connections.refine_by_id(fitting, peer) if fitting else None
        if better is not None:
            chosen = better
    if chosen is not current:
        if chosen.kind is Kind.TEMPLATE:
            chosen = core.connections.instantiate(chosen, ike.remote)
        old = current
        ike.conn = chosen
        ike.logger = core.state_logger(chosen, ike.serial)
        ike.logger.log(f"switched from {old.label} to {chosen.label}")
        if old.kind is Kind.INSTANCE and not [s for s in core.states if s.conn is old]:
            core.connections.remove_instance(old)
    return chosen


def _reject(core: Pluto, ike: IkeSa, msg: Message, notify_type: int, reason: str) -> None:
    """Answer an IKE_AUTH request with an error notify and drop the IKE SA (§2.21.2)."""
    ike.logger.log(f"{reason}; responding with {messages.notify_name(notify_type)}")
    messages.send_response(core, ike, msg, [messages.notify(notify_type)], encrypted=True)
    outcome.delete_state(core, ike)
