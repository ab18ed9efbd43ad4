"""The algorithm registry: numbers cross-checked with scapy's independent tables, names, sizes."""

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from scapy.contrib.ikev2 import IKEv2TransformAlgorithms
from scapy.layers.isakmp import IPSECAttributeTypes, ISAKMPAttributeTypes

from pluto.crypto import registry
from pluto.crypto.modp_groups import PRIMES
from pluto.crypto.registry import ESP, IKE, Kind, by_ikev1_id, by_ikev2_id, by_name

# Our canonical name -> scapy's name for the same IKEv2 transform (scapy.contrib.ikev2).
SCAPY_IKEV2 = {
    Kind.ENCR: (1, {"AES_CBC": "AES-CBC", "AES_CTR": "AES-CTR", "AES_GCM_8": "AES-GCM-8ICV",
                    "AES_GCM_12": "AES-GCM-12ICV", "AES_GCM_16": "AES-GCM-16ICV",
                    "CHACHA20_POLY1305": "ChaCha20-Poly1305", "3DES_CBC": "3DES"}),
    Kind.PRF: (2, {"HMAC_MD5": "PRF_HMAC_MD5", "HMAC_SHA1": "PRF_HMAC_SHA1",
                   "AES_XCBC": "PRF_AES128_XCBC", "HMAC_SHA2_256": "PRF_HMAC_SHA2_256",
                   "HMAC_SHA2_384": "PRF_HMAC_SHA2_384", "HMAC_SHA2_512": "PRF_HMAC_SHA2_512",
                   "AES_CMAC": "PRF_AES128_CMAC"}),
    Kind.INTEG: (3, {"HMAC_MD5_96": "HMAC-MD5-96", "HMAC_SHA1_96": "HMAC-SHA1-96",
                     "AES_XCBC_96": "AES-XCBC-96", "AES_CMAC_96": "AES-CMAC-96",
                     "HMAC_SHA2_256_128": "SHA2-256-128", "HMAC_SHA2_384_192": "SHA2-384-192",
                     "HMAC_SHA2_512_256": "SHA2-512-256"}),
    Kind.KE: (4, {"MODP768": "768MODPgr", "MODP1024": "1024MODPgr", "MODP1536": "1536MODPgr",
                  "MODP2048": "2048MODPgr", "MODP3072": "3072MODPgr", "MODP4096": "4096MODPgr",
                  "MODP6144": "6144MODPgr", "MODP8192": "8192MODPgr", "DH19": "256randECPgr",
                  "DH20": "384randECPgr", "DH21": "521randECPgr", "DH31": "curve25519gr",
                  "DH32": "curve448gr"}),
}


@pytest.mark.parametrize("kind", list(SCAPY_IKEV2))
def test_ikev2_numbers_agree_with_scapy(kind):
    transform_type, names = SCAPY_IKEV2[kind]
    scapy_table = IKEv2TransformAlgorithms[transform_type]
    for fqn, scapy_name in names.items():
        alg = by_name(kind, fqn)
        assert alg is not None, fqn
        assert scapy_table[alg.ikev2_id] == scapy_name, fqn
        assert by_ikev2_id(kind, alg.ikev2_id) is alg


def test_every_numbered_algorithm_is_checked_against_scapy():
    # NULL (11) and the "none" entries (0) are the only ones scapy's tables lack.
    for kind, (_, names) in SCAPY_IKEV2.items():
        numbered = {a.fqn for a in registry.algorithms(kind) if a.ikev2_id and a.fqn != "NULL"}
        assert numbered == set(names), kind


