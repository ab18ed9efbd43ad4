"""IKEv1 Main Mode with RSA signatures (RFC 2409 §5.1) between two in-process cores: the
SIG_I/SIG_R on the wire are checked here with `cryptography`'s raw RSA public operation
against HASH_I/HASH_R recomputed from the RFC formulas; a bad signature, a wrong key and a
missing key are refused with INVALID_KEY_INFORMATION, as libreswan does."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from pluto.crypto.hostkey import format_rsasigkey, format_secrets_entry
from pluto.crypto.kdf_ikev1 import ikev1_keys, skeyid_signature
from pluto.crypto.prf import PRFS
from pluto.ikev1 import phase1_auth
from pluto.ikev1.crypt import Phase1Crypto
from pluto.ikev1.states import IsakmpSa, QuickSa
from pluto.packet.ikev1 import (
    IdentificationPayload,
    KeyExchangePayload,
    NoncePayload,
    SecurityAssociationPayload,
    SignaturePayload,
    parse_message,
    parse_payloads,
)
from pluto.packet.ikev1_types import NotifyType, OakleyAttribute, OakleyAuthMethod
from pluto.whack_protocol import RC_NOTIFICATION
from tests.inprocess.harness import Pair, connection


@pytest.fixture(scope="module")
def keys() -> dict[str, rsa.RSAPrivateKey]:
    return {name: rsa.generate_private_key(public_exponent=65537, key_size=2048)
            for name in ("west", "east", "mallory")}


def _pair(keys, *, west_key: str = "west", east_key: str = "east") -> Pair:
    pair = Pair(west_secrets=format_secrets_entry(keys[west_key], "@west"),
                east_secrets=format_secrets_entry(keys[east_key], "@east"))
    for host in (pair.west, pair.east):
        host.core.options.ikev1_policy = "accept"
        host.impairs.apply("revival")
    return pair


def _conn(keys, *, west_pub: str | None = "west", east_pub: str | None = "east") -> dict:
    desc = connection(ikev2=False, auth="rsasig", keyingtries=1)
    if west_pub:
        desc["left"]["rsasigkey"] = format_rsasigkey(keys[west_pub].public_key())
    if east_pub:
        desc["right"]["rsasigkey"] = format_rsasigkey(keys[east_pub].public_key())
    return desc


def _run(pair: Pair, west_desc: dict, east_desc: dict | None = None):
    pair.add(west_desc, east_desc or west_desc)
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    return reply


def _raw_rsa_open(public: rsa.RSAPublicKey, signature: bytes) -> bytes:
    numbers = public.public_numbers()
    size = (numbers.n.bit_length() + 7) // 8
    return pow(int.from_bytes(signature, "big"), numbers.e, numbers.n).to_bytes(size, "big")


def test_main_mode_rsasig_establishes_and_signatures_verify_independently(keys):
    pair = _pair(keys)
    reply = _run(pair, _conn(keys))
    assert reply.finished == 0, reply.lines
    assert any("initiator established ISAKMP SA {auth=RSA_SIG cipher=AES_CBC_256" in t
               and "authenticated peer using authby=rsasig and '@east'" in t
               for t in reply.texts)
    assert pair.east.lines_with("responder established ISAKMP SA {auth=RSA_SIG")
    assert [s.kind.name for s in pair.west.core.states] == ["STATE_MAIN_I4", "STATE_QUICK_I2"]
    assert len(pair.west.kernel.installed_sas()) == len(pair.east.kernel.installed_sas()) == 2

    wire = [parse_message(d.data) for d in pair.wire.sent]
    mi1, mr1, mi2, mr2, mi3, mr3 = wire[:6]
    offered = mi1.find(SecurityAssociationPayload)[0].proposals[0].transforms[0]
    auth = {a.type: a.as_int() for a in offered.attributes}
    assert auth[OakleyAttribute.AUTHENTICATION_METHOD] == OakleyAuthMethod.RSA_SIG
    # Rebuild SKEYID = prf(Ni_b | Nr_b, g^xy) and the phase 1 cipher from the wire + DH.
    west_isakmp = next(s for s in pair.west.core.states if isinstance(s, IsakmpSa))
    ke_i, ke_r = mi2.find(KeyExchangePayload)[0].data, mr2.find(KeyExchangePayload)[0].data
    ni, nr = mi2.find(NoncePayload)[0].data, mr2.find(NoncePayload)[0].data
    g_xy = west_isakmp.keypair.shared_secret(ke_r)
    prf = PRFS[5]
    cky_i, cky_r = mr1.icookie, mr1.rcookie
    k = ikev1_keys(prf, skeyid_signature(prf, ni, nr, g_xy), g_xy, cky_i, cky_r)
    crypto = Phase1Crypto(west_isakmp.chosen, k, ke_i, ke_r)
    sa_i_b = mi1.find(SecurityAssociationPayload)[0].emit_body(None)
    for msg, signer, make in ((mi3, "west", crypto.hash_i), (mr3, "east", crypto.hash_r)):
        plain = crypto.decrypt(0, msg.encrypted.data)
        crypto.accept(0, msg.encrypted.data)
        payloads, _ = parse_payloads(plain, msg.encrypted.first_payload)
        id_body = next(p for p in payloads if isinstance(p, IdentificationPayload)).emit_body(
            None)
        sig = next(p for p in payloads if isinstance(p, SignaturePayload)).data
        expected = make(ke_i, ke_r, cky_i, cky_r, sa_i_b, id_body)
        opened = _raw_rsa_open(keys[signer].public_key(), sig)
        # PKCS #1 v1.5 type 1, no DigestInfo: 00 01 FF.. 00 HASH
        assert opened.startswith(b"\x00\x01\xff") and opened.endswith(b"\x00" + expected)
        assert set(opened[2:-len(expected) - 1]) == {0xFF}


def test_rsa_sign_and_verify_helpers_reject_a_flipped_bit(keys):
    digest = bytes(range(32))
    sig = phase1_auth.rsa_sign_hash(keys["west"], digest)
    assert phase1_auth.rsa_verify_hash(keys["west"].public_key(), digest, sig)
    bad = bytes([sig[0] ^ 1]) + sig[1:]
    assert not phase1_auth.rsa_verify_hash(keys["west"].public_key(), digest, bad)
    assert not phase1_auth.rsa_verify_hash(keys["east"].public_key(), digest, sig)
    assert not phase1_auth.rsa_verify_hash(keys["west"].public_key(), digest, sig[:-1])


def test_wrong_initiator_key_is_refused_with_invalid_key_information(keys):
    # west signs with mallory's key: east checks SIG_I against west's real public key.
    pair = _pair(keys, west_key="mallory")
    desc = _conn(keys)
    west_desc = _conn(keys, west_pub="mallory")
    reply = _run(pair, west_desc, desc)
    assert pair.east.lines_with("RSA signature of '@west' does not verify with its public key"
                                " (wrong key?); sending notification INVALID_KEY_INFORMATION")
    assert pair.west.lines_with("received and ignored notification payload: "
                                "INVALID_KEY_INFORMATION")
    assert len(pair.east.core.states) == 0
    pair.advance(61)
    assert reply.finished not in (None, 0)
    assert not pair.west.kernel.installed_sas() and not pair.east.kernel.installed_sas()


def test_bad_responder_signature_is_refused_by_the_initiator(keys):
    pair = _pair(keys, east_key="mallory")
    west_desc = _conn(keys)
    east_desc = _conn(keys, east_pub="mallory")
    reply = _run(pair, west_desc, east_desc)
    assert reply.finished == RC_NOTIFICATION + NotifyType.INVALID_KEY_INFORMATION
    assert pair.west.lines_with("RSA signature of '@east' does not verify")
    assert pair.east.lines_with("received and ignored notification payload: "
                                "INVALID_KEY_INFORMATION")
    assert not pair.west.kernel.installed_sas()


def test_unknown_peer_key_is_refused(keys):
    pair = _pair(keys)
    east_desc = _conn(keys, west_pub=None)
    pair.add(_conn(keys), east_desc)
    pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert pair.east.lines_with("no RSA public key known for '@west'; sending notification "
                                "INVALID_KEY_INFORMATION")
    assert not any(isinstance(s, QuickSa) for s in pair.west.core.states)


def test_rsasig_and_psk_peers_do_not_agree_on_a_proposal(keys):
    pair = _pair(keys)
    reply = _run(pair, _conn(keys), connection(ikev2=False, keyingtries=1))
    assert reply.finished == RC_NOTIFICATION + NotifyType.NO_PROPOSAL_CHOSEN
