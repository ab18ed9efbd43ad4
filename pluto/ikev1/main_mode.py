"""Main Mode with pre-shared keys or RSA signatures (RFC 2409 §5, §5.1, §5.4): six
messages, the last two encrypted.

    initiate            -> HDR, SA                          STATE_MAIN_I1
    main_inI1_outR1     <- HDR, SA                          STATE_MAIN_R1
    main_inR1_outI2     -> HDR, KE, Ni                      STATE_MAIN_I2
    main_inI2_outR2     <- HDR, KE, Nr                      STATE_MAIN_R2
    main_inR2_outI3     -> HDR*, IDii, HASH_I | SIG_I       STATE_MAIN_I3
    main_inI3_outR3     <- HDR*, IDir, HASH_R | SIG_R       STATE_MAIN_R3 (established)
    main_inR3           then Quick Mode                     STATE_MAIN_I4 (established)

With PSK the responder must know the key before it sees the initiator's ID (the ID comes
encrypted with a key derived from the PSK), so the connection is the one the addresses (and
the proposed authentication method) pick; MI3's ID may then move the SA to a better
connection (:mod:`pluto.ikev1.ids`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluto.connections.connection import Connection, Kind
from pluto.connections.ids import Identity, IdentityError
from pluto.crypto.kdf_ikev1 import ikev1_keys
from pluto.crypto.ke import InvalidKeyExchange
from pluto.engine.host import Endpoint
from pluto.ikev1 import certs, dpd, ids, messages, natt
from pluto.ikev1.crypt import Phase1Crypto, UndecryptableMessage
from pluto.ikev1.phase1_auth import (
    Phase1AuthError,
    authby_name,
    check_proof,
    find_proof,
    method_for,
    our_proof,
    skeyid,
    wire_method_for,
)
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
    IdentificationPayload,
    KeyExchangePayload,
    Message,
    NatDetectionPayload,
    NoncePayload,
    SecurityAssociationPayload,
    parse_payloads,
)
from pluto.packet.ikev1_types import ExchangeType, NotifyType, OakleyAuthMethod, ProtocolId

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

MAIN = ExchangeType.MAIN
NONCE_SIZE = 32
K = V1StateKind


def new_isakmp(core: Pluto, conn: Connection, *, initiator: bool, local: Endpoint,
               remote: Endpoint, spi_i: bytes, kind: V1StateKind) -> IsakmpSa:
    serial = core.states.next_serial()
    isakmp = IsakmpSa(serial=serial, conn=conn, kind=kind,  # type: ignore[arg-type]
                      logger=core.state_logger(conn, serial), created=core.clock.now(),
                      initiator=initiator, local=local, remote=remote, spi_i=spi_i)
    core.states.add(isakmp)
    core.logger.debug("lifecycle", f"creating state #{serial} for {conn.label} (IKEv1 "
                                   f"{'initiator' if initiator else 'responder'})")
    return isakmp


def describe(isakmp: IsakmpSa) -> str:
    c = isakmp.chosen
    bits = f"_{c.encr_key_bits}" if c.encr.variable_key else ""
    return (f"{{auth={authby_name(c.auth)} cipher={c.encr.fqn}{bits} integ={c.prf.integ.fqn} "
            f"group={c.ke.fqn}}}")


def _psk(core: Pluto, conn: Connection) -> bytes | None:
    if core.secrets is None:
        return None
    return core.secrets.psk_for(conn.this.identity(), conn.that.identity())


def identity_payload(identity: Identity) -> IdentificationPayload:
    return IdentificationPayload(int(identity.type), identity.data)


# --- initiator ---------------------------------------------------------------------------


def initiate(core: Pluto, conn: Connection, whack=None, keying_try: int = 1) -> IsakmpSa:
    if conn.policy.aggressive:
        from pluto.ikev1 import aggressive_mode

        return aggressive_mode.initiate(core, conn, whack, keying_try)
    local: Endpoint = (conn.this.host, conn.this.ikeport)
    remote: Endpoint = (conn.that.host, conn.that.ikeport)
    isakmp = new_isakmp(core, conn, initiator=True, local=local, remote=remote,
                        spi_i=core.rand.spi_i(core.impairs, core.logger), kind=K.STATE_MAIN_I1)
    isakmp.whack, isakmp.keying_try = whack, keying_try
    isakmp.offered_sa = phase1_sa(ike_proposals(conn.ike), conn.lifetimes.ike,
                                  wire_method_for(conn, initiator=True))
    isakmp.sa_i_b = isakmp.offered_sa.emit_body(None)
    isakmp.logger.log("initiating IKEv1 Main Mode connection")
    datagram = messages.encode(core, isakmp, MAIN, 0,
                               [isakmp.offered_sa, *natt.vendor_ids(core), dpd.vendor_id()],
                               encrypt=False)
    messages.send(core, isakmp, isakmp, datagram, wait=True)
    core.log_new_state(isakmp, f"sent Main Mode request to {core.describe(remote)}")
    return isakmp


def main_inR1_outI2(core: Pluto, isakmp: IsakmpSa, msg: Message, data: bytes) -> None:
    sa = _first(msg.payloads, SecurityAssociationPayload)
    if sa is None:
        isakmp.logger.log("Main Mode response has no SA payload; ignoring it")
        return
    try:
        isakmp.chosen = accept_phase1(isakmp.offered_sa, sa, isakmp.logger)
    except NoProposalChosen as err:
        messages.fail(core, isakmp, NotifyType.NO_PROPOSAL_CHOSEN,
                      f"Main Mode response has an unacceptable SA: {err}")
        return
    core.states.rekeyed_spis(isakmp, msg.rcookie)
    messages.accepted(core, isakmp, data)
    _send_ke_nonce(core, isakmp, K.STATE_MAIN_I2, "sent Main Mode I2",
                   natd=natt.peer_announced(msg.payloads) and bool(natt.vendor_ids(core)))


def _send_ke_nonce(core: Pluto, isakmp: IsakmpSa, kind: V1StateKind, story: str, *,
                   natd: bool) -> None:
    isakmp.keypair = isakmp.chosen.ke.implementation().generate(core.rand)
    nonce = core.rand.nonce(NONCE_SIZE, core.impairs, isakmp.logger)
    if isakmp.initiator:
        isakmp.ni, isakmp.g_xi = nonce, isakmp.keypair.public
    else:
        isakmp.nr, isakmp.g_xr = nonce, isakmp.keypair.public
    payloads = [KeyExchangePayload(isakmp.keypair.public), NoncePayload(nonce)]
    if natd:
        payloads += natt.natd_payloads(isakmp)
    datagram = messages.encode(core, isakmp, MAIN, 0, payloads, encrypt=False)
    core.change_state(isakmp, kind)  # type: ignore[arg-type]
    messages.send(core, isakmp, isakmp, datagram, wait=True)
    core.log_new_state(isakmp, story)


def _take_ke_nonce(core: Pluto, isakmp: IsakmpSa, msg: Message) -> str | None:
    """The peer's KE and nonce, then g^xy and the keys; an error text when they are bad."""
    ke = _first(msg.payloads, KeyExchangePayload)
    nonce = _first(msg.payloads, NoncePayload)
    if ke is None or nonce is None:
        return "message is missing KE or Nonce"
    if not 8 <= len(nonce.data) <= 256:
        return f"nonce of {len(nonce.data)} bytes"
    try:
        g_xy = isakmp.keypair.shared_secret(ke.data)
    except InvalidKeyExchange as err:
        return f"peer's KE is invalid: {err}"
    psk = None
    if isakmp.chosen.auth == OakleyAuthMethod.PRESHARED_KEY:
        psk = _psk(core, isakmp.conn)
        if psk is None:
            return (f"no preshared key for '{isakmp.conn.this.identity()}' and "
                    f"'{isakmp.conn.that.identity()}'")
    if isakmp.initiator:
        isakmp.nr, isakmp.g_xr = nonce.data, ke.data
    else:
        isakmp.ni, isakmp.g_xi = nonce.data, ke.data
    isakmp.g_xy, isakmp.psk = g_xy, psk or b""
    prf = isakmp.chosen.prf.implementation()
    keys = ikev1_keys(prf, skeyid(prf, isakmp.chosen.auth, psk, isakmp.ni, isakmp.nr, g_xy),
                      g_xy, isakmp.spi_i, isakmp.spi_r)
    isakmp.keys = keys
    isakmp.crypto = Phase1Crypto(isakmp.chosen, keys, isakmp.g_xi, isakmp.g_xr)
    return None