def test_ikev1_oakley_numbers_agree_with_scapy():
    encryption = ISAKMPAttributeTypes["Encryption"][1]
    assert by_ikev1_id(Kind.ENCR, encryption["AES-CBC"]).fqn == "AES_CBC"
    assert by_ikev1_id(Kind.ENCR, encryption["3DES-CBC"]).fqn == "3DES_CBC"
    hashes = ISAKMPAttributeTypes["Hash"][1]
    for scapy_name, fqn in (("MD5", "HMAC_MD5"), ("SHA", "HMAC_SHA1"),
                            ("SHA2-256", "HMAC_SHA2_256"), ("SHA2-384", "HMAC_SHA2_384"),
                            ("SHA2-512", "HMAC_SHA2_512")):
        assert by_ikev1_id(Kind.PRF, hashes[scapy_name]).fqn == fqn
    groups = ISAKMPAttributeTypes["GroupDesc"][1]
    for bits in (768, 1024, 1536, 2048, 3072, 4096, 6144, 8192):
        assert by_ikev1_id(Kind.KE, groups[f"{bits}MODPgr"]).fqn == f"MODP{bits}"


def test_ikev1_esp_authentication_numbers_agree_with_scapy():
    auth = IPSECAttributeTypes["AuthenticationAlgorithm"][1]
    for scapy_name, fqn in (("HMAC-MD5", "HMAC_MD5_96"), ("HMAC-SHA", "HMAC_SHA1_96"),
                            ("HMAC-SHA2-256", "HMAC_SHA2_256_128"),
                            ("HMAC-SHA2-384", "HMAC_SHA2_384_192"),
                            ("HMAC-SHA2-512", "HMAC_SHA2_512_256"),
                            ("AES-XCBC-MAC", "AES_XCBC_96")):
        assert by_ikev1_id(Kind.INTEG, auth[scapy_name], ESP).fqn == fqn


def test_ikev1_number_spaces_are_per_protocol():
    # ESP_AES is 12 in the ESP transform ids but 7 in the Oakley encryption attribute.
    assert by_ikev1_id(Kind.ENCR, 12, ESP).fqn == "AES_CBC"
    assert by_ikev1_id(Kind.ENCR, 7, IKE).fqn == "AES_CBC"
    assert by_ikev1_id(Kind.ENCR, 12, IKE) is None
    assert by_ikev1_id(Kind.ENCR, 20, ESP).fqn == "AES_GCM_16"
    # RFC 2407 §4.4.3: AH_SHA is 3 while the ESP authentication attribute HMAC-SHA is 2.
    assert by_ikev1_id(Kind.INTEG, 3, "ah").fqn == "HMAC_SHA1_96"
    assert by_ikev1_id(Kind.INTEG, 2, ESP).fqn == "HMAC_SHA1_96"


@pytest.mark.parametrize("kind,name,fqn", [
    (Kind.ENCR, "aes", "AES_CBC"), (Kind.ENCR, "aes_cbc", "AES_CBC"),
    (Kind.ENCR, "aes_gcm", "AES_GCM_16"), (Kind.ENCR, "aes_gcm_c", "AES_GCM_16"),
    (Kind.ENCR, "aes_gcm_8", "AES_GCM_8"), (Kind.ENCR, "aes_gcm_a", "AES_GCM_8"),
    (Kind.ENCR, "aes_gcm_12", "AES_GCM_12"), (Kind.ENCR, "aes_ctr", "AES_CTR"),
    (Kind.ENCR, "chacha20_poly1305", "CHACHA20_POLY1305"), (Kind.ENCR, "3des", "3DES_CBC"),
    (Kind.PRF, "md5", "HMAC_MD5"), (Kind.PRF, "sha", "HMAC_SHA1"), (Kind.PRF, "sha1", "HMAC_SHA1"),
    (Kind.PRF, "sha2", "HMAC_SHA2_256"), (Kind.PRF, "sha256", "HMAC_SHA2_256"),
    (Kind.PRF, "sha2_256", "HMAC_SHA2_256"), (Kind.PRF, "sha2_384", "HMAC_SHA2_384"),
    (Kind.PRF, "sha2_512", "HMAC_SHA2_512"), (Kind.PRF, "aes_xcbc", "AES_XCBC"),
    (Kind.PRF, "aes_cmac", "AES_CMAC"),
    (Kind.INTEG, "sha2", "HMAC_SHA2_256_128"), (Kind.INTEG, "sha1_96", "HMAC_SHA1_96"),
    (Kind.INTEG, "md5", "HMAC_MD5_96"), (Kind.INTEG, "aes_xcbc", "AES_XCBC_96"),
    (Kind.INTEG, "null", "NONE"), (Kind.INTEG, "HMAC_SHA2_512_256", "HMAC_SHA2_512_256"),
    (Kind.KE, "modp1024", "MODP1024"), (Kind.KE, "modp1536", "MODP1536"),
    (Kind.KE, "dh2", "MODP1024"), (Kind.KE, "dh5", "MODP1536"), (Kind.KE, "dh14", "MODP2048"),
    (Kind.KE, "modp8192", "MODP8192"), (Kind.KE, "dh18", "MODP8192"), (Kind.KE, "dh21", "DH21"),
    (Kind.KE, "dh31", "DH31"), (Kind.KE, "ecp256", "DH19"), (Kind.KE, "ecp_256", "DH19"),
    (Kind.KE, "ecp384", "DH20"), (Kind.KE, "ecp521", "DH21"), (Kind.KE, "x25519", "DH31"),
    (Kind.KE, "curve25519", "DH31"), (Kind.KE, "x448", "DH32"), (Kind.KE, "curve448", "DH32"),
    (Kind.KE, "none", "NONE"), (Kind.KE, "DH19", "DH19"),
])
def test_names_and_aliases(kind, name, fqn):
    assert by_name(kind, name).fqn == fqn


