"""Quick Mode (RFC 2409 §5.5) with PFS; ESP, AH or ESP+AH in tunnel or transport mode: three
encrypted messages under an established ISAKMP SA, each with its own message ID and IV chain.

    initiate            -> HDR*, HASH(1), SA, Ni, [KE], IDci, IDcr       STATE_QUICK_I1
    quick_inI1_outR1    <- HDR*, HASH(2), SA, Nr, [KE], IDci, IDcr       STATE_QUICK_R1
    quick_inR1_outI2    -> HDR*, HASH(3); SAs installed                  STATE_QUICK_I2
    quick_inI2          SAs installed                                    STATE_QUICK_R2

KEYMAT = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b) per direction: the SA a
side receives on is keyed with the SPI that side chose; each protocol of an ESP+AH bundle has
its own SPIs and so its own KEYMAT.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

from pluto.connections.connection import Connection
from pluto.crypto.constant_time import bytes_equal
from pluto.crypto.kdf_ikev1 import quick_mode_keymat
from pluto.crypto.ke import InvalidKeyExchange
from pluto.engine import child_sas, outcome
from pluto.ikev1 import messages, natt
from pluto.ikev1.crypt import UndecryptableMessage, after_first_payload
from pluto.ikev1.phase2_sa import (
    Offer,
    Phase2Chosen,
    accept_phase2,
    ah_proposals,
    answer_phase2,
    bundle_ah_proposals,
    choose_phase2,
    esp_proposals,
    phase2_sa,
)
from pluto.ikev1.sa import NoProposalChosen
from pluto.ikev1.states import IsakmpSa, QuickSa, V1StateKind
from pluto.kernel.ops import KernelError
from pluto.packet.errors import MalformedMessage
from pluto.packet.ikev1 import (
    HashPayload,
    IdentificationPayload,
    KeyExchangePayload,
    Message,
    NoncePayload,
    Payload,
    SecurityAssociationPayload,
    emit_payloads,
    parse_payloads,
)
from pluto.packet.ikev1_types import ExchangeType, NotifyType, ProtocolId

if TYPE_CHECKING:
    from pluto.connections.connection import IPNetwork
    from pluto.engine.core import Pluto

QUICK = ExchangeType.QUICK
NONCE_SIZE = 32
# AH covers the IP header a NAT rewrites, and RFC 3948 encapsulates only ESP
NAT_AH = "AH (--authenticate) cannot cross the NAT between the peers; use ESP"
K = V1StateKind


def our_proposals(conn: Connection, pfs: bool) -> tuple[list | None, list | None]:
    """(ESP proposals, AH proposals) the connection asks for; None for a protocol it does not
    use. --esp holds the AH algorithms when AH is alone (phase2=ah with ah=)."""
    policy = conn.policy
    if not policy.encrypt:
        return None, ah_proposals(conn.esp, pfs)
    esp = esp_proposals(conn.esp, pfs)
    return esp, bundle_ah_proposals(esp) if policy.authenticate else None


def _pfs_group(isakmp: IsakmpSa, conn: Connection):
    if not conn.policy.pfs:
        return None
    esp, ah = our_proposals(conn, pfs=True)
    named = [k for p in (esp or ah or []) for k in p.ke if not k.is_none]
    return named[0] if named else isakmp.chosen.ke


def _our_sa(core: Pluto, isakmp: IsakmpSa, conn: Connection, child: QuickSa | None,
            group) -> SecurityAssociationPayload:
    """Our offer with our inbound SPIs (``child``), or with zero SPIs to choose by."""
    esp, ah = our_proposals(conn, conn.policy.pfs)
    main_spi = (child.inbound_spi if child else 0).to_bytes(4, "big")
    ah_spi = (child.ah_inbound_spi if child else 0).to_bytes(4, "big")
    offer = Offer(esp, main_spi, ah, ah_spi) if esp is not None else \
        Offer(None, b"", ah, main_spi)
    return phase2_sa(offer, conn.lifetimes.ipsec, conn.policy.tunnel, group,
                     natt.quick_mode(isakmp, conn.policy.tunnel))


def _allocate_spis(core: Pluto, isakmp: IsakmpSa, child: QuickSa) -> None:
    """Our inbound SPIs: ESP's (or AH's when alone) and, in a bundle, AH's too."""
    policy = child.conn.policy
    peer, us = isakmp.remote[0], isakmp.local[0]
    child.inbound_spi = core.kernel.allocate_spi("esp" if policy.encrypt else "ah", peer, us)
    if policy.encrypt and policy.authenticate:
        child.ah_inbound_spi = core.kernel.allocate_spi("ah", peer, us)