def main_inR2_outI3(core: Pluto, isakmp: IsakmpSa, msg: Message, data: bytes) -> None:
    problem = _take_ke_nonce(core, isakmp, msg)
    if problem is not None:
        messages.fail(core, isakmp, NotifyType.INVALID_KEY_INFORMATION,
                      f"Main Mode R2: {problem}")
        return
    messages.accepted(core, isakmp, data)
    natt.detect(core, isakmp, msg.payloads, isakmp.local, isakmp.remote)
    natt.float_initiator(core, isakmp)
    id_payload = identity_payload(isakmp.conn.this.identity())
    hash_i = isakmp.crypto.hash_i(isakmp.g_xi, isakmp.g_xr, isakmp.spi_i, isakmp.spi_r,
                                  isakmp.sa_i_b, id_payload.emit_body(None))
    try:
        proof = our_proof(core, isakmp.conn, isakmp.chosen.auth, hash_i)
    except Phase1AuthError as err:
        messages.fail(core, isakmp, err.notify, f"Main Mode I3: {err}")
        return
    isakmp.peer_asked_cert = certs.asked(msg.payloads)  # MR2's CR
    payloads = [id_payload, *certs.our_certificates(core, isakmp.conn, isakmp.peer_asked_cert),
                *certs.our_cert_requests(core, isakmp.conn), proof]
    datagram = messages.encode(core, isakmp, MAIN, 0, payloads, encrypt=True)
    # A notify about MI3 comes protected by the IV chain as it stands after MI3.
    isakmp.crypto.phase1_done()
    core.change_state(isakmp, K.STATE_MAIN_I3)  # type: ignore[arg-type]
    messages.send(core, isakmp, isakmp, datagram, wait=True)
    core.log_new_state(isakmp, "sent Main Mode I3")


