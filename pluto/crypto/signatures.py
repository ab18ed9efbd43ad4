"""Signatures for IKEv2 AUTH payloads: RSA (auth method 1) and Digital Signature (method 14).

- Method 1, "RSA Digital Signature" (RFC 7296 §3.8): RSASSA-PKCS1-v1_5 over the signed octets
  with SHA-1, the hash IKEv2 implementations have always used for it.
- Method 14, "Digital Signature" (RFC 7427 §3): the AUTH data is

      length of the AlgorithmIdentifier (1 octet) | AlgorithmIdentifier (DER) | signature

  The AlgorithmIdentifier says how to verify: here RSASSA-PKCS1-v1_5 or RSASSA-PSS (salt as
  long as the hash, MGF1 with the same hash) with SHA-2, ECDSA with SHA-2 (the signature a
  DER ``Ecdsa-Sig-Value``), and Ed25519 (RFC 8420: the hash is "Identity", the whole
  message is signed). The DER blobs are those of RFC 7427 Appendix A and RFC 8420 §2.

The hash a signer may use is one the verifier announced in SIGNATURE_HASH_ALGORITHMS
(RFC 7427 §4); :func:`choose_scheme` picks it. A received AlgorithmIdentifier must be one of
ours byte for byte: anything else (other PSS parameters, unknown algorithms) does not verify.
Verification itself is OpenSSL's; it does not compare secret values, so there is nothing to
make constant-time beyond what OpenSSL does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

AUTH_RSA_SIG = 1  # RFC 7296 "RSA Digital Signature"
AUTH_DIGITAL_SIGNATURE = 14  # RFC 7427


class SignatureHash(enum.IntEnum):
    """IANA "IKEv2 Hash Algorithms" numbers (RFC 7427 §7, RFC 8420)."""

    SHA1 = 1
    SHA2_256 = 2
    SHA2_384 = 3
    SHA2_512 = 4
    IDENTITY = 5


class SignatureError(ValueError):
    """AUTH data that cannot be signed or verified as asked; the message says why."""


PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

_HASHES: dict[SignatureHash, type[hashes.HashAlgorithm]] = {
    SignatureHash.SHA1: hashes.SHA1, SignatureHash.SHA2_256: hashes.SHA256,
    SignatureHash.SHA2_384: hashes.SHA384, SignatureHash.SHA2_512: hashes.SHA512,
}


def _der(tag: int, body: bytes) -> bytes:
    """One DER TLV (every body here is shorter than 128 octets)."""
    assert len(body) < 128
    return bytes([tag, len(body)]) + body


def _oid(*encoded: int) -> bytes:
    return _der(0x06, bytes(encoded))


_NULL = b"\x05\x00"
_RSA = (0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01)  # 1.2.840.113549.1.1 (PKCS #1)
_SHA2 = (0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02)  # 2.16.840.1.101.3.4.2 (NIST hashes)
_ECDSA_SHA2 = (0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03)  # 1.2.840.10045.4.3
_SHA2_ARC = {SignatureHash.SHA2_256: 1, SignatureHash.SHA2_384: 2, SignatureHash.SHA2_512: 3}


def _pkcs1_identifier(hash_alg: SignatureHash) -> bytes:
    # sha1WithRSAEncryption (.5), sha256/384/512WithRSAEncryption (.11/.12/.13), NULL params.
    arc = {SignatureHash.SHA1: 5, SignatureHash.SHA2_256: 11, SignatureHash.SHA2_384: 12,
           SignatureHash.SHA2_512: 13}[hash_alg]
    return _der(0x30, _oid(*_RSA, arc) + _NULL)


def _pss_identifier(hash_alg: SignatureHash) -> bytes:
    # id-RSASSA-PSS (.10) with RSASSA-PSS-params (RFC 4055 §3.1): [0] hash, [1] MGF1(hash),
    # [2] salt length = hash length; trailerField left at its default.
    hash_id = _der(0x30, _oid(*_SHA2, _SHA2_ARC[hash_alg]) + _NULL)
    mgf1 = _der(0x30, _oid(*_RSA, 8) + hash_id)
    salt = _der(0x02, bytes([_HASHES[hash_alg].digest_size]))
    params = _der(0x30, _der(0xA0, hash_id) + _der(0xA1, mgf1) + _der(0xA2, salt))
    return _der(0x30, _oid(*_RSA, 10) + params)


def _ecdsa_identifier(hash_alg: SignatureHash) -> bytes:
    # ecdsa-with-SHA256/384/512 (.2/.3/.4): parameters absent.
    return _der(0x30, _oid(*_ECDSA_SHA2, _SHA2_ARC[hash_alg] + 1))


ED25519_IDENTIFIER = _der(0x30, _oid(0x2B, 0x65, 0x70))  # id-Ed25519, 1.3.101.112


class KeyKind(enum.Enum):
    RSA = "RSA"
    ECDSA = "ECDSA"
    ED25519 = "Ed25519"


@dataclass(frozen=True)
class Scheme:
    """One signature algorithm of RFC 7427: how it is named, what key it needs, its hash."""

    name: str
    kind: KeyKind
    hash: SignatureHash
    identifier: bytes  # the DER AlgorithmIdentifier
    pss: bool = False

    def sign(self, key: Any, data: bytes) -> bytes:
        _check_kind(self, key, private=True)
        if self.kind is KeyKind.ED25519:
            return key.sign(data)
        if self.kind is KeyKind.ECDSA:
            return key.sign(data, ec.ECDSA(_HASHES[self.hash]()))
        return key.sign(data, self._padding(), _HASHES[self.hash]())

    def verify(self, key: Any, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` is this scheme's signature of ``data`` by ``key``."""
        if not _is_kind(self.kind, key, private=False):
            return False
        try:
            if self.kind is KeyKind.ED25519:
                key.verify(signature, data)
            elif self.kind is KeyKind.ECDSA:
                key.verify(signature, data, ec.ECDSA(_HASHES[self.hash]()))
            else:
                key.verify(signature, data, self._padding(), _HASHES[self.hash]())
        except (InvalidSignature, ValueError):
            return False
        return True

    def _padding(self) -> padding.AsymmetricPadding:
        if self.pss:
            hash_alg = _HASHES[self.hash]()
            return padding.PSS(mgf=padding.MGF1(hash_alg), salt_length=hash_alg.digest_size)
        return padding.PKCS1v15()