def _policy_text(conn: Connection) -> str:
    """libreswan's words for what Quick Mode negotiates: ENCRYPT (ESP), AUTHENTICATE (AH)."""
    words = (["ENCRYPT"] if conn.policy.encrypt else []) + \
        (["AUTHENTICATE"] if conn.policy.authenticate else [])
    return "+".join(words)


def _virtual_claim(core: Pluto, conn: Connection, ids: list) -> IPNetwork | None:
    """The peer's client ID (IDci) when our end for it is virtual (``vhost:``/``vnet:``,
    not yet narrowed) and virtual-private accepts it whole, as IKEv2's TSi; else None."""
    from pluto.connections.virtual_private import choose_client

    end = conn.that
    if end.virtual is None or end.client is not None or len(ids) != 2:
        return None
    idci = ids[0].network()
    if idci is None:
        return None
    return choose_client(end.virtual, [idci], end.host, core.options.virtual_private)


def new_quick(core: Pluto, isakmp: IsakmpSa, conn: Connection, *, initiator: bool,
              message_id: int, kind: V1StateKind) -> QuickSa:
    serial = core.states.next_serial()
    child = QuickSa(serial=serial, conn=conn, kind=kind,  # type: ignore[arg-type]
                    logger=core.state_logger(conn, serial), created=core.clock.now(),
                    ike_serial=isakmp.serial, initiator=initiator, message_id=message_id)
    core.states.add(child)
    isakmp.children.append(serial)
    isakmp.phase2[message_id] = serial
    isakmp.seen_ids.add(message_id)
    child.local_ts, child.remote_ts = conn.this.selector(), conn.that.selector()
    return child


def _message_id(core: Pluto, isakmp: IsakmpSa) -> int:
    while True:
        message_id = core.rand.randint(1, 0xFFFFFFFF)
        if message_id not in isakmp.seen_ids:
            return message_id


def _send(core: Pluto, isakmp: IsakmpSa, child: QuickSa, payloads: list[Payload], *,
          wait: bool) -> None:
    datagram = messages.encode(core, isakmp, QUICK, child.message_id, payloads, encrypt=True)
    messages.send(core, isakmp, child, datagram, wait=wait)


def _with_hash(make_hash, rest: list[Payload]) -> list[Payload]:
    _first_type, body = emit_payloads(rest)
    return [HashPayload(make_hash(body)), *rest]


# --- initiator ---------------------------------------------------------------------------


