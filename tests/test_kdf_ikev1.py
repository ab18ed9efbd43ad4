"""IKEv1 key derivation: every published vector, Appendix B, IVs and Quick Mode KEYMAT."""

import hashlib
import hmac
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vector_files import VECTORS as SHARED_VECTORS

from pluto.crypto.kdf_ikev1 import (
    encryption_key,
    expand_keymat,
    ikev1_keys,
    phase1_iv,
    phase2_iv,
    quick_mode_keymat,
    skeyid_derived,
    skeyid_psk,
    skeyid_signature,
)
from pluto.crypto.prf import PRFS

VECTORS = SHARED_VECTORS
PRF_BY_VECTOR_NAME = {
    "hmac-sha1": 2,
    "aes128-xcbc": 4,
    "hmac-sha256": 5,
    "hmac-sha384": 6,
    "hmac-sha512": 7,
    "aes128-cmac": 8,
}


def _vectors(kind=None):
    vectors = json.loads((VECTORS / "ikev1-kdf.json").read_text())["vectors"]
    return [v for v in vectors if kind is None or v["kind"] == kind]


def _hex(vector, *names):
    return [bytes.fromhex(vector[name]) for name in names]


def _prf(vector):
    return PRFS[PRF_BY_VECTOR_NAME[vector["prf"]]]


def test_every_vector_kind_is_tested():
    assert {v["kind"] for v in _vectors()} == {
        "ikev1_psk_full",
        "ikev1_sig_full",
        "ikev1_psk_skeyid",
        "ikev1_sig_skeyid",
        "ikev1_skeyid_x",
        "ikev1_appendix_b",
        "ikev1_keymat",
    }


def _check_keys(prf, skeyid, vector):
    g_xy, cky_i, cky_r = _hex(vector, "gxy", "cky_i", "cky_r")
    keys = ikev1_keys(prf, skeyid, g_xy, cky_i, cky_r)
    assert keys.skeyid.hex() == vector["skeyid"]
    assert keys.skeyid_d.hex() == vector["skeyid_d"]
    assert keys.skeyid_a.hex() == vector["skeyid_a"]
    assert keys.skeyid_e.hex() == vector["skeyid_e"]


@pytest.mark.parametrize("vector", _vectors("ikev1_psk_full"), ids=lambda v: v["name"])
def test_full_psk_case(vector):
    prf = _prf(vector)
    psk, ni, nr = _hex(vector, "psk", "ni", "nr")
    _check_keys(prf, skeyid_psk(prf, psk, ni, nr), vector)


@pytest.mark.parametrize("vector", _vectors("ikev1_sig_full"), ids=lambda v: v["name"])
def test_full_signature_case(vector):
    prf = _prf(vector)
    ni, nr, g_xy = _hex(vector, "ni", "nr", "gxy")
    _check_keys(prf, skeyid_signature(prf, ni, nr, g_xy), vector)


@pytest.mark.parametrize("vector", _vectors("ikev1_psk_skeyid"), ids=lambda v: v["name"])
def test_psk_skeyid(vector):
    psk, ni, nr = _hex(vector, "psk", "ni", "nr")
    assert skeyid_psk(_prf(vector), psk, ni, nr).hex() == vector["skeyid"]


@pytest.mark.parametrize("vector", _vectors("ikev1_sig_skeyid"), ids=lambda v: v["name"])
def test_signature_skeyid(vector):
    ni, nr, g_xy = _hex(vector, "ni", "nr", "gxy")
    assert skeyid_signature(_prf(vector), ni, nr, g_xy).hex() == vector["skeyid"]


@pytest.mark.parametrize("vector", _vectors("ikev1_skeyid_x"), ids=lambda v: v["name"])
def test_skeyid_d_a_e_steps(vector):
    skeyid, previous, g_xy, cky_i, cky_r = _hex(
        vector, "skeyid", "prev_key", "gxy", "cky_i", "cky_r"
    )
    out = skeyid_derived(_prf(vector), skeyid, previous, g_xy, cky_i, cky_r, vector["key_number"])
    assert out.hex() == vector["out"]


@pytest.mark.parametrize("vector", _vectors("ikev1_appendix_b"), ids=lambda v: v["name"])
def test_appendix_b_expansion(vector):
    (key,) = _hex(vector, "key")
    assert encryption_key(_prf(vector), key, vector["out_len_bytes"]).hex() == vector["out"]


@pytest.mark.parametrize("vector", _vectors("ikev1_keymat"), ids=lambda v: v["name"])
def test_keymat_expansion(vector):
    key, g_xy, seed = _hex(vector, "key", "gxy", "seed")
    out = expand_keymat(_prf(vector), key, g_xy + seed, vector["out_len_bytes"])
    assert out.hex() == vector["out"]


def test_appendix_b_uses_skeyid_e_directly_when_long_enough():
    skeyid_e = bytes(range(20))
    assert encryption_key(PRFS[2], skeyid_e, 16) == skeyid_e[:16]
    assert encryption_key(PRFS[2], skeyid_e, 20) == skeyid_e