def _schemes() -> tuple[Scheme, ...]:
    found = [Scheme("rsa-sha1", KeyKind.RSA, SignatureHash.SHA1,
                    _pkcs1_identifier(SignatureHash.SHA1))]
    for hash_alg in (SignatureHash.SHA2_256, SignatureHash.SHA2_384, SignatureHash.SHA2_512):
        bits = _HASHES[hash_alg].digest_size * 8
        found += [Scheme(f"rsa-pss-sha2_{bits}", KeyKind.RSA, hash_alg,
                         _pss_identifier(hash_alg), pss=True),
                  Scheme(f"rsa-sha2_{bits}", KeyKind.RSA, hash_alg, _pkcs1_identifier(hash_alg)),
                  Scheme(f"ecdsa-sha2_{bits}", KeyKind.ECDSA, hash_alg,
                         _ecdsa_identifier(hash_alg))]
    found.append(Scheme("ed25519", KeyKind.ED25519, SignatureHash.IDENTITY, ED25519_IDENTIFIER))
    return tuple(found)


SCHEMES: tuple[Scheme, ...] = _schemes()
SCHEME_BY_NAME = {scheme.name: scheme for scheme in SCHEMES}
_BY_IDENTIFIER = {scheme.identifier: scheme for scheme in SCHEMES}
# Method 1: RSASSA-PKCS1-v1_5 with SHA-1, no AlgorithmIdentifier on the wire.
RSA_SIG_SHA1 = SCHEME_BY_NAME["rsa-sha1"]

# The hash each ECDSA curve is paired with, as libreswan and strongSwan pair them.
_CURVE_HASH = {"secp256r1": SignatureHash.SHA2_256, "secp384r1": SignatureHash.SHA2_384,
               "secp521r1": SignatureHash.SHA2_512}
# RSA-PSS hashes in our order of preference (the peer's list order does not matter).
_RSA_HASHES = (SignatureHash.SHA2_512, SignatureHash.SHA2_384, SignatureHash.SHA2_256)