@pytest.mark.parametrize("token,fqn,bits", [
    ("aes", "AES_CBC", None), ("aes128", "AES_CBC", 128), ("aes256", "AES_CBC", 256),
    ("aes_cbc_192", "AES_CBC", 192), ("aes_gcm", "AES_GCM_16", None),
    ("aes_gcm128", "AES_GCM_16", 128), ("aes_gcm256", "AES_GCM_16", 256),
    ("aes_gcm_16_128", "AES_GCM_16", 128), ("aes128gcm16", "AES_GCM_16", 128),
    ("aes256gcm8", "AES_GCM_8", 256), ("aes_gcm_8", "AES_GCM_8", None),
    ("aes_gcm_12_192", "AES_GCM_12", 192), ("aes_ctr128", "AES_CTR", 128),
    ("AES_GCM_16_256", "AES_GCM_16", 256), ("3des168", "3DES_CBC", 168),
])
def test_encryption_names_with_key_lengths(token, fqn, bits):
    alg, key_bits = registry.resolve_encryption(token)
    assert (alg.fqn, key_bits) == (fqn, bits)


@pytest.mark.parametrize("token", ["sha2_512", "aes_", "gcm128", "256", "", "blowfish"])
def test_unknown_encryption_names(token):
    assert registry.resolve_encryption(token) is None


def test_unknown_names_and_numbers():
    assert by_name(Kind.PRF, "sha3") is None
    assert by_name(Kind.KE, "modp1234") is None
    assert by_ikev2_id(Kind.ENCR, 9999) is None
    assert by_name(Kind.PRF, "sha1_96") is None  # integrity-only name


def test_legacy_algorithms_are_off_by_default():
    legacy = {a.fqn for kind in Kind for a in registry.algorithms(kind) if a.legacy}
    assert legacy == {"3DES_CBC", "HMAC_MD5", "HMAC_MD5_96", "MODP768", "MODP1024", "MODP1536"}
    assert not by_name(Kind.ENCR, "3des").enabled_by_default
    assert by_name(Kind.ENCR, "aes").enabled_by_default
    assert not registry.is_allowed(by_name(Kind.KE, "modp1024"))
    assert registry.is_allowed(by_name(Kind.KE, "modp1024"), allow_legacy=True)