def initiate(core: Pluto, isakmp: IsakmpSa, conn: Connection, whack=None) -> QuickSa:
    child = new_quick(core, isakmp, conn, initiator=True,
                      message_id=_message_id(core, isakmp), kind=K.STATE_QUICK_I1)
    child.whack = whack
    if conn.policy.authenticate and isakmp.encapsulate:
        messages.fail(core, child, None, NAT_AH)
        return child
    _allocate_spis(core, isakmp, child)
    group = _pfs_group(isakmp, conn)
    child.offer = _our_sa(core, isakmp, conn, child, group)
    child.ni = core.rand.nonce(NONCE_SIZE, core.impairs, child.logger)
    rest: list[Payload] = [child.offer, NoncePayload(child.ni)]
    if group is not None:
        child.keypair = group.implementation().generate(core.rand)
        rest.append(KeyExchangePayload(child.keypair.public))
    rest += [IdentificationPayload.for_network(child.local_ts),
             IdentificationPayload.for_network(child.remote_ts)]
    rest += natt.original_addresses(isakmp, conn.policy.tunnel, initiator=True)
    crypto = isakmp.crypto
    mode = "TUNNEL" if conn.policy.tunnel else "TRANSPORT"
    auth = "RSASIG" if conn.policy.auth.value == "rsasig" else "PSK"
    child.logger.log(f"initiating Quick Mode IKEv1+{auth}+{_policy_text(conn)}+{mode}"
                     f"{'+PFS' if group else ''}")
    _send(core, isakmp, child, _with_hash(lambda b: crypto.hash_1(child.message_id, b), rest),
          wait=True)
    core.log_new_state(child, f"sent Quick Mode request using ISAKMP SA #{isakmp.serial}")
    return child


def quick_inR1_outI2(core: Pluto, isakmp: IsakmpSa, child: QuickSa, msg: Message,
                     data: bytes) -> None:
    opened = _open(isakmp, child.message_id, msg, child.logger)
    if opened is None:
        return
    payloads, rest = opened
    crypto = isakmp.crypto
    if not bytes_equal(crypto.hash_2(child.message_id, child.ni, rest), payloads[0].data):
        child.logger.log("received HASH(2) does not match computed value; dropping it")
        return
    sa = _first(payloads, SecurityAssociationPayload)
    nonce = _first(payloads, NoncePayload)
    if sa is None or nonce is None:
        child.logger.log("Quick Mode response is missing SA or Nonce; dropping it")
        return
    try:
        chosen = accept_phase2(child.offer, sa, child.logger)
    except NoProposalChosen as err:
        crypto.accept(child.message_id, msg.encrypted.data)
        messages.fail(core, child, NotifyType.NO_PROPOSAL_CHOSEN,
                      f"Quick Mode response has an unacceptable SA: {err}")
        return
    problem = _pfs(child, chosen, _first(payloads, KeyExchangePayload))
    if problem is not None:
        crypto.accept(child.message_id, msg.encrypted.data)
        messages.fail(core, child, NotifyType.INVALID_KEY_INFORMATION, problem)
        return
    crypto.accept(child.message_id, msg.encrypted.data)
    messages.accepted(core, child, data)
    child.nr, child.chosen = nonce.data, chosen
    child.outbound_spi = int.from_bytes(chosen.spi, "big")
    hash_3 = HashPayload(crypto.hash_3(child.message_id, child.ni, child.nr))
    _send(core, isakmp, child, [hash_3], wait=False)
    _install(core, isakmp, child, K.STATE_QUICK_I2)


# --- responder ---------------------------------------------------------------------------