def key_kind(key: Any) -> KeyKind | None:
    """The kind of a private or public key; None for keys we cannot sign with."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return KeyKind.RSA
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return KeyKind.ECDSA if key.curve.name in _CURVE_HASH else None
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return KeyKind.ED25519
    return None


def _is_kind(kind: KeyKind, key: Any, *, private: bool) -> bool:
    if key_kind(key) is not kind:
        return False
    is_private = isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
                            | ed25519.Ed25519PrivateKey)
    return is_private == private


def _check_kind(scheme: Scheme, key: Any, *, private: bool) -> None:
    if not _is_kind(scheme.kind, key, private=private):
        raise SignatureError(f"{scheme.name} needs an {scheme.kind.value} "
                             f"{'private' if private else 'public'} key")


def choose_scheme(key: Any, peer_hashes: tuple[int, ...] | list[int]) -> Scheme | None:
    """The Digital Signature scheme to sign with ``key`` for a peer that announced
    ``peer_hashes``; None when they share no usable hash (use method 1 for RSA, or fail)."""
    kind = key_kind(key)
    announced = set(peer_hashes)
    if kind is KeyKind.RSA:
        for hash_alg in _RSA_HASHES:
            if hash_alg in announced:
                return next(s for s in SCHEMES if s.pss and s.hash is hash_alg)
        return None
    if kind is KeyKind.ECDSA:
        hash_alg = _CURVE_HASH[key.curve.name]
        if hash_alg not in announced:
            return None
        return next(s for s in SCHEMES if s.kind is KeyKind.ECDSA and s.hash is hash_alg)
    if kind is KeyKind.ED25519:
        return SCHEME_BY_NAME["ed25519"] if SignatureHash.IDENTITY in announced else None
    return None


def encode_digital_signature(scheme: Scheme, signature: bytes) -> bytes:
    """The AUTH data of method 14 (RFC 7427 §3)."""
    return bytes([len(scheme.identifier)]) + scheme.identifier + signature


def decode_digital_signature(data: bytes) -> tuple[Scheme, bytes]:
    """The scheme and signature value of method 14 AUTH data; SignatureError when the
    AlgorithmIdentifier is malformed or not one we know."""
    if not data:
        raise SignatureError("Digital Signature AUTH data is empty")
    length = data[0]
    if length == 0 or len(data) < 1 + length:
        raise SignatureError(f"Digital Signature AUTH data: AlgorithmIdentifier length {length} "
                             f"does not fit in {len(data)} octets")
    identifier = data[1:1 + length]
    scheme = _BY_IDENTIFIER.get(identifier)
    if scheme is None:
        raise SignatureError(f"Digital Signature AUTH data: unknown or unsupported "
                             f"AlgorithmIdentifier {identifier.hex()}")
    signature = data[1 + length:]
    if not signature:
        raise SignatureError("Digital Signature AUTH data has no signature value")
    return scheme, signature


def sign_auth(key: Any, octets: bytes, peer_hashes: tuple[int, ...] | list[int]
              ) -> tuple[int, bytes, str]:
    """(auth method, AUTH data, scheme name) signing ``octets`` with our private ``key``.

    Method 14 when the peer announced a hash usable with the key, else, for RSA only,
    method 1 (RSA with SHA-1) as RFC 7427 §4 allows for peers that announce nothing."""
    scheme = choose_scheme(key, peer_hashes)
    if scheme is not None:
        return AUTH_DIGITAL_SIGNATURE, encode_digital_signature(
            scheme, scheme.sign(key, octets)), scheme.name
    if key_kind(key) is KeyKind.RSA:
        return AUTH_RSA_SIG, RSA_SIG_SHA1.sign(key, octets), RSA_SIG_SHA1.name
    kind = key_kind(key)
    raise SignatureError(f"the peer announced no hash algorithm usable with our "
                         f"{kind.value if kind else 'unknown'} key")


def verify_auth(key: Any, method: int, data: bytes, octets: bytes,
                accepted_hashes: tuple[int, ...] | list[int]) -> str:
    """Check the peer's AUTH data of ``method`` over ``octets`` with its public ``key``.

    ``accepted_hashes``: the hashes we announced; a method 14 signature with another hash is
    refused (RFC 7427 §4). Returns the scheme's name; raises SignatureError saying why not."""
    if method == AUTH_RSA_SIG:
        if key_kind(key) is not KeyKind.RSA:
            raise SignatureError("RSA signature (auth method 1) but the peer's key is not RSA")
        scheme, signature = RSA_SIG_SHA1, data
    elif method == AUTH_DIGITAL_SIGNATURE:
        scheme, signature = decode_digital_signature(data)
        if scheme.hash not in set(accepted_hashes):
            raise SignatureError(f"{scheme.name} uses hash {scheme.hash.name}, which we did not "
                                 "announce")
        if key_kind(key) is not scheme.kind:
            kind = key_kind(key)
            raise SignatureError(f"{scheme.name} signature but the peer's key is "
                                 f"{kind.value if kind else 'unusable'}")
    else:
        raise SignatureError(f"auth method {method} is not a signature method we support")
    if not scheme.verify(key, signature, octets):
        raise SignatureError(f"{scheme.name} signature does not verify with the peer's key")
    return scheme.name