def main_inR3(core: Pluto, isakmp: IsakmpSa, msg: Message, data: bytes) -> None:
    peer = check_peer(core, isakmp, msg, responder=False)
    if peer is None:
        return
    messages.accepted(core, isakmp, data)
    isakmp.crypto.phase1_done()
    established(core, isakmp, peer, K.STATE_MAIN_I4)
    from pluto.ikev1 import rekey

    rekey.after_phase1(core, isakmp)


# --- responder ---------------------------------------------------------------------------


def main_inI1_outR1(core: Pluto, msg: Message, data: bytes, local: Endpoint,
                    remote: Endpoint) -> None:
    where = f"packet from {core.describe(remote)}"
    conns = _connections_for(core, local, remote)
    if not conns:
        core.logger.log(f"{where}: initial Main Mode message received on "
                        f"{core.describe(local)} but no IKEv1 connection has been "
                        "authorized; ignoring it")
        return
    theirs = _first(msg.payloads, SecurityAssociationPayload)
    if theirs is None:
        core.logger.log(f"{where}: Main Mode request has no SA payload; ignoring it")
        return
    picked = _choose(core, conns, theirs)
    if isinstance(picked, str):
        core.logger.log(f"{where}: {conns[0].label}: {picked}; responding with "
                        "NO_PROPOSAL_CHOSEN")
        from pluto.ikev1 import informational

        informational.send_clear_notify(core, msg, local, remote,
                                        NotifyType.NO_PROPOSAL_CHOSEN)
        return
    conn, chosen = picked
    if conn.kind is Kind.TEMPLATE:
        conn = core.connections.instantiate(conn, remote)
    isakmp = new_isakmp(core, conn, initiator=False, local=local, remote=remote,
                        spi_i=msg.icookie, kind=K.STATE_MAIN_R0)
    core.states.rekeyed_spis(isakmp, core.rand.spi_r(core.impairs, core.logger))
    isakmp.chosen = chosen
    isakmp.sa_i_b = theirs.emit_body(None)
    number = next(p.number for p in theirs.proposals if chosen.transform in p.transforms)
    answer = answer_sa(theirs, number, chosen.transform, ProtocolId.ISAKMP)
    messages.accepted(core, isakmp, data)
    vids = natt.vendor_ids(core) if natt.peer_announced(msg.payloads) else []
    # RFC 3706 §5.1: DPD is announced both ways; each end uses it once the other did
    datagram = messages.encode(core, isakmp, MAIN, 0, [answer, *vids, dpd.vendor_id()],
                               encrypt=False)
    core.change_state(isakmp, K.STATE_MAIN_R1)  # type: ignore[arg-type]
    # MR1 is not resent (a forged MI1 must not make us a reflector), and an MI1 that never
    # continues is forgotten after the retransmit timeout.
    messages.send(core, isakmp, isakmp, datagram, wait=False)
    core.schedule(isakmp, "discard", core.options.retransmit_timeout,
                  lambda: _discard(core, isakmp))
    core.log_new_state(isakmp, f"responding to Main Mode from {core.describe(remote)}")