def quick_inI1_outR1(core: Pluto, isakmp: IsakmpSa, msg: Message, data: bytes) -> None:
    message_id = msg.message_id
    opened = _open(isakmp, message_id, msg, isakmp.logger)
    if opened is None:
        return
    payloads, rest = opened
    crypto = isakmp.crypto
    if not bytes_equal(crypto.hash_1(message_id, rest), payloads[0].data):
        isakmp.logger.log("received HASH(1) does not match computed value; dropping it")
        return
    crypto.accept(message_id, msg.encrypted.data)
    from pluto.ikev1 import informational

    conn = isakmp.conn
    sa = _first(payloads, SecurityAssociationPayload)
    nonce = _first(payloads, NoncePayload)
    if sa is None or nonce is None:
        isakmp.logger.log("Quick Mode request is missing SA or Nonce; dropping it")
        crypto.forget(message_id)
        return
    ids = [p for p in payloads if isinstance(p, IdentificationPayload)]
    claim = _virtual_claim(core, conn, ids)
    if ids:
        if len(ids) != 2 or (claim is None and not natt.same_client(
                isakmp, conn, ids[0].network(), payloads)) \
                or ids[1].network() != conn.this.selector():
            isakmp.logger.log("Quick Mode request's IDs do not match the connection's "
                              f"{conn.that.selector()}==={conn.this.selector()}; responding "
                              "with INVALID_ID_INFORMATION")
            informational.send_notify(core, isakmp, NotifyType.INVALID_ID_INFORMATION)
            crypto.forget(message_id)
            return
    if conn.policy.authenticate and isakmp.encapsulate:
        isakmp.logger.log(f"Quick Mode: {NAT_AH}; responding with NO_PROPOSAL_CHOSEN")
        informational.send_notify(core, isakmp, NotifyType.NO_PROPOSAL_CHOSEN)
        crypto.forget(message_id)
        return
    group = _pfs_group(isakmp, conn)
    try:
        chosen = choose_phase2(_our_sa(core, isakmp, conn, None, group), sa, isakmp.logger)
    except NoProposalChosen as err:
        isakmp.logger.log(f"Quick Mode: {err}; responding with NO_PROPOSAL_CHOSEN")
        informational.send_notify(core, isakmp, NotifyType.NO_PROPOSAL_CHOSEN)
        crypto.forget(message_id)
        return
    child = new_quick(core, isakmp, conn, initiator=False, message_id=message_id,
                      kind=K.STATE_QUICK_R0)
    if claim is not None:  # a road warrior's inside address that virtual-private allows
        from pluto.ikev2.ts import narrow_instance

        child.remote_ts = claim
        narrow_instance(conn, claim)
    child.ni, child.chosen = nonce.data, chosen
    child.outbound_spi = int.from_bytes(chosen.spi, "big")
    if chosen.ke is not None:
        child.keypair = chosen.ke.implementation().generate(core.rand)
    problem = _pfs(child, chosen, _first(payloads, KeyExchangePayload))
    if problem is not None:
        isakmp.logger.log(f"Quick Mode: {problem}; dropping it")
        outcome.delete_state(core, child)
        return
    messages.accepted(core, child, data)
    _allocate_spis(core, isakmp, child)
    child.nr = core.rand.nonce(NONCE_SIZE, core.impairs, child.logger)
    spis = {chosen.protocol: child.inbound_spi.to_bytes(4, "big")}
    if chosen.ah is not None:
        spis[ProtocolId.IPSEC_AH] = child.ah_inbound_spi.to_bytes(4, "big")
    answer = answer_phase2(sa, chosen, spis)
    out: list[Payload] = [answer, NoncePayload(child.nr)]
    if child.keypair is not None:
        out.append(KeyExchangePayload(child.keypair.public))
    out += ids
    out += natt.original_addresses(isakmp, conn.policy.tunnel, initiator=False)
    core.change_state(child, K.STATE_QUICK_R1)  # type: ignore[arg-type]
    _send(core, isakmp, child,
          _with_hash(lambda b: crypto.hash_2(message_id, child.ni, b), out), wait=True)
    core.log_new_state(child, f"responding to Quick Mode proposal {{msgid:{message_id:08x}}}")


def quick_inI2(core: Pluto, isakmp: IsakmpSa, child: QuickSa, msg: Message,
               data: bytes) -> None:
    opened = _open(isakmp, child.message_id, msg, child.logger)
    if opened is None:
        return
    payloads, _rest = opened
    expected = isakmp.crypto.hash_3(child.message_id, child.ni, child.nr)
    if not bytes_equal(expected, payloads[0].data):
        child.logger.log("received HASH(3) does not match computed value; dropping it")
        return
    isakmp.crypto.accept(child.message_id, msg.encrypted.data)
    messages.accepted(core, child, data)
    child.exchange.last_sent = b""  # nothing answers QI2
    _install(core, isakmp, child, K.STATE_QUICK_R2)


# --- both ---------------------------------------------------------------------------------


