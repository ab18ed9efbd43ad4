"""Aggressive Mode with pre-shared keys (RFC 2409 §5, §5.4): three messages, the ID in clear.

    initiate            -> HDR, SA, KE, Ni, IDii                 STATE_AGGR_I1
    aggr_inI1_outR1     <- HDR, SA, KE, Nr, IDir, HASH_R         STATE_AGGR_R1
    aggr_inR1_outI2     -> HDR*, HASH_I                          STATE_AGGR_I2 (established)
    aggr_inI2           ISAKMP SA established                    STATE_AGGR_R2 (established)

It is off unless the connection says ``aggressive=yes`` (whack ``--aggressive``) on both ends,
and every use is logged with a warning: AR1 carries a hash an eavesdropper can attack offline
to find the PSK. AI1 holds a single KE payload, so only one DH group can be offered (libreswan
refuses ``ike=`` lists with more; without ``ike=`` the default's first group is used).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluto.connections.connection import Connection, Kind
from pluto.connections.ids import Identity, IdentityError
from pluto.crypto.constant_time import bytes_equal
from pluto.crypto.kdf_ikev1 import ikev1_keys
from pluto.crypto.ke import InvalidKeyExchange
from pluto.engine.host import Endpoint
from pluto.ikev1 import dpd, main_mode, messages, natt
from pluto.ikev1.crypt import Phase1Crypto, UndecryptableMessage
from pluto.ikev1.phase1_auth import method_for, skeyid
from pluto.ikev1.sa import (
    NoProposalChosen,
    accept_phase1,
    answer_sa,
    choose_phase1,
    ike_proposals,
    phase1_sa,
)
from pluto.ikev1.states import IsakmpSa, V1StateKind
from pluto.packet.errors import MalformedMessage
from pluto.packet.ikev1 import (
    HashPayload,
    IdentificationPayload,
    KeyExchangePayload,
    Message,
    NoncePayload,
    Proposal,
    SecurityAssociationPayload,
    parse_payloads,
)
from pluto.packet.ikev1_types import (
    ExchangeType,
    NotifyType,
    OakleyAttribute,
    OakleyAuthMethod,
    ProtocolId,
)

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

AGGRESSIVE = ExchangeType.AGGRESSIVE
WARNING = ("IKEv1 Aggressive Mode with PSK is vulnerable to offline dictionary attacks on the "
           "preshared key (the peer's hash travels before any encryption)")


K = V1StateKind  # STATE_AGGR_*


class AggressiveRefused(Exception):
    """The connection cannot use Aggressive Mode; the message says why."""


def _offer(conn: Connection) -> SecurityAssociationPayload:
    """Our ISAKMP SA with the transforms of a single DH group (the first of ``ike=``)."""
    if method_for(conn) != OakleyAuthMethod.PRESHARED_KEY:
        raise AggressiveRefused("IKEv1 Aggressive Mode with authby=rsasig is not implemented "
                                "yet")
    full = phase1_sa(ike_proposals(conn.ike), conn.lifetimes.ike, method_for(conn))
    transforms = full.proposals[0].transforms
    group = {a.type: a.as_int() for a in transforms[0].attributes}[
        OakleyAttribute.GROUP_DESCRIPTION]
    kept = [t for t in transforms
            if {a.type: a.as_int() for a in t.attributes}[OakleyAttribute.GROUP_DESCRIPTION]
            == group]
    for number, transform in enumerate(kept, 1):
        transform.number = number
    return SecurityAssociationPayload([Proposal(1, ProtocolId.ISAKMP, kept)])


# --- initiator ---------------------------------------------------------------------------


def initiate(core: Pluto, conn: Connection, whack=None, keying_try: int = 1) -> IsakmpSa:
    offer = _offer(conn)  # AggressiveRefused before any state exists
    from pluto.ikev1.sa import read_phase1

    group = read_phase1(offer.proposals[0].transforms[0])
    assert group is not None
    local: Endpoint = (conn.this.host, conn.this.ikeport)
    remote: Endpoint = (conn.that.host, conn.that.ikeport)
    isakmp = main_mode.new_isakmp(core, conn, initiator=True, local=local, remote=remote,
                                  spi_i=core.rand.spi_i(core.impairs, core.logger),
                                  kind=K.STATE_AGGR_I1)
    isakmp.whack, isakmp.keying_try = whack, keying_try
    isakmp.offered_sa = offer
    isakmp.sa_i_b = offer.emit_body(None)
    isakmp.keypair = group.ke.implementation().generate(core.rand)
    isakmp.ni = core.rand.nonce(main_mode.NONCE_SIZE, core.impairs, isakmp.logger)
    isakmp.g_xi = isakmp.keypair.public
    isakmp.logger.log("initiating IKEv1 Aggressive Mode connection")
    isakmp.logger.log(f"WARNING: {WARNING}")
    payloads = [offer, KeyExchangePayload(isakmp.g_xi), NoncePayload(isakmp.ni),
                main_mode.identity_payload(conn.this.identity()), *natt.vendor_ids(core),
                dpd.vendor_id()]
    datagram = messages.encode(core, isakmp, AGGRESSIVE, 0, payloads, encrypt=False)
    messages.send(core, isakmp, isakmp, datagram, wait=True)
    core.log_new_state(isakmp, f"sent Aggressive Mode request to {core.describe(remote)}")
    return isakmp


def aggr_inR1_outI2(core: Pluto, isakmp: IsakmpSa, msg: Message, data: bytes) -> None:
    sa = _first(msg.payloads, SecurityAssociationPayload)
    ke = _first(msg.payloads, KeyExchangePayload)
    nonce = _first(msg.payloads, NoncePayload)
    idr = _first(msg.payloads, IdentificationPayload)
    hash_r = _first(msg.payloads, HashPayload)
    if None in (sa, ke, nonce, idr, hash_r):
        isakmp.logger.log("Aggressive Mode response lacks SA, KE, Nr, IDir or HASH_R; "
                          "ignoring it")
        return
    assert sa is not None and ke is not None and nonce is not None and idr is not None
    assert hash_r is not None
    try:
        isakmp.chosen = accept_phase1(isakmp.offered_sa, sa, isakmp.logger)
    except NoProposalChosen as err:
        messages.fail(core, isakmp, NotifyType.NO_PROPOSAL_CHOSEN,
                      f"Aggressive Mode response has an unacceptable SA: {err}")
        return
    core.states.rekeyed_spis(isakmp, msg.rcookie)
    problem = _keys(core, isakmp, peer_ke=ke.data, peer_nonce=nonce.data)
    if problem is not None:
        messages.fail(core, isakmp, NotifyType.INVALID_KEY_INFORMATION,
                      f"Aggressive Mode R1: {problem}")
        return
    try:
        peer = Identity.from_payload(idr.id_type, idr.data)
    except IdentityError as err:
        messages.fail(core, isakmp, NotifyType.INVALID_ID_INFORMATION,
                      f"Aggressive Mode R1: peer ID is not usable: {err}")
        return
    wanted = isakmp.conn.that.identity()
    if wanted is not None and not wanted.matches(peer):
        messages.fail(core, isakmp, NotifyType.INVALID_ID_INFORMATION,
                      f"Aggressive Mode R1: peer ID '{peer}' is not the expected '{wanted}'")
        return
    expected = isakmp.crypto.hash_r(isakmp.g_xi, isakmp.g_xr, isakmp.spi_i, isakmp.spi_r,
                                    isakmp.sa_i_b, idr.emit_body(None))
    if not bytes_equal(expected, hash_r.data):
        messages.fail(core, isakmp, NotifyType.INVALID_HASH_INFORMATION,
                      "Aggressive Mode R1: received Hash Payload does not match computed "
                      "value (mismatch of preshared secrets?)")
        return
    messages.accepted(core, isakmp, data)
    idi = main_mode.identity_payload(isakmp.conn.this.identity())
    hash_i = isakmp.crypto.hash_i(isakmp.g_xi, isakmp.g_xr, isakmp.spi_i, isakmp.spi_r,
                                  isakmp.sa_i_b, idi.emit_body(None))
    out: list = [HashPayload(hash_i)]
    if natt.peer_announced(msg.payloads) and natt.vendor_ids(core):
        # RFC 3947 §3.2: AR1 and AI2 carry NAT-D, both about the path AI1/AR1 took
        natt.detect(core, isakmp, msg.payloads, isakmp.local, isakmp.remote)
        out += natt.natd_payloads(isakmp)
    datagram = messages.encode(core, isakmp, AGGRESSIVE, 0, out, encrypt=True)
    natt.float_initiator(core, isakmp)  # AI2 already goes to the NAT-T port (RFC 3947 §4)
    isakmp.crypto.phase1_done()
    # AI2 is answered by nothing; a repeated AR1 (AI2 lost) gets it again.
    messages.send(core, isakmp, isakmp, datagram, wait=False)
    main_mode.established(core, isakmp, peer, K.STATE_AGGR_I2)
    from pluto.ikev1 import rekey

    rekey.after_phase1(core, isakmp)


# --- responder ---------------------------------------------------------------------------


def aggr_inI1_outR1(core: Pluto, msg: Message, data: bytes, local: Endpoint,
                    remote: Endpoint) -> None:
    where = f"packet from {core.describe(remote)}"
    sa = _first(msg.payloads, SecurityAssociationPayload)
    ke = _first(msg.payloads, KeyExchangePayload)
    nonce = _first(msg.payloads, NoncePayload)
    idi = _first(msg.payloads, IdentificationPayload)
    if sa is None or ke is None or nonce is None or idi is None:
        core.logger.log(f"{where}: Aggressive Mode request lacks SA, KE, Ni or IDii; "
                        "ignoring it")
        return
    try:
        peer = Identity.from_payload(idi.id_type, idi.data)
    except IdentityError as err:
        core.logger.log(f"{where}: Aggressive Mode peer ID is not usable: {err}; ignoring it")
        return
    v1 = [c for c in core.connections.candidates_for(local, remote) if not c.policy.ikev2]
    allowed = [c for c in v1 if c.policy.aggressive]
    conn = core.connections.refine_by_id(allowed, peer)
    if conn is None:
        why = ("no IKEv1 connection with aggressive=yes" if v1 and not allowed
               else f"no IKEv1 connection for peer ID '{peer}'")
        core.logger.log(f"{where}: initial Aggressive Mode message received on "
                        f"{core.describe(local)} but {why}; ignoring it")
        return
    try:
        ours = _offer(conn)
        chosen = choose_phase1(ours, sa, core.logger, method_for(conn))
    except (NoProposalChosen, AggressiveRefused, ValueError) as err:
        core.logger.log(f"{where}: {conn.label}: {err}; responding with NO_PROPOSAL_CHOSEN")
        from pluto.ikev1 import informational

        informational.send_clear_notify(core, msg, local, remote,
                                        NotifyType.NO_PROPOSAL_CHOSEN)
        return
    if conn.kind is Kind.TEMPLATE:
        conn = core.connections.instantiate(conn, remote)
    isakmp = main_mode.new_isakmp(core, conn, initiator=False, local=local, remote=remote,
                                  spi_i=msg.icookie,
                                  kind=K.STATE_AGGR_R0)
    core.states.rekeyed_spis(isakmp, core.rand.spi_r(core.impairs, core.logger))
    isakmp.logger.log(f"WARNING: {WARNING}")
    isakmp.chosen = chosen
    isakmp.sa_i_b = sa.emit_body(None)
    isakmp.keypair = chosen.ke.implementation().generate(core.rand)
    isakmp.nr = core.rand.nonce(main_mode.NONCE_SIZE, core.impairs, isakmp.logger)
    isakmp.g_xr = isakmp.keypair.public
    isakmp.peer_id = peer
    problem = _keys(core, isakmp, peer_ke=ke.data, peer_nonce=nonce.data)
    if problem is not None:
        isakmp.logger.log(f"Aggressive Mode I1: {problem}; ignoring the message")
        from pluto.engine import outcome

        outcome.delete_state(core, isakmp)
        return
    number = next(p.number for p in sa.proposals if chosen.transform in p.transforms)
    answer = answer_sa(sa, number, chosen.transform, ProtocolId.ISAKMP)
    idr = main_mode.identity_payload(conn.this.identity())
    hash_r = isakmp.crypto.hash_r(isakmp.g_xi, isakmp.g_xr, isakmp.spi_i, isakmp.spi_r,
                                  isakmp.sa_i_b, idr.emit_body(None))
    messages.accepted(core, isakmp, data)
    payloads = [answer, KeyExchangePayload(isakmp.g_xr), NoncePayload(isakmp.nr), idr,
                HashPayload(hash_r)]
    nat_t = natt.peer_announced(msg.payloads) and bool(natt.vendor_ids(core))
    payloads += natt.vendor_ids(core) if nat_t else []
    payloads.append(dpd.vendor_id())  # RFC 3706 §5.1
    payloads += natt.natd_payloads(isakmp) if nat_t else []
    datagram = messages.encode(core, isakmp, AGGRESSIVE, 0, payloads, encrypt=False)
    core.change_state(isakmp, K.STATE_AGGR_R1)  # type: ignore[arg-type]
    messages.send(core, isakmp, isakmp, datagram, wait=True)
    core.log_new_state(isakmp, f"responding to Aggressive Mode from {core.describe(remote)}")


def aggr_inI2(core: Pluto, isakmp: IsakmpSa, msg: Message, data: bytes) -> None:
    assert msg.encrypted is not None
    try:
        plaintext = isakmp.crypto.decrypt(0, msg.encrypted.data)
        payloads, _padding = parse_payloads(plaintext, msg.encrypted.first_payload)
    except (UndecryptableMessage, MalformedMessage) as err:
        isakmp.logger.log(f"probable authentication failure (mismatch of preshared "
                          f"secrets?): {err}; dropping the message")
        return
    hash_i = _first(payloads, HashPayload)
    peer = isakmp.peer_id
    idi = main_mode.identity_payload(peer)
    expected = isakmp.crypto.hash_i(isakmp.g_xi, isakmp.g_xr, isakmp.spi_i, isakmp.spi_r,
                                    isakmp.sa_i_b, idi.emit_body(None))
    if hash_i is None or not bytes_equal(expected, hash_i.data):
        isakmp.logger.log("received Hash Payload does not match computed value (mismatch of "
                          "preshared secrets?); dropping the message")
        return
    isakmp.crypto.accept(0, msg.encrypted.data)
    isakmp.crypto.phase1_done()
    messages.accepted(core, isakmp, data)
    local, remote = natt.unfloated_path(core, isakmp)
    natt.detect(core, isakmp, payloads, local, remote)
    main_mode.established(core, isakmp, peer, K.STATE_AGGR_R2)


# --- both ---------------------------------------------------------------------------------


def _keys(core: Pluto, isakmp: IsakmpSa, *, peer_ke: bytes, peer_nonce: bytes) -> str | None:
    """g^xy, SKEYID and the phase 1 cipher from the peer's KE and nonce; why not, or None."""
    if not 8 <= len(peer_nonce) <= 256:
        return f"nonce of {len(peer_nonce)} bytes"
    try:
        g_xy = isakmp.keypair.shared_secret(peer_ke)
    except InvalidKeyExchange as err:
        return f"peer's KE is invalid: {err}"
    # the responder knows the peer's ID from AI1 (a %any template names none)
    peer = isakmp.conn.that.identity() if isakmp.initiator else isakmp.peer_id
    me = isakmp.conn.this.identity()
    psk = None if core.secrets is None else core.secrets.psk_for(me, peer)
    if psk is None:
        return f"no preshared key for '{me}' and '{peer}'"
    if isakmp.initiator:
        isakmp.nr, isakmp.g_xr = peer_nonce, peer_ke
    else:
        isakmp.ni, isakmp.g_xi = peer_nonce, peer_ke
    isakmp.g_xy, isakmp.psk = g_xy, psk
    prf = isakmp.chosen.prf.implementation()
    isakmp.keys = ikev1_keys(prf, skeyid(prf, isakmp.chosen.auth, psk, isakmp.ni, isakmp.nr,
                                         g_xy), g_xy, isakmp.spi_i, isakmp.spi_r)
    isakmp.crypto = Phase1Crypto(isakmp.chosen, isakmp.keys, isakmp.g_xi, isakmp.g_xr)
    return None


def _first(payloads, cls):
    return next((p for p in payloads if isinstance(p, cls)), None)
