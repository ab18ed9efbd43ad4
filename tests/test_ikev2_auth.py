"""PSK AUTH (RFC 7296 §2.15) against a hand computation with the standard library's hmac."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from pluto.crypto.prf import PRFS
from pluto.crypto.registry import Kind, by_name
from pluto.ikev2.auth import id_payload_body, psk_auth, signed_octets, verify_psk_auth
from pluto.packet.ikev2 import IDiPayload, IDrPayload

FIRST_MESSAGE = bytes.fromhex("0102030405060708" "0000000000000000" "2120220800000000") + \
    bytes(range(200))  # stands for the IKE_SA_INIT request as sent
PEER_NONCE = bytes(range(100, 132))
SK_PI = bytes(range(32))
PSK = b"this is a 30-character secret!"


def by_hand(hash_function, psk: bytes, message: bytes, nonce: bytes, sk_p: bytes,
            id_body: bytes) -> bytes:
    key = hmac.new(psk, b"Key Pad for IKEv2", hash_function).digest()
    maced_id = hmac.new(sk_p, id_body, hash_function).digest()
    return hmac.new(key, message + nonce + maced_id, hash_function).digest()


def test_id_payload_body_is_type_reserved_data():
    assert id_payload_body(IDiPayload(id_type=2, data=b"west.example")) == \
        b"\x02\x00\x00\x00west.example"
    assert id_payload_body(IDrPayload(id_type=1, data=bytes([198, 51, 100, 23]))) == \
        bytes([1, 0, 0, 0, 198, 51, 100, 23])


@pytest.mark.parametrize(("name", "hash_function"), [
    ("sha2_256", hashlib.sha256), ("sha2_384", hashlib.sha384), ("sha2_512", hashlib.sha512),
    ("sha1", hashlib.sha1)])
def test_psk_auth_matches_the_hand_computation(name, hash_function):
    prf_alg = by_name(Kind.PRF, name)
    id_body = id_payload_body(IDiPayload(id_type=2, data=b"west"))
    expected = by_hand(hash_function, PSK, FIRST_MESSAGE, PEER_NONCE, SK_PI, id_body)
    assert psk_auth(prf_alg, PSK, FIRST_MESSAGE, PEER_NONCE, SK_PI, id_body) == expected
    # The PRF object itself does as well as its registry entry.
    assert psk_auth(PRFS[prf_alg.ikev2_id], PSK, FIRST_MESSAGE, PEER_NONCE, SK_PI,
                    id_body) == expected
    assert verify_psk_auth(prf_alg, PSK, FIRST_MESSAGE, PEER_NONCE, SK_PI, id_body, expected)


def test_signed_octets():
    prf_alg = by_name(Kind.PRF, "sha2_256")
    id_body = b"\x02\x00\x00\x00east"
    assert signed_octets(prf_alg, b"MSG", b"NONCE", SK_PI, id_body) == \
        b"MSGNONCE" + hmac.new(SK_PI, id_body, hashlib.sha256).digest()


def test_every_input_matters():
    prf_alg = by_name(Kind.PRF, "sha2_256")
    id_body = id_payload_body(IDiPayload(id_type=2, data=b"west"))
    good = psk_auth(prf_alg, PSK, FIRST_MESSAGE, PEER_NONCE, SK_PI, id_body)
    changed = [
        (b"another secret", FIRST_MESSAGE, PEER_NONCE, SK_PI, id_body),
        (PSK, FIRST_MESSAGE[:-1] + b"\x00", PEER_NONCE, SK_PI, id_body),
        (PSK, FIRST_MESSAGE, PEER_NONCE[::-1], SK_PI, id_body),
        (PSK, FIRST_MESSAGE, PEER_NONCE, SK_PI[::-1], id_body),
        (PSK, FIRST_MESSAGE, PEER_NONCE, SK_PI, b"\x02\x00\x00\x00east"),
    ]
    for args in changed:
        assert not verify_psk_auth(prf_alg, *args, good)
    assert not verify_psk_auth(prf_alg, PSK, FIRST_MESSAGE, PEER_NONCE, SK_PI, id_body, good[:-1])
    flipped = bytes([good[0] ^ 1]) + good[1:]
    assert not verify_psk_auth(prf_alg, PSK, FIRST_MESSAGE, PEER_NONCE, SK_PI, id_body, flipped)


def test_aes_xcbc_prf_handles_any_psk_length():
    """AES-XCBC-PRF-128 with a PSK that is not 16 bytes: RFC 4434 key handling applies."""
    prf_alg = by_name(Kind.PRF, "aes_xcbc")
    id_body = b"\x02\x00\x00\x00west"
    sk_p = bytes(16)
    for psk in (b"short", PSK):
        auth = psk_auth(prf_alg, psk, FIRST_MESSAGE, PEER_NONCE, sk_p, id_body)
        assert len(auth) == 16
        assert verify_psk_auth(prf_alg, psk, FIRST_MESSAGE, PEER_NONCE, sk_p, id_body, auth)