def _open(isakmp: IsakmpSa, message_id: int, msg: Message, logger):
    """Decrypt and parse; the first payload must be the HASH. (payloads, bytes after HASH)."""
    if msg.encrypted is None:
        logger.log("Quick Mode message is not encrypted; dropping it")
        return None
    try:
        plaintext = isakmp.crypto.decrypt(message_id, msg.encrypted.data)
        payloads, padding = parse_payloads(plaintext, msg.encrypted.first_payload)
        rest = after_first_payload(plaintext, padding)
    except (UndecryptableMessage, MalformedMessage) as err:
        logger.log(f"cannot decrypt or parse the Quick Mode message: {err}; dropping it")
        return None
    if not payloads or not isinstance(payloads[0], HashPayload):
        logger.log("Quick Mode message does not start with a HASH payload; dropping it")
        return None
    return payloads, rest


def _pfs(child: QuickSa, chosen: Phase2Chosen, ke: KeyExchangePayload | None) -> str | None:
    if chosen.ke is None:
        child.g_qm_xy = None
        return None if ke is None else "KE payload without a PFS group"
    if ke is None:
        return f"PFS group {chosen.ke.fqn} but no KE payload"
    try:
        child.g_qm_xy = child.keypair.shared_secret(ke.data)
    except InvalidKeyExchange as err:
        return f"peer's KE is invalid: {err}"
    return None


def _protocol_keys(isakmp: IsakmpSa, child: QuickSa, part: Phase2Chosen,
                   inbound_spi: int) -> SimpleNamespace:
    """One protocol's keys: ``*_i`` protect initiator-to-responder traffic, which the
    responder receives on the SPI it chose."""
    prf = isakmp.chosen.prf.implementation()
    ours, theirs = inbound_spi.to_bytes(4, "big"), part.spi
    responder_spi, initiator_spi = (theirs, ours) if child.initiator else (ours, theirs)

    def split(spi: bytes) -> tuple[bytes, bytes]:
        keymat = quick_mode_keymat(prf, isakmp.keys.skeyid_d, part.protocol, spi,
                                   child.ni, child.nr, part.keymat_size, child.g_qm_xy)
        cut = 0 if part.encr is None else part.encr.keymat_size(part.encr_key_bits)
        return keymat[:cut], keymat[cut:]

    encr_i, integ_i = split(responder_spi)
    encr_r, integ_r = split(initiator_spi)
    return SimpleNamespace(encr_i=encr_i, integ_i=integ_i, encr_r=encr_r, integ_r=integ_r)


def child_keys(isakmp: IsakmpSa, child: QuickSa) -> SimpleNamespace:
    """The keys child_sas.install wants: the first protocol's as ``encr_i`` ... and, in
    ``parts``, every protocol's SPIs, algorithms and keys, innermost (ESP) first."""
    chosen: Phase2Chosen = child.chosen
    parts = []
    for part in chosen.parts():
        inbound = child.ah_inbound_spi if part is chosen.ah else child.inbound_spi
        parts.append(child_sas.ProtocolSa(part.protocol_name, inbound,
                                          int.from_bytes(part.spi, "big"), part,
                                          _protocol_keys(isakmp, child, part, inbound)))
    first = parts[0].keys
    return SimpleNamespace(encr_i=first.encr_i, integ_i=first.integ_i, encr_r=first.encr_r,
                           integ_r=first.integ_r, parts=parts)


def _install(core: Pluto, isakmp: IsakmpSa, child: QuickSa, kind: V1StateKind) -> None:
    try:
        child_sas.install(core, isakmp, child, child_keys(isakmp, child))
    except KernelError as err:
        messages.fail(core, child, None, f"kernel refused the IPsec SA: {err}")
        return
    core.change_state(child, kind)  # type: ignore[arg-type]
    child.established_at = core.clock.now()
    line = f"IPsec SA established {child_sas.tunnel_text(child)}"
    if child.initiator:
        outcome.succeeded(core, child, line)
    else:
        core.log_new_state(child, line)


def _first(payloads, cls):
    return next((p for p in payloads if isinstance(p, cls)), None)
