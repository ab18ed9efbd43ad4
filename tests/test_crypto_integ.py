"""Integrity algorithms: published vectors, truncation, key checks, constant-time verify."""

import hmac
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vector_files import VECTORS as SHARED_VECTORS

import pluto.crypto.integ as integ_module
from pluto.crypto.constant_time import bytes_equal
from pluto.crypto.integ import INTEGS
from pluto.crypto.prf import aes_xcbc_mac

VECTORS = SHARED_VECTORS
INTEG_BY_VECTOR_NAME = {
    "auth-aes-xcbc-96": 5,
    "auth-aes-cmac-96": 8,
    "auth-hmac-sha2-256-128": 12,
    "auth-hmac-sha2-384-192": 13,
    "auth-hmac-sha2-512-256": 14,
}


def _vectors():
    return json.loads((VECTORS / "integ.json").read_text())["vectors"]


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: v["name"])
def test_published_vector(vector):
    integ = INTEGS[INTEG_BY_VECTOR_NAME[vector["alg"]]]
    key, data = bytes.fromhex(vector["key"]), bytes.fromhex(vector["data"])
    icv = integ.mac(key, data)
    assert icv.hex() == vector["mac"]
    assert len(icv) == integ.icv_size
    full = vector.get("full_hmac") or vector.get("full_mac")
    if full:
        assert full.startswith(icv.hex())
    assert integ.verify(key, data, bytes.fromhex(vector["mac"]))


def test_every_vector_family_is_covered():
    assert {v["alg"] for v in _vectors()} == set(INTEG_BY_VECTOR_NAME)


def test_registry_matches_iana_integ_ids():
    expected = {
        1: ("hmac_md5_96", 16, 12),
        2: ("hmac_sha1_96", 20, 12),
        5: ("aes_xcbc_96", 16, 12),
        8: ("aes_cmac_96", 16, 12),
        12: ("hmac_sha2_256_128", 32, 16),
        13: ("hmac_sha2_384_192", 48, 24),
        14: ("hmac_sha2_512_256", 64, 32),
    }
    assert set(INTEGS) == set(expected)
    for iana_id, (name, key_size, icv_size) in expected.items():
        integ = INTEGS[iana_id]
        assert (integ.iana_id, integ.name, integ.key_size, integ.icv_size) == (
            iana_id,
            name,
            key_size,
            icv_size,
        )


# RFC 2403 §5 and RFC 2404 §5, test case 1 of each (HMAC-MD5-96, HMAC-SHA-1-96).
@pytest.mark.parametrize(
    "iana_id, key, icv",
    [
        (1, b"\x0b" * 16, "9294727a3638bb1c13f48ef8"),
        (2, b"\x0b" * 20, "b617318655057264e28bc0b6"),
    ],
)
def test_rfc2403_rfc2404_first_case(iana_id, key, icv):
    assert INTEGS[iana_id].mac(key, b"Hi There").hex() == icv


HMAC_HASHES = {1: "md5", 2: "sha1", 12: "sha256", 13: "sha384", 14: "sha512"}


@settings(max_examples=40, deadline=None)
@given(
    iana_id=st.sampled_from(sorted(HMAC_HASHES)),
    seed=st.binary(min_size=1, max_size=8),
    data=st.binary(max_size=200),
)
def test_hmac_integs_are_truncated_stdlib_hmac(iana_id, seed, data):
    integ = INTEGS[iana_id]
    key = (seed * integ.key_size)[: integ.key_size]
    expected = hmac.digest(key, data, HMAC_HASHES[iana_id])[: integ.icv_size]
    assert integ.mac(key, data) == expected


def test_xcbc_96_truncates_the_full_xcbc_mac():
    key = bytes(range(16))
    assert INTEGS[5].mac(key, b"abc") == aes_xcbc_mac(key, b"abc")[:12]


@pytest.mark.parametrize("iana_id", sorted(INTEGS))
def test_wrong_key_length_is_refused(iana_id):
    integ = INTEGS[iana_id]
    for length in (integ.key_size - 1, integ.key_size + 1):
        with pytest.raises(ValueError, match=f"{integ.key_size}-byte key"):
            integ.mac(bytes(length), b"data")


@pytest.mark.parametrize("iana_id", sorted(INTEGS))
def test_verify_rejects_any_change(iana_id):
    integ = INTEGS[iana_id]
    key = bytes(range(integ.key_size))
    data = b"an IKE message"
    icv = integ.mac(key, data)
    assert integ.verify(key, data, icv)
    for position in (0, len(icv) - 1):
        forged = bytearray(icv)
        forged[position] ^= 0x01
        assert not integ.verify(key, data, bytes(forged))
    assert not integ.verify(key, data, icv[:-1])
    assert not integ.verify(key, data, icv + b"\x00")
    assert not integ.verify(key, data + b"!", icv)
    assert not integ.verify(bytes(integ.key_size), data, icv)


def test_verify_compares_through_the_constant_time_helper(monkeypatch):
    calls = []

    def spy(expected, received):
        calls.append((expected, received))
        return bytes_equal(expected, received)

    monkeypatch.setattr(integ_module, "bytes_equal", spy)
    integ = INTEGS[12]
    key = bytes(32)
    icv = integ.mac(key, b"x")
    assert integ.verify(key, b"x", icv)
    assert calls == [(icv, icv)]


def test_bytes_equal():
    assert bytes_equal(b"abc", b"abc")
    assert bytes_equal(b"", b"")
    assert not bytes_equal(b"abc", b"abd")
    assert not bytes_equal(b"abc", b"ab")
    assert bytes_equal(bytearray(b"xy"), b"xy")
