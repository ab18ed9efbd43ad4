"""PRFs: published vectors, the AES key rules of RFC 4434/4615, cross-checks with hashlib/hmac."""

import hashlib
import hmac
import json

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st
from vector_files import VECTORS as SHARED_VECTORS

from pluto.crypto.prf import (
    PRFS,
    AesCmacPrf,
    AesXcbcPrf,
    HmacPrf,
    aes_cmac,
    aes_xcbc_mac,
    cmac_prf_key,
    xcbc_prf_key,
)

VECTORS = SHARED_VECTORS
PRF_BY_VECTOR_NAME = {
    "hmac-sha1": 2,
    "aes128-xcbc": 4,
    "hmac-sha256": 5,
    "hmac-sha384": 6,
    "hmac-sha512": 7,
    "aes128-cmac": 8,
}


def _vectors():
    return json.loads((VECTORS / "prf.json").read_text())["vectors"]


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: v["name"])
def test_published_vector(vector):
    prf = PRFS[PRF_BY_VECTOR_NAME[vector["prf"]]]
    out = prf(bytes.fromhex(vector["key"]), bytes.fromhex(vector["data"]))
    assert out.hex() == vector["out"]
    assert len(out) == prf.output_size


def test_every_vector_family_is_covered():
    seen = {v["prf"] for v in _vectors()}
    assert seen == set(PRF_BY_VECTOR_NAME)


def test_registry_matches_iana_prf_ids():
    expected = {
        1: ("hmac_md5", 16, 16),
        2: ("hmac_sha1", 20, 20),
        4: ("aes128_xcbc", 16, 16),
        5: ("hmac_sha2_256", 32, 32),
        6: ("hmac_sha2_384", 48, 48),
        7: ("hmac_sha2_512", 64, 64),
        8: ("aes128_cmac", 16, 16),
    }
    assert set(PRFS) == set(expected)
    for iana_id, (name, output_size, key_size) in expected.items():
        prf = PRFS[iana_id]
        assert (prf.iana_id, prf.name, prf.output_size, prf.key_size) == (
            iana_id,
            name,
            output_size,
            key_size,
        )
    assert PRFS[4].fixed_key_size == PRFS[8].fixed_key_size == 16
    assert all(PRFS[i].fixed_key_size is None for i in (1, 2, 5, 6, 7))


# RFC 2202 test cases 1 and 2 (HMAC-MD5 and HMAC-SHA-1), as published.
@pytest.mark.parametrize(
    "iana_id, key, data, digest",
    [
        (1, b"\x0b" * 16, b"Hi There", "9294727a3638bb1c13f48ef8158bfc9d"),
        (1, b"Jefe", b"what do ya want for nothing?", "750c783e6ab0b503eaa86e310a5db738"),
        (2, b"\x0b" * 20, b"Hi There", "b617318655057264e28bc0b6fb378c8ef146be00"),
        (2, b"Jefe", b"what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
    ],
)
def test_rfc2202_hmac_md5_and_sha1(iana_id, key, data, digest):
    assert PRFS[iana_id](key, data).hex() == digest


HMAC_HASHES = {1: "md5", 2: "sha1", 5: "sha256", 6: "sha384", 7: "sha512"}


@settings(max_examples=60, deadline=None)
@given(
    iana_id=st.sampled_from(sorted(HMAC_HASHES)),
    key=st.binary(max_size=200),
    data=st.binary(max_size=300),
)
def test_hmac_prfs_agree_with_the_standard_library(iana_id, key, data):
    name = HMAC_HASHES[iana_id]
    assert PRFS[iana_id](key, data) == hmac.digest(key, data, name)
    assert PRFS[iana_id].hash(data) == hashlib.new(name, data).digest()


def _aes_block(key, block):
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


def _reference_xcbc(key, message):
    """RFC 3566 §4 written out block by block, as a second implementation."""
    k1 = _aes_block(key, b"\x01" * 16)
    k2 = _aes_block(key, b"\x02" * 16)
    k3 = _aes_block(key, b"\x03" * 16)
    blocks = [message[i : i + 16] for i in range(0, len(message), 16)] or [b""]
    e = bytes(16)
    for block in blocks[:-1]:
        e = _aes_block(k1, bytes(a ^ b for a, b in zip(block, e, strict=True)))
    last = blocks[-1]
    if len(last) == 16:
        mask = k2
    else:
        last = last + b"\x80" + bytes(15 - len(last))
        mask = k3
    return _aes_block(k1, bytes(a ^ b ^ c for a, b, c in zip(last, e, mask, strict=True)))


@settings(max_examples=80, deadline=None)
@given(key=st.binary(min_size=16, max_size=16), message=st.binary(max_size=70))
def test_xcbc_mac_matches_a_block_by_block_reference(key, message):
    assert aes_xcbc_mac(key, message) == _reference_xcbc(key, message)


@pytest.mark.parametrize("length", [0, 1, 15, 16, 17, 31, 32, 33, 48])
def test_xcbc_mac_block_boundaries(length):
    key = bytes(range(16))
    message = bytes(range(length))
    assert aes_xcbc_mac(key, message) == _reference_xcbc(key, message)


@pytest.mark.parametrize("mac", [aes_xcbc_mac, aes_cmac])
@pytest.mark.parametrize("length", [0, 15, 17, 24, 32])
def test_bare_aes_macs_need_a_16_byte_key(mac, length):
    with pytest.raises(ValueError, match="16-byte key"):
        mac(bytes(length), b"data")


@pytest.mark.parametrize("length", [0, 1, 10, 15])
def test_xcbc_prf_pads_short_keys_with_zeros(length):
    key = bytes(range(1, length + 1))
    padded = key + bytes(16 - length)
    assert xcbc_prf_key(key) == padded
    assert AesXcbcPrf()(key, b"message") == aes_xcbc_mac(padded, b"message")


@pytest.mark.parametrize("length", [17, 18, 32, 100])
def test_xcbc_prf_hashes_long_keys_with_a_zero_key(length):
    key = bytes(range(length))
    derived = aes_xcbc_mac(bytes(16), key)
    assert xcbc_prf_key(key) == derived
    assert AesXcbcPrf()(key, b"message") == aes_xcbc_mac(derived, b"message")


def test_xcbc_prf_uses_a_16_byte_key_as_is():
    key = bytes(range(16))
    assert xcbc_prf_key(key) == key
    assert AesXcbcPrf()(key, b"m") == aes_xcbc_mac(key, b"m")


@pytest.mark.parametrize("length", [0, 1, 10, 15, 17, 18, 32, 64])
def test_cmac_prf_hashes_every_other_key_length(length):
    key = bytes(range(length))
    derived = aes_cmac(bytes(16), key)
    assert cmac_prf_key(key) == derived
    assert AesCmacPrf()(key, b"message") == aes_cmac(derived, b"message")


def test_cmac_and_xcbc_key_rules_differ_for_short_keys():
    # XCBC pads a short key, CMAC hashes it: the two PRFs must not share the rule.
    key = bytes(range(10))
    assert cmac_prf_key(key) != key + bytes(6)


def test_hmac_prf_is_a_prf_instance_with_hash_name():
    prf = PRFS[5]
    assert isinstance(prf, HmacPrf)
    assert prf.hash_name == "sha256"
    assert "hmac_sha2_256" in repr(prf)