def test_appendix_b_chain_matches_stdlib_hmac():
    # 3DES (24 bytes) with HMAC-SHA1 (20 bytes): K1 = prf(SKEYID_e, 0), K2 = prf(SKEYID_e, K1).
    skeyid_e = bytes(range(20))
    k1 = hmac.digest(skeyid_e, b"\x00", "sha1")
    k2 = hmac.digest(skeyid_e, k1, "sha1")
    assert encryption_key(PRFS[2], skeyid_e, 24) == (k1 + k2)[:24]


@settings(max_examples=30, deadline=None)
@given(
    iana_id=st.sampled_from([1, 2, 4, 5, 6, 7]), short=st.integers(0, 64), extra=st.integers(0, 100)
)
def test_expansions_are_prefix_consistent(iana_id, short, extra):
    prf = PRFS[iana_id]
    key = b"k" * prf.output_size
    assert len(encryption_key(prf, key, short + extra)) == short + extra
    assert len(expand_keymat(prf, key, b"seed", short + extra)) == short + extra
    assert expand_keymat(prf, key, b"seed", short + extra)[:short] == expand_keymat(
        prf, key, b"seed", short
    )
    if short + extra > len(key):
        longer = encryption_key(prf, key, short + extra)
        assert encryption_key(prf, key, short + extra + 10)[: short + extra] == longer


def test_phase1_iv_is_plain_hash_of_public_values():
    g_xi, g_xr = b"\x11" * 256, b"\x22" * 256
    for iana_id, name in ((1, "md5"), (2, "sha1"), (5, "sha256"), (7, "sha512")):
        hasher = PRFS[iana_id].hash
        assert phase1_iv(hasher, g_xi, g_xr, 16) == hashlib.new(name, g_xi + g_xr).digest()[:16]
    assert phase1_iv(PRFS[2].hash, g_xi, g_xr, 8) == hashlib.sha1(g_xi + g_xr).digest()[:8]


def test_phase2_iv_hashes_last_block_and_message_id():
    last_block = bytes(range(16))
    iv = phase2_iv(PRFS[5].hash, last_block, 0x01020304, 16)
    assert iv == hashlib.sha256(last_block + b"\x01\x02\x03\x04").digest()[:16]
    assert phase2_iv(PRFS[5].hash, last_block, 0x01020305, 16) != iv
    with pytest.raises(ValueError):
        phase2_iv(PRFS[5].hash, last_block, 1 << 32, 16)
    with pytest.raises(ValueError):
        phase2_iv(PRFS[5].hash, last_block, -1, 16)


def test_iv_longer_than_hash_is_refused():
    with pytest.raises(ValueError, match="16-byte hash"):
        phase1_iv(PRFS[1].hash, b"a", b"b", 32)


def _reference_keymat(key, seed, length, name):
    out, block = b"", b""
    while len(out) < length:
        block = hmac.digest(key, block + seed, name)
        out += block
    return out[:length]


@pytest.mark.parametrize("pfs", [False, True])
def test_quick_mode_keymat_layout(pfs):
    skeyid_d = bytes(range(32))
    ni_b, nr_b, spi = b"N" * 16, b"R" * 24, b"\xc0\xff\xee\x01"
    g_qm = b"\x5a" * 256 if pfs else None
    seed = (g_qm or b"") + b"\x03" + spi + ni_b + nr_b
    # aes256 + hmac_sha2_256_128: 32 + 32 bytes, two SHA-256 blocks chained.
    keymat = quick_mode_keymat(PRFS[5], skeyid_d, 3, spi, ni_b, nr_b, 64, g_qm)
    assert keymat == _reference_keymat(skeyid_d, seed, 64, "sha256")


def test_quick_mode_keymat_depends_on_spi_protocol_and_pfs():
    args = (PRFS[2], b"d" * 20)
    base = quick_mode_keymat(*args, 3, b"\x00\x00\x10\x00", b"n" * 16, b"r" * 16, 40)
    assert quick_mode_keymat(*args, 3, b"\x00\x00\x10\x01", b"n" * 16, b"r" * 16, 40) != base
    assert quick_mode_keymat(*args, 2, b"\x00\x00\x10\x00", b"n" * 16, b"r" * 16, 40) != base
    with_pfs = quick_mode_keymat(*args, 3, b"\x00\x00\x10\x00", b"n" * 16, b"r" * 16, 40, b"g")
    assert with_pfs != base
    with pytest.raises(ValueError):
        quick_mode_keymat(*args, 256, b"\x00" * 4, b"n", b"r", 8)


def test_ikev1_keys_repr_hides_material():
    keys = ikev1_keys(PRFS[2], b"\xee" * 20, b"g", b"i" * 8, b"r" * 8)
    assert "eeee" not in repr(keys)
    assert "<20 bytes>" in repr(keys)
