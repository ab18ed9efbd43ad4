"""IKE SA and Child SA keys sized from negotiated proposals, checked against the NIST CAVS
IKEv2 KDF cases of tests/vectors/ikev2-kdf.json.

prf+ output is a prefix-stable stream, so the SK_* keys (and the Child SA keys) laid end to
end must be the first bytes of the published DKM, whatever the algorithms' key sizes.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from vector_files import VECTORS

from pluto.crypto.proposals import parse_esp, parse_ike
from pluto.ikev2.keys import (
    derive_child_sa_keys,
    derive_ike_sa_keys,
    derive_rekeyed_ike_sa_keys,
)
from pluto.ikev2.negotiation import choose, proposals_to_sa

HASHES = {"hmac-sha1": hashlib.sha1, "hmac-sha256": hashlib.sha256,
          "hmac-sha384": hashlib.sha384, "hmac-sha512": hashlib.sha512}
# An IKE proposal per vector PRF whose SK_* fit the vector's DKM, and its key sizes
# (SK_d/SK_p, SK_a, SK_e with salt) written out from the RFCs.
IKE_CASES = {
    ("hmac-sha1", 132): ("aes128-sha1;dh19", 20, 20, 16),
    ("hmac-sha1", 384): ("aes_gcm256-sha1;dh19", 20, 0, 36),
    ("hmac-sha256", 384): ("aes256-sha2_256;dh19", 32, 32, 32),
    ("hmac-sha384", 384): ("aes_ctr256-sha2_384;dh19", 48, 48, 36),
    ("hmac-sha512", 384): ("aes_gcm256-sha2_512;dh19", 64, 0, 36),
}


def _vectors():
    data = json.loads((VECTORS / "ikev2-kdf.json").read_text())
    return [v for v in data["vectors"] if v["kind"] == "ikev2_full"
            and (v["prf"], v["dkm_len_bytes"]) in IKE_CASES]


def _chosen(ike_string: str):
    ours = parse_ike(ike_string)
    return choose(ours, proposals_to_sa(ours))


def _hex(vector, *names):
    return [bytes.fromhex(vector[name]) for name in names]


def _prf_plus(hash_function, key: bytes, seed: bytes, length: int) -> bytes:
    """prf+ of RFC 7296 §2.13 with the standard library's HMAC (independent of ours)."""
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(key, block + seed + bytes([counter]), hash_function).digest()
        out += block
        counter += 1
    return out[:length]


def test_the_vector_selection_is_not_empty():
    assert {(v["prf"], v["dkm_len_bytes"]) for v in _vectors()} == set(IKE_CASES)


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: v["name"])
def test_ike_sa_keys_are_the_cavs_dkm(vector):
    ike_string, prf_size, integ_size, encr_size = IKE_CASES[(vector["prf"],
                                                              vector["dkm_len_bytes"])]
    ni, nr, spi_i, spi_r, g_ir, dkm = _hex(vector, "ni", "nr", "spii", "spir", "gir", "dkm")
    keys = derive_ike_sa_keys(_chosen(ike_string), ni, nr, g_ir, spi_i, spi_r)
    sizes = [len(k) for k in (keys.sk_d, keys.sk_ai, keys.sk_ar, keys.sk_ei, keys.sk_er,
                              keys.sk_pi, keys.sk_pr)]
    assert sizes == [prf_size, integ_size, integ_size, encr_size, encr_size, prf_size, prf_size]
    laid_out = (keys.sk_d + keys.sk_ai + keys.sk_ar + keys.sk_ei + keys.sk_er + keys.sk_pi
                + keys.sk_pr)
    assert laid_out == dkm[: len(laid_out)]


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: v["name"])
def test_child_sa_keys_are_the_cavs_child_dkm(vector):
    ike_string = IKE_CASES[(vector["prf"], vector["dkm_len_bytes"])][0]
    ni, nr, spi_i, spi_r, g_ir, g_ir_new, dkm_child, dkm_child_dh = _hex(
        vector, "ni", "nr", "spii", "spir", "gir", "gir_new", "dkm_child", "dkm_child_dh")
    ike = derive_ike_sa_keys(_chosen(ike_string), ni, nr, g_ir, spi_i, spi_r)
    esp_proposals = parse_esp("aes128-sha1")
    esp = choose(esp_proposals, proposals_to_sa(esp_proposals, b"\x00\x00\x10\x00"))
    for g, expected in ((None, dkm_child), (g_ir_new, dkm_child_dh)):
        child = derive_child_sa_keys(ike, esp, ni, nr, g)
        assert [len(k) for k in (child.encr_i, child.integ_i, child.encr_r, child.integ_r)] \
            == [16, 20, 16, 20]
        laid_out = child.encr_i + child.integ_i + child.encr_r + child.integ_r
        assert laid_out == expected[: len(laid_out)]