def _discard(core: Pluto, isakmp: IsakmpSa) -> None:
    if not isakmp.kind.established and core.states.get(isakmp.serial) is isakmp:
        isakmp.logger.log(f"{isakmp.kind.name}: discarding half-open ISAKMP SA")
        from pluto.engine import outcome

        outcome.delete_state(core, isakmp)


def main_inI2_outR2(core: Pluto, isakmp: IsakmpSa, msg: Message, data: bytes) -> None:
    if isakmp.keypair is None:  # kept for a repeated MI2 that failed before
        isakmp.keypair = isakmp.chosen.ke.implementation().generate(core.rand)
        isakmp.nr = core.rand.nonce(NONCE_SIZE, core.impairs, isakmp.logger)
        isakmp.g_xr = isakmp.keypair.public
    problem = _take_ke_nonce(core, isakmp, msg)
    if problem is not None:
        isakmp.logger.log(f"Main Mode I2: {problem}; ignoring the message")
        return
    messages.accepted(core, isakmp, data)
    payloads = [KeyExchangePayload(isakmp.keypair.public), NoncePayload(isakmp.nr)]
    if any(isinstance(p, NatDetectionPayload) for p in msg.payloads) \
            and natt.vendor_ids(core):
        natt.detect(core, isakmp, msg.payloads, isakmp.local, isakmp.remote)
        payloads += natt.natd_payloads(isakmp)
    payloads += certs.our_cert_requests(core, isakmp.conn)  # RFC 2409 §5.1: HDR, KE, Nr, [CR]
    datagram = messages.encode(core, isakmp, MAIN, 0, payloads, encrypt=False)
    core.change_state(isakmp, K.STATE_MAIN_R2)  # type: ignore[arg-type]
    messages.send(core, isakmp, isakmp, datagram, wait=True)
    core.log_new_state(isakmp, "sent Main Mode R2")


def main_inI3_outR3(core: Pluto, isakmp: IsakmpSa, msg: Message, data: bytes) -> None:
    peer = check_peer(core, isakmp, msg, responder=True)
    if peer is None:
        return
    messages.accepted(core, isakmp, data)
    id_payload = identity_payload(isakmp.conn.this.identity())
    hash_r = isakmp.crypto.hash_r(isakmp.g_xi, isakmp.g_xr, isakmp.spi_i, isakmp.spi_r,
                                  isakmp.sa_i_b, id_payload.emit_body(None))
    try:
        proof = our_proof(core, isakmp.conn, isakmp.chosen.auth, hash_r)
    except Phase1AuthError as err:
        _refuse(core, isakmp, err.notify, f"Main Mode R3: {err}")
        return
    payloads = [id_payload, *certs.our_certificates(core, isakmp.conn, isakmp.peer_asked_cert),
                proof]
    datagram = messages.encode(core, isakmp, MAIN, 0, payloads, encrypt=True)
    isakmp.crypto.phase1_done()
    core.cancel(isakmp, "discard")
    messages.send(core, isakmp, isakmp, datagram, wait=False)
    established(core, isakmp, peer, K.STATE_MAIN_R3)


# --- both ---------------------------------------------------------------------------------


