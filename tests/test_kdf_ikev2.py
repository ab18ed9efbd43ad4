"""IKEv2 key derivation: every published vector, prf+ properties, the SK_* and KEYMAT splits."""

import hmac
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vector_files import VECTORS as SHARED_VECTORS

from pluto.crypto.kdf_ikev2 import (
    child_sa_keymat,
    child_sa_keys,
    ike_sa_key_sizes,
    ike_sa_keys,
    prf_plus,
    rekey_skeyseed,
    skeyseed,
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
    vectors = json.loads((VECTORS / "ikev2-kdf.json").read_text())["vectors"]
    return [v for v in vectors if kind is None or v["kind"] == kind]


def _hex(vector, *names):
    return [bytes.fromhex(vector[name]) for name in names]


def _prf(vector):
    return PRFS[PRF_BY_VECTOR_NAME[vector["prf"]]]


def test_every_vector_kind_is_tested():
    kinds = {v["kind"] for v in _vectors()}
    assert kinds == {"ikev2_full", "ikev2_skeyseed", "ikev2_skeyseed_rekey", "prf_plus"}


@pytest.mark.parametrize("vector", _vectors("ikev2_full"), ids=lambda v: v["name"])
def test_full_cavs_case(vector):
    prf = _prf(vector)
    ni, nr, spi_i, spi_r, g_ir, g_ir_new = _hex(
        vector, "ni", "nr", "spii", "spir", "gir", "gir_new"
    )
    seed = skeyseed(prf, ni, nr, g_ir)
    assert seed.hex() == vector["skeyseed"]
    dkm = prf_plus(prf, seed, ni + nr + spi_i + spi_r, vector["dkm_len_bytes"])
    assert dkm.hex() == vector["dkm"]
    sk_d = dkm[: prf.key_size]
    child_len = vector["dkm_child_len_bytes"]
    assert child_sa_keymat(prf, sk_d, ni, nr, child_len).hex() == vector["dkm_child"]
    assert child_sa_keymat(prf, sk_d, ni, nr, child_len, g_ir_new).hex() == vector["dkm_child_dh"]
    assert rekey_skeyseed(prf, sk_d, g_ir_new, ni, nr).hex() == vector["skeyseed_rekey"]


@pytest.mark.parametrize("vector", _vectors("ikev2_skeyseed"), ids=lambda v: v["name"])
def test_skeyseed(vector):
    ni, nr, g_ir = _hex(vector, "ni", "nr", "gir")
    assert skeyseed(_prf(vector), ni, nr, g_ir).hex() == vector["skeyseed"]


@pytest.mark.parametrize("vector", _vectors("ikev2_skeyseed_rekey"), ids=lambda v: v["name"])
def test_rekey_skeyseed(vector):
    sk_d_old, g_ir_new, ni, nr = _hex(vector, "sk_d_old", "gir_new", "ni", "nr")
    assert (
        rekey_skeyseed(_prf(vector), sk_d_old, g_ir_new, ni, nr).hex() == vector["skeyseed_rekey"]
    )


@pytest.mark.parametrize("vector", _vectors("prf_plus"), ids=lambda v: v["name"])
def test_prf_plus(vector):
    key, seed = _hex(vector, "key", "seed")
    out = prf_plus(_prf(vector), key, seed, vector["out_len_bytes"])
    assert out.hex() == vector["out"]


@settings(max_examples=50, deadline=None)
@given(
    iana_id=st.sampled_from(sorted(PRFS)),
    key=st.binary(max_size=40),
    seed=st.binary(max_size=40),
    short=st.integers(0, 200),
    extra=st.integers(0, 200),
)
def test_prf_plus_length_and_prefix(iana_id, key, seed, short, extra):
    prf = PRFS[iana_id]
    a = prf_plus(prf, key, seed, short)
    b = prf_plus(prf, key, seed, short + extra)
    assert len(a) == short and len(b) == short + extra
    assert b[:short] == a


@pytest.mark.parametrize("iana_id", sorted(PRFS))
def test_prf_plus_blocks_are_chained_and_numbered(iana_id):
    prf = PRFS[iana_id]
    key, seed = b"K" * 20, b"S" * 33
    out = prf_plus(prf, key, seed, 3 * prf.output_size)
    t1 = prf(key, seed + b"\x01")
    t2 = prf(key, t1 + seed + b"\x02")
    t3 = prf(key, t2 + seed + b"\x03")
    assert out == t1 + t2 + t3


def test_prf_plus_matches_stdlib_hmac_chain():
    key, seed = bytes(range(32)), b"seed"
    blocks, previous = [], b""
    for n in range(1, 5):
        previous = hmac.digest(key, previous + seed + bytes((n,)), "sha256")
        blocks.append(previous)
    assert prf_plus(PRFS[5], key, seed, 100) == b"".join(blocks)[:100]


@pytest.mark.parametrize("iana_id", [2, 4])
def test_prf_plus_stops_at_255_blocks(iana_id):
    prf = PRFS[iana_id]
    assert len(prf_plus(prf, b"k", b"s", 255 * prf.output_size)) == 255 * prf.output_size
    with pytest.raises(ValueError, match="at most"):
        prf_plus(prf, b"k", b"s", 255 * prf.output_size + 1)
    with pytest.raises(ValueError):
        prf_plus(prf, b"k", b"s", -1)
    assert prf_plus(prf, b"k", b"s", 0) == b""


@pytest.mark.parametrize("iana_id", [4, 8])
def test_fixed_key_prfs_use_64_bits_of_each_nonce(iana_id):
    prf = PRFS[iana_id]
    ni, nr, g_ir = bytes(range(32)), bytes(range(100, 132)), b"\x42" * 32
    expected = prf(ni[:8] + nr[:8], g_ir)
    assert skeyseed(prf, ni, nr, g_ir) == expected
    # Only the first 8 bytes of each nonce matter to SKEYSEED.
    assert skeyseed(prf, ni[:8] + b"x" * 24, nr[:8] + b"y" * 24, g_ir) == expected
    assert expected != prf(ni + nr, g_ir)


def test_hmac_prfs_use_whole_nonces():
    prf = PRFS[5]
    ni, nr, g_ir = bytes(range(32)), bytes(range(100, 132)), b"\x42" * 32
    assert skeyseed(prf, ni, nr, g_ir) == hmac.digest(ni + nr, g_ir, "sha256")


def _first_full_case(prf_name):
    return next(v for v in _vectors("ikev2_full") if v["prf"] == prf_name)


def test_ike_sa_keys_split_the_published_dkm_in_rfc_order():
    vector = _first_full_case("hmac-sha1")
    prf = PRFS[2]
    ni, nr, spi_i, spi_r, g_ir = _hex(vector, "ni", "nr", "spii", "spir", "gir")
    dkm = bytes.fromhex(vector["dkm"])
    # aes128 + hmac_sha1_96: 20 + 20 + 20 + 16 + 16 + 20 + 20 = 132 bytes, the whole DKM.
    keys = ike_sa_keys(
        prf, skeyseed(prf, ni, nr, g_ir), ni, nr, spi_i, spi_r, integ_key_size=20, encr_key_size=16
    )
    assert keys.sk_d == dkm[0:20]
    assert keys.sk_ai == dkm[20:40]
    assert keys.sk_ar == dkm[40:60]
    assert keys.sk_ei == dkm[60:76]
    assert keys.sk_er == dkm[76:92]
    assert keys.sk_pi == dkm[92:112]
    assert keys.sk_pr == dkm[112:132]


def test_ike_sa_keys_with_aead_have_empty_integrity_keys():
    prf = PRFS[7]
    keys = ike_sa_keys(
        prf, b"s" * 64, b"n" * 32, b"m" * 32, b"i" * 8, b"r" * 8, integ_key_size=0, encr_key_size=36
    )
    assert keys.sk_ai == keys.sk_ar == b""
    assert len(keys.sk_ei) == len(keys.sk_er) == 36
    assert len(keys.sk_d) == len(keys.sk_pi) == len(keys.sk_pr) == 64
    assert ike_sa_key_sizes(prf, 0, 36) == (64, 0, 0, 36, 36, 64, 64)


def test_key_reprs_hide_key_material():
    keys = ike_sa_keys(
        PRFS[5],
        b"\xab" * 32,
        b"n" * 16,
        b"m" * 16,
        b"i" * 8,
        b"r" * 8,
        integ_key_size=32,
        encr_key_size=16,
    )
    assert "abab" not in repr(keys) and keys.sk_d.hex()[:8] not in repr(keys)
    assert "<32 bytes>" in repr(keys)
    child = child_sa_keys(
        PRFS[5], b"\xab" * 32, b"n" * 16, b"m" * 16, encr_key_size=16, integ_key_size=32
    )
    assert "<16 bytes>" in repr(child)


@pytest.mark.parametrize("with_pfs", [False, True])
def test_child_sa_keys_take_initiator_keys_first_encryption_before_integrity(with_pfs):
    vector = _first_full_case("hmac-sha256")
    prf = PRFS[5]
    ni, nr, spi_i, spi_r, g_ir, g_ir_new = _hex(
        vector, "ni", "nr", "spii", "spir", "gir", "gir_new"
    )
    sk_d = bytes.fromhex(vector["dkm"])[:32]
    keymat = bytes.fromhex(vector["dkm_child_dh" if with_pfs else "dkm_child"])
    # aes256 + hmac_sha2_256_128: 32 + 32 + 32 + 32 = 128 of the 132 published bytes.
    keys = child_sa_keys(
        prf,
        sk_d,
        ni,
        nr,
        encr_key_size=32,
        integ_key_size=32,
        g_ir_new=g_ir_new if with_pfs else None,
    )
    assert keys.encr_i == keymat[0:32]
    assert keys.integ_i == keymat[32:64]
    assert keys.encr_r == keymat[64:96]
    assert keys.integ_r == keymat[96:128]


def test_rekey_uses_old_sk_d_as_the_key():
    prf = PRFS[5]
    sk_d, g_new, ni, nr = b"d" * 32, b"g" * 256, b"i" * 32, b"r" * 32
    assert rekey_skeyseed(prf, sk_d, g_new, ni, nr) == hmac.digest(sk_d, g_new + ni + nr, "sha256")