def test_aead_child_keys_include_the_salt_and_no_integrity():
    vector = _vectors()[0]
    ni, nr, spi_i, spi_r, g_ir, dkm_child = _hex(vector, "ni", "nr", "spii", "spir", "gir",
                                                 "dkm_child")
    ike = derive_ike_sa_keys(_chosen("aes128-sha1;dh19"), ni, nr, g_ir, spi_i, spi_r)
    gcm = parse_esp("aes_gcm256")
    child = derive_child_sa_keys(ike, choose(gcm, proposals_to_sa(gcm, b"\x00\x00\x10\x00")),
                                 ni, nr)
    assert (child.encr_i, child.integ_i, child.encr_r, child.integ_r) == (
        dkm_child[:36], b"", dkm_child[36:72], b"")


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: v["name"])
def test_rekeyed_ike_sa_keys(vector):
    """SKEYSEED(rekey) from the vector, then prf+ of the NEW SA's PRF (here SHA2-512)."""
    ike_string = IKE_CASES[(vector["prf"], vector["dkm_len_bytes"])][0]
    ni, nr, spi_i, spi_r, g_ir, g_ir_new, skeyseed_rekey = _hex(
        vector, "ni", "nr", "spii", "spir", "gir", "gir_new", "skeyseed_rekey")
    old = derive_ike_sa_keys(_chosen(ike_string), ni, nr, g_ir, spi_i, spi_r)
    new_chosen = _chosen("aes_gcm256-sha2_512;dh31")
    new_spi_i, new_spi_r = b"\x01" * 8, b"\x02" * 8
    new = derive_rekeyed_ike_sa_keys(old, new_chosen, ni, nr, g_ir_new, new_spi_i, new_spi_r)
    expected = _prf_plus(hashlib.sha512, skeyseed_rekey, ni + nr + new_spi_i + new_spi_r,
                         64 + 36 + 36 + 64 + 64)
    assert new.sk_d + new.sk_ai + new.sk_ar + new.sk_ei + new.sk_er + new.sk_pi + new.sk_pr \
        == expected
    assert new.chosen is new_chosen


def test_ike_keys_match_an_independent_prf_plus():
    chosen = _chosen("aes_gcm128-sha2_256;dh19")
    ni, nr, g_ir, spi_i, spi_r = b"\x10" * 32, b"\x20" * 32, b"\x30" * 32, b"I" * 8, b"R" * 8
    keys = derive_ike_sa_keys(chosen, ni, nr, g_ir, spi_i, spi_r)
    seed = hmac.new(ni + nr, g_ir, hashlib.sha256).digest()
    expected = _prf_plus(hashlib.sha256, seed, ni + nr + spi_i + spi_r, 32 + 20 + 20 + 32 + 32)
    assert keys.sk_d + keys.sk_ei + keys.sk_er + keys.sk_pi + keys.sk_pr == expected
    assert keys.sk_ai == keys.sk_ar == b""


def test_repr_hides_the_keys():
    keys = derive_ike_sa_keys(_chosen("aes_gcm128-sha2_256;dh19"), b"\xaa" * 16, b"\xbb" * 16,
                              b"\xcc" * 32, b"I" * 8, b"R" * 8)
    text = repr(keys)
    assert keys.sk_d.hex() not in text and repr(keys.sk_d) not in text
    assert "sk_ei=<20 bytes>" in text and "AES_GCM_16_128" in text