def test_encryption_sizes():
    gcm = {n: by_name(Kind.ENCR, f"aes_gcm_{n}") for n in (8, 12, 16)}
    for icv, alg in gcm.items():
        assert (alg.icv_size, alg.iv_size, alg.salt_size, alg.aead) == (icv, 8, 4, True)
        assert alg.key_bits_allowed == (256, 192, 128) and alg.variable_key
        assert alg.keymat_size(256) == 36 and alg.pad_alignment == 1
    cbc = by_name(Kind.ENCR, "aes")
    assert (cbc.iv_size, cbc.block_size, cbc.pad_alignment, cbc.aead) == (16, 16, 16, False)
    assert cbc.keymat_size() == 16 and cbc.keymat_size(256) == 32
    ctr = by_name(Kind.ENCR, "aes_ctr")
    assert (ctr.iv_size, ctr.salt_size, ctr.keymat_size(128)) == (8, 4, 20)
    chacha = by_name(Kind.ENCR, "chacha20_poly1305")
    assert (chacha.keymat_size(), chacha.icv_size, chacha.variable_key) == (36, 16, False)
    des3 = by_name(Kind.ENCR, "3des")
    assert (des3.keymat_size(), des3.block_size, des3.iv_size) == (24, 8, 8)


@pytest.mark.parametrize("fqn,hash_name", [
    ("HMAC_MD5", "md5"), ("HMAC_SHA1", "sha1"), ("HMAC_SHA2_256", "sha256"),
    ("HMAC_SHA2_384", "sha384"), ("HMAC_SHA2_512", "sha512"),
])
def test_hmac_sizes_follow_the_hash(fqn, hash_name):
    digest = hashlib.new(hash_name).digest_size
    prf = by_name(Kind.PRF, fqn)
    assert prf.output_size == prf.key_size == digest
    integ = prf.integ
    assert integ.key_size == digest
    # RFC 2404/2403: MD5/SHA1 truncate to 96 bits; RFC 4868: SHA-2 to half the digest.
    assert integ.icv_size == (12 if digest <= 20 else digest // 2)
    assert integ.fqn.startswith(fqn)


def test_ke_sizes_follow_the_group():
    for group, bits in ((1, 768), (2, 1024), (5, 1536), (14, 2048), (18, 8192)):
        alg = by_ikev2_id(Kind.KE, group)
        assert alg.public_size == alg.shared_size == PRIMES[group].bit_length() // 8 == bits // 8
    for group, curve in ((19, ec.SECP256R1()), (20, ec.SECP384R1()), (21, ec.SECP521R1())):
        alg = by_ikev2_id(Kind.KE, group)
        coordinate = (curve.key_size + 7) // 8
        assert (alg.public_size, alg.shared_size) == (2 * coordinate, coordinate)
    assert by_ikev2_id(Kind.KE, 31).public_size == 32
    assert by_ikev2_id(Kind.KE, 32).public_size == 56


def test_protocol_restrictions():
    assert IKE not in by_name(Kind.ENCR, "null").protocols
    assert IKE not in by_name(Kind.KE, "none").protocols
    assert "ah" not in by_name(Kind.INTEG, "none").protocols
    assert by_name(Kind.PRF, "sha2").protocols == frozenset({IKE})


def test_prf_and_integ_implementations_match_the_descriptors():
    prf = pytest.importorskip("pluto.crypto.prf")
    integ = pytest.importorskip("pluto.crypto.integ")
    for alg in registry.PRFS:
        impl = alg.implementation()
        assert impl is prf.PRFS[alg.ikev2_id]
        assert impl.output_size == alg.output_size
    for alg in registry.INTEGRITY:
        if alg.is_none:
            continue
        impl = alg.implementation()
        assert impl is integ.INTEGS[alg.ikev2_id]
        assert (impl.key_size, impl.icv_size) == (alg.key_size, alg.icv_size)


def test_describe_lists_every_algorithm():
    lines = list(registry.describe())
    assert len(lines) == sum(len(registry.algorithms(kind)) for kind in Kind)
    assert any("3DES_CBC" in line and "legacy" in line for line in lines)