def check_peer(core: Pluto, isakmp: IsakmpSa, msg: Message, *,
               responder: bool) -> Identity | None:
    """Decrypt MI3/MR3, check the peer's ID and its HASH or signature; None when bad (the
    message is dropped, or the exchange refused with a notify)."""
    assert msg.encrypted is not None
    try:
        plaintext = isakmp.crypto.decrypt(0, msg.encrypted.data)
        payloads, _padding = parse_payloads(plaintext, msg.encrypted.first_payload)
    except (UndecryptableMessage, MalformedMessage) as err:
        isakmp.logger.log(f"probable authentication failure (mismatch of preshared "
                          f"secrets?): {err}; dropping the message")
        return None
    id_payload = _first(payloads, IdentificationPayload)
    proof = find_proof(isakmp.chosen.auth, payloads)
    if id_payload is None or proof is None:
        isakmp.logger.log("Main Mode message is missing ID or "
                          f"{'HASH' if isakmp.chosen.auth != OakleyAuthMethod.RSA_SIG else 'SIG'}"
                          "; dropping it")
        return None
    try:
        peer = Identity.from_payload(id_payload.id_type, id_payload.data)
    except IdentityError as err:
        isakmp.logger.log(f"peer ID is not usable: {err}; dropping the message")
        return None
    if responder:
        isakmp.peer_asked_cert = certs.asked(payloads)  # MI3's CR
    make = isakmp.crypto.hash_i if responder else isakmp.crypto.hash_r
    expected = make(isakmp.g_xi, isakmp.g_xr, isakmp.spi_i, isakmp.spi_r, isakmp.sa_i_b,
                    id_payload.emit_body(None))
    if isakmp.chosen.auth == OakleyAuthMethod.PRESHARED_KEY:
        # With PSK a wrong HASH is most likely a forgery or garbage: drop, stay for the real one.
        try:
            check_proof(core, isakmp.conn, peer, proof, expected)
        except Phase1AuthError as err:
            isakmp.logger.log(f"{err}; dropping the message")
            return None
    isakmp.crypto.accept(0, msg.encrypted.data)
    if responder:
        if ids.refine(core, isakmp, peer) is None:
            _refuse(core, isakmp, NotifyType.INVALID_ID_INFORMATION,
                    f"no suitable connection for peer '{peer}'")
            return None
    else:
        wanted = isakmp.conn.that.identity()
        if wanted is not None and not wanted.matches(peer):
            _refuse(core, isakmp, NotifyType.INVALID_ID_INFORMATION,
                    f"peer ID '{peer}' is not the expected '{wanted}'")
            return None
    try:
        sent = certs.peer_certificates(payloads)
    except certs.BadCertificate as err:
        _refuse(core, isakmp, NotifyType.INVALID_CERT_ENCODING, str(err))
        return None
    try:
        check_proof(core, isakmp.conn, peer, proof, expected, sent)
    except Phase1AuthError as err:
        _refuse(core, isakmp, err.notify, str(err))
        return None
    return peer


def _refuse(core: Pluto, isakmp: IsakmpSa, notify: int, reason: str) -> None:
    """Phase 1 fails after the keys exist: tell the peer (protected), then give up."""
    from pluto.ikev1 import informational

    isakmp.crypto.phase1_done()
    informational.send_notify(core, isakmp, notify)
    messages.fail(core, isakmp, notify,
                  f"{reason}; sending notification {informational.notify_name(notify)}")


def established(core: Pluto, isakmp: IsakmpSa, peer: Identity, kind: V1StateKind) -> None:
    isakmp.peer_id = peer
    core.change_state(isakmp, kind)  # type: ignore[arg-type]
    isakmp.established_at = core.clock.now()
    natt.established(core, isakmp)
    role = "initiator" if isakmp.initiator else "responder"
    core.log_new_state(isakmp, f"{role} established ISAKMP SA {describe(isakmp)}; "
                               f"authenticated peer using authby={_authby(isakmp)} and "
                               f"'{peer}'")


def _authby(isakmp: IsakmpSa) -> str:
    return "rsasig" if isakmp.chosen.auth == OakleyAuthMethod.RSA_SIG else "secret"


def _connections_for(core: Pluto, local: Endpoint, remote: Endpoint) -> list[Connection]:
    # an aggressive=yes connection speaks Aggressive Mode only, as in libreswan
    return [c for c in core.connections.candidates_for(local, remote)
            if not c.policy.ikev2 and not c.policy.aggressive]


def _choose(core: Pluto, conns: list[Connection], theirs: SecurityAssociationPayload
            ) -> tuple[Connection, object] | str:
    """The first connection (in candidate order) that accepts a proposed transform with its
    own authentication method, and that transform; else why not."""
    problem = "no IKEv1 connection"
    for conn in conns:
        try:
            ours = phase1_sa(ike_proposals(conn.ike), conn.lifetimes.ike,
                             wire_method_for(conn, initiator=False))
            return conn, choose_phase1(ours, theirs, core.logger, method_for(conn))
        except (NoProposalChosen, ValueError) as err:
            problem = str(err)
    return problem


def _first(payloads, cls):
    return next((p for p in payloads if isinstance(p, cls)), None)
