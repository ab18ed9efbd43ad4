"""Main Mode with pre-shared keys (RFC 2409 §5, §5.4): six messages, the last two encrypted.

    initiate            -> HDR, SA                          STATE_MAIN_I1
    main_inI1_outR1     <- HDR, SA                          STATE_MAIN_R1
    main_inR1_outI2     -> HDR, KE, Ni                      STATE_MAIN_I2
    main_inI2_outR2     <- HDR, KE, Nr                      STATE_MAIN_R2
    main_inR2_outI3     -> HDR*, IDii, HASH_I               STATE_MAIN_I3
    main_inI3_outR3     <- HDR*, IDir, HASH_R               STATE_MAIN_R3 (established)
    main_inR3           then Quick Mode                     STATE_MAIN_I4 (established)

With PSK the responder must know the key before it sees the initiator's ID (the ID comes
encrypted with a key derived from the PSK), so the connection is the one the addresses pick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluto.connections.connection import Connection, Kind
from pluto.connections.ids import Identity, IdentityError
from pluto.crypto.constant_time import bytes_equal
from pluto.crypto.kdf_ikev1 import ikev1_keys, skeyid_psk
from pluto.crypto.ke import InvalidKeyExchange
from pluto.engine.host import Endpoint
from pluto.ikev1 import messages
from pluto.ikev1.crypt import Phase1Crypto, UndecryptableMessage
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
    SecurityAssociationPayload,
    parse_payloads,
)
from pluto.packet.ikev1_types import ExchangeType, NotifyType, ProtocolId

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
    return (f"{{auth=PRESHARED_KEY cipher={c.encr.fqn}{bits} integ={c.prf.integ.fqn} "
            f"group={c.ke.fqn}}}")


def _psk(core: Pluto, conn: Connection) -> bytes | None:
    if core.secrets is None:
        return None
    return core.secrets.psk_for(conn.this.identity(), conn.that.identity())


def _id_payload(identity: Identity) -> IdentificationPayload:
    return IdentificationPayload(int(identity.type), identity.data)


# --- initiator ---------------------------------------------------------------------------


def initiate(core: Pluto, conn: Connection, whack=None, keying_try: int = 1) -> IsakmpSa:
    local: Endpoint = (conn.this.host, conn.this.ikeport)
    remote: Endpoint = (conn.that.host, conn.that.ikeport)
    isakmp = new_isakmp(core, conn, initiator=True, local=local, remote=remote,
                        spi_i=core.rand.spi_i(core.impairs, core.logger), kind=K.STATE_MAIN_I1)
    isakmp.whack, isakmp.keying_try = whack, keying_try
    isakmp.offered_sa = phase1_sa(ike_proposals(conn.ike), conn.lifetimes.ike)
    isakmp.sa_i_b = isakmp.offered_sa.emit_body(None)
    isakmp.logger.log("initiating IKEv1 Main Mode connection")
    datagram = messages.encode(core, isakmp, MAIN, 0, [isakmp.offered_sa], encrypt=False)
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
    _send_ke_nonce(core, isakmp, K.STATE_MAIN_I2, "sent Main Mode I2")


def _send_ke_nonce(core: Pluto, isakmp: IsakmpSa, kind: V1StateKind, story: str) -> None:
    isakmp.keypair = isakmp.chosen.ke.implementation().generate(core.rand)
    nonce = core.rand.nonce(NONCE_SIZE, core.impairs, isakmp.logger)
    if isakmp.initiator:
        isakmp.ni, isakmp.g_xi = nonce, isakmp.keypair.public
    else:
        isakmp.nr, isakmp.g_xr = nonce, isakmp.keypair.public
    payloads = [KeyExchangePayload(isakmp.keypair.public), NoncePayload(nonce)]
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
    psk = _psk(core, isakmp.conn)
    if psk is None:
        return (f"no preshared key for '{isakmp.conn.this.identity()}' and "
                f"'{isakmp.conn.that.identity()}'")
    if isakmp.initiator:
        isakmp.nr, isakmp.g_xr = nonce.data, ke.data
    else:
        isakmp.ni, isakmp.g_xi = nonce.data, ke.data
    isakmp.g_xy, isakmp.psk = g_xy, psk
    prf = isakmp.chosen.prf.implementation()
    keys = ikev1_keys(prf, skeyid_psk(prf, psk, isakmp.ni, isakmp.nr), g_xy, isakmp.spi_i,
                      isakmp.spi_r)
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
    id_payload = _id_payload(isakmp.conn.this.identity())
    hash_i = isakmp.crypto.hash_i(isakmp.g_xi, isakmp.g_xr, isakmp.spi_i, isakmp.spi_r,
                                  isakmp.sa_i_b, id_payload.emit_body(None))
    datagram = messages.encode(core, isakmp, MAIN, 0, [id_payload, HashPayload(hash_i)],
                               encrypt=True)
    core.change_state(isakmp, K.STATE_MAIN_I3)  # type: ignore[arg-type]
    messages.send(core, isakmp, isakmp, datagram, wait=True)
    core.log_new_state(isakmp, "sent Main Mode I3")


def main_inR3(core: Pluto, isakmp: IsakmpSa, msg: Message, data: bytes) -> None:
    peer = _check_peer(core, isakmp, msg, responder=False)
    if peer is None:
        return
    messages.accepted(core, isakmp, data)
    isakmp.crypto.phase1_done()
    _established(core, isakmp, peer, K.STATE_MAIN_I4)
    from pluto.ikev1 import quick_mode

    whack, isakmp.whack = isakmp.whack, None
    quick_mode.initiate(core, isakmp, isakmp.conn, whack=whack)


# --- responder ---------------------------------------------------------------------------


def main_inI1_outR1(core: Pluto, msg: Message, data: bytes, local: Endpoint,
                    remote: Endpoint) -> None:
    where = f"packet from {core.describe(remote)}"
    conn = _connection_for(core, local, remote)
    if conn is None:
        core.logger.log(f"{where}: initial Main Mode message received on "
                        f"{core.describe(local)} but no IKEv1 connection has been "
                        "authorized; ignoring it")
        return
    theirs = _first(msg.payloads, SecurityAssociationPayload)
    if theirs is None:
        core.logger.log(f"{where}: Main Mode request has no SA payload; ignoring it")
        return
    try:
        ours = phase1_sa(ike_proposals(conn.ike), conn.lifetimes.ike)
        chosen = choose_phase1(ours, theirs, core.logger)
    except NoProposalChosen as err:
        core.logger.log(f"{where}: {conn.label}: {err}; responding with NO_PROPOSAL_CHOSEN")
        from pluto.ikev1 import informational

        informational.send_clear_notify(core, msg, local, remote,
                                        NotifyType.NO_PROPOSAL_CHOSEN)
        return
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
    datagram = messages.encode(core, isakmp, MAIN, 0, [answer], encrypt=False)
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
    datagram = messages.encode(core, isakmp, MAIN, 0, payloads, encrypt=False)
    core.change_state(isakmp, K.STATE_MAIN_R2)  # type: ignore[arg-type]
    messages.send(core, isakmp, isakmp, datagram, wait=True)
    core.log_new_state(isakmp, "sent Main Mode R2")


def main_inI3_outR3(core: Pluto, isakmp: IsakmpSa, msg: Message, data: bytes) -> None:
    peer = _check_peer(core, isakmp, msg, responder=True)
    if peer is None:
        return
    messages.accepted(core, isakmp, data)
    id_payload = _id_payload(isakmp.conn.this.identity())
    hash_r = isakmp.crypto.hash_r(isakmp.g_xi, isakmp.g_xr, isakmp.spi_i, isakmp.spi_r,
                                  isakmp.sa_i_b, id_payload.emit_body(None))
    datagram = messages.encode(core, isakmp, MAIN, 0, [id_payload, HashPayload(hash_r)],
                               encrypt=True)
    isakmp.crypto.phase1_done()
    core.cancel(isakmp, "discard")
    messages.send(core, isakmp, isakmp, datagram, wait=False)
    _established(core, isakmp, peer, K.STATE_MAIN_R3)


# --- both ---------------------------------------------------------------------------------


def _check_peer(core: Pluto, isakmp: IsakmpSa, msg: Message, *,
                responder: bool) -> Identity | None:
    """Decrypt MI3/MR3, check the peer's ID and HASH; None (logged, dropped) when bad."""
    assert msg.encrypted is not None
    try:
        plaintext = isakmp.crypto.decrypt(0, msg.encrypted.data)
        payloads, _padding = parse_payloads(plaintext, msg.encrypted.first_payload)
    except (UndecryptableMessage, MalformedMessage) as err:
        isakmp.logger.log(f"probable authentication failure (mismatch of preshared "
                          f"secrets?): {err}; dropping the message")
        return None
    id_payload = _first(payloads, IdentificationPayload)
    hash_payload = _first(payloads, HashPayload)
    if id_payload is None or hash_payload is None:
        isakmp.logger.log("Main Mode message is missing ID or HASH; dropping it")
        return None
    try:
        peer = Identity.from_payload(id_payload.id_type, id_payload.data)
    except IdentityError as err:
        isakmp.logger.log(f"peer ID is not usable: {err}; dropping the message")
        return None
    wanted = isakmp.conn.that.identity()
    if wanted is not None and not wanted.matches(peer):
        isakmp.logger.log(f"peer ID '{peer}' is not the expected '{wanted}'; dropping it")
        return None
    make = isakmp.crypto.hash_i if responder else isakmp.crypto.hash_r
    expected = make(isakmp.g_xi, isakmp.g_xr, isakmp.spi_i, isakmp.spi_r, isakmp.sa_i_b,
                    id_payload.emit_body(None))
    if not bytes_equal(expected, hash_payload.data):
        isakmp.logger.log("received Hash Payload does not match computed value; "
                          "dropping the message")
        return None
    isakmp.crypto.accept(0, msg.encrypted.data)
    return peer


def _established(core: Pluto, isakmp: IsakmpSa, peer: Identity, kind: V1StateKind) -> None:
    isakmp.peer_id = peer
    core.change_state(isakmp, kind)  # type: ignore[arg-type]
    isakmp.established_at = core.clock.now()
    role = "initiator" if isakmp.initiator else "responder"
    core.log_new_state(isakmp, f"{role} established ISAKMP SA {describe(isakmp)}; "
                               f"authenticated peer using authby=secret and '{peer}'")


def _connection_for(core: Pluto, local: Endpoint, remote: Endpoint) -> Connection | None:
    for conn in core.connections.candidates_for(local, remote):
        if not conn.policy.ikev2:
            return conn
    return None


def _first(payloads, cls):
    return next((p for p in payloads if isinstance(p, cls)), None)
