"""IKEv2 signature AUTH data: RFC 7427 AlgorithmIdentifiers, signing and verification."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID

from pluto.crypto.signatures import (
    AUTH_DIGITAL_SIGNATURE,
    AUTH_RSA_SIG,
    SCHEME_BY_NAME,
    SCHEMES,
    SignatureError,
    SignatureHash,
    choose_scheme,
    decode_digital_signature,
    encode_digital_signature,
    sign_auth,
    verify_auth,
)

SHA2 = (SignatureHash.SHA2_256, SignatureHash.SHA2_384, SignatureHash.SHA2_512)
OCTETS = b"first message" + b"nonce" + b"prf(SK_p, IDx')"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# AlgorithmIdentifier encodings given by RFC 7427 Appendix A and RFC 8420 §2.
RFC_IDENTIFIERS = {
    "rsa-sha1": "300d06092a864886f70d0101050500",
    "rsa-sha2_256": "300d06092a864886f70d01010b0500",
    "rsa-sha2_384": "300d06092a864886f70d01010c0500",
    "rsa-sha2_512": "300d06092a864886f70d01010d0500",
    "ecdsa-sha2_256": "300a06082a8648ce3d040302",
    "ecdsa-sha2_384": "300a06082a8648ce3d040303",
    "ecdsa-sha2_512": "300a06082a8648ce3d040304",
    "rsa-pss-sha2_256": "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c"
                        "301a06092a864886f70d010108300d06096086480165030402010500a203020120",
    "ed25519": "300506032b6570",
}


@pytest.mark.parametrize("name", sorted(RFC_IDENTIFIERS))
def test_algorithm_identifiers_are_the_rfc_encodings(name):
    assert SCHEME_BY_NAME[name].identifier.hex() == RFC_IDENTIFIERS[name]


def _self_signed(key, hash_alg, rsa_padding=None) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "east")])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(key.public_key()).serial_number(1)
               .not_valid_before(datetime.datetime(2024, 1, 1))
               .not_valid_after(datetime.datetime(2034, 1, 1)))
    if rsa_padding is not None:
        cert = builder.sign(key, hash_alg, rsa_padding=rsa_padding)
    else:
        cert = builder.sign(key, hash_alg)
    return cert.public_bytes(serialization.Encoding.DER)


_CRYPTO_HASH = {SignatureHash.SHA2_256: hashes.SHA256, SignatureHash.SHA2_384: hashes.SHA384,
                SignatureHash.SHA2_512: hashes.SHA512}


@pytest.mark.parametrize("scheme", [s for s in SCHEMES if s.hash is not SignatureHash.SHA1],
                         ids=lambda s: s.name)
def test_identifiers_match_what_openssl_writes_in_certificates(scheme, rsa_key):
    """OpenSSL's encoding of the same algorithm (in a certificate's signatureAlgorithm) is an
    independent check, including the PSS parameters of the SHA-384 and SHA-512 variants."""
    if scheme.kind.value == "Ed25519":
        der = _self_signed(ed25519.Ed25519PrivateKey.generate(), None)
    elif scheme.kind.value == "ECDSA":
        der = _self_signed(ec.generate_private_key(ec.SECP256R1()), _CRYPTO_HASH[scheme.hash]())
    else:
        hash_alg = _CRYPTO_HASH[scheme.hash]()
        pss = padding.PSS(mgf=padding.MGF1(hash_alg), salt_length=padding.PSS.DIGEST_LENGTH)
        der = _self_signed(rsa_key, hash_alg, pss if scheme.pss else None)
    assert scheme.identifier in der


def test_ed25519_signature_is_rfc8032_test_1():
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
    expected = bytes.fromhex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
        "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    assert SCHEME_BY_NAME["ed25519"].sign(key, b"") == expected
    data = encode_digital_signature(SCHEME_BY_NAME["ed25519"], expected)
    assert verify_auth(key.public_key(), AUTH_DIGITAL_SIGNATURE, data, b"",
                       [SignatureHash.IDENTITY]) == "ed25519"


def test_method_1_is_pkcs1_sha1_checked_by_cryptography(rsa_key):
    method, data, name = sign_auth(rsa_key, OCTETS, [])
    assert (method, name) == (AUTH_RSA_SIG, "rsa-sha1")
    assert len(data) == 256  # the bare signature, no AlgorithmIdentifier
    rsa_key.public_key().verify(data, OCTETS, padding.PKCS1v15(), hashes.SHA1())
    assert verify_auth(rsa_key.public_key(), AUTH_RSA_SIG, data, OCTETS, SHA2) == "rsa-sha1"


def test_method_14_rsa_is_pss_with_the_strongest_shared_hash(rsa_key):
    method, data, name = sign_auth(rsa_key, OCTETS, [SignatureHash.SHA2_256,
                                                     SignatureHash.SHA2_384])
    assert (method, name) == (AUTH_DIGITAL_SIGNATURE, "rsa-pss-sha2_384")
    scheme, signature = decode_digital_signature(data)
    assert data[0] == len(scheme.identifier) == 0x43
    # Independent check with the PSS parameters the AlgorithmIdentifier announces.
    rsa_key.public_key().verify(signature, OCTETS, padding.PSS(
        mgf=padding.MGF1(hashes.SHA384()), salt_length=48), hashes.SHA384())
    assert verify_auth(rsa_key.public_key(), method, data, OCTETS, SHA2) == "rsa-pss-sha2_384"


@pytest.mark.parametrize("curve,hash_alg", [(ec.SECP256R1(), hashes.SHA256()),
                                            (ec.SECP384R1(), hashes.SHA384()),
                                            (ec.SECP521R1(), hashes.SHA512())])
def test_ecdsa_signs_with_the_curve_hash_as_der(curve, hash_alg):
    key = ec.generate_private_key(curve)
    method, data, name = sign_auth(key, OCTETS, SHA2)
    assert method == AUTH_DIGITAL_SIGNATURE
    assert name == f"ecdsa-sha2_{hash_alg.digest_size * 8}"
    _scheme, signature = decode_digital_signature(data)
    assert signature[0] == 0x30  # Ecdsa-Sig-Value, DER
    key.public_key().verify(signature, OCTETS, ec.ECDSA(hash_alg))
    assert verify_auth(key.public_key(), method, data, OCTETS, SHA2) == name


def test_pkcs1_sha2_from_a_strongswan_like_peer_verifies(rsa_key):
    scheme = SCHEME_BY_NAME["rsa-sha2_256"]
    signature = rsa_key.sign(OCTETS, padding.PKCS1v15(), hashes.SHA256())
    data = encode_digital_signature(scheme, signature)
    assert verify_auth(rsa_key.public_key(), AUTH_DIGITAL_SIGNATURE, data, OCTETS,
                       SHA2) == "rsa-sha2_256"


def test_bad_signature_wrong_key_and_other_octets_fail(rsa_key, other_rsa_key):
    method, data, _ = sign_auth(rsa_key, OCTETS, SHA2)
    flipped = data[:-1] + bytes([data[-1] ^ 1])
    with pytest.raises(SignatureError, match="does not verify"):
        verify_auth(rsa_key.public_key(), method, flipped, OCTETS, SHA2)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_auth(other_rsa_key.public_key(), method, data, OCTETS, SHA2)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_auth(rsa_key.public_key(), method, data, OCTETS + b"x", SHA2)
    method1, data1, _ = sign_auth(rsa_key, OCTETS, [])
    with pytest.raises(SignatureError, match="does not verify"):
        verify_auth(other_rsa_key.public_key(), method1, data1, OCTETS, SHA2)


def test_key_type_and_hash_must_fit(rsa_key):
    ec_key = ec.generate_private_key(ec.SECP256R1())
    method, data, _ = sign_auth(ec_key, OCTETS, SHA2)
    with pytest.raises(SignatureError, match="peer's key is RSA"):
        verify_auth(rsa_key.public_key(), method, data, OCTETS, SHA2)
    with pytest.raises(SignatureError, match="did not announce"):
        verify_auth(ec_key.public_key(), method, data, OCTETS, [SignatureHash.SHA2_512])
    with pytest.raises(SignatureError, match="not RSA"):
        verify_auth(ec_key.public_key(), AUTH_RSA_SIG, b"\x00" * 64, OCTETS, SHA2)
    with pytest.raises(SignatureError, match="auth method 2"):
        verify_auth(rsa_key.public_key(), 2, data, OCTETS, SHA2)


@pytest.mark.parametrize("data,reason", [
    (b"", "empty"),
    (b"\x00abc", "length 0"),
    (b"\x40" + b"\x30" * 10, "does not fit"),
    (b"\x05" + bytes.fromhex("3005060300"), "unknown"),
    (bytes([len(RFC_IDENTIFIERS["ed25519"]) // 2]) + bytes.fromhex(RFC_IDENTIFIERS["ed25519"]),
     "no signature value"),
])
def test_malformed_digital_signature_data(data, reason):
    with pytest.raises(SignatureError, match=reason):
        decode_digital_signature(data)


def test_choose_scheme_needs_a_shared_hash(rsa_key):
    assert choose_scheme(rsa_key, []) is None
    assert choose_scheme(rsa_key, [SignatureHash.SHA2_256]).name == "rsa-pss-sha2_256"
    p384 = ec.generate_private_key(ec.SECP384R1())
    assert choose_scheme(p384, [SignatureHash.SHA2_256]) is None
    edkey = ed25519.Ed25519PrivateKey.generate()
    assert choose_scheme(edkey, SHA2) is None
    assert choose_scheme(edkey, [SignatureHash.IDENTITY]).name == "ed25519"
    with pytest.raises(SignatureError, match="no hash algorithm usable with our Ed25519"):
        sign_auth(edkey, OCTETS, SHA2)
    assert choose_scheme(ec.generate_private_key(ec.SECP256K1()), SHA2) is None
