"""IKE pseudo-random functions (IKEv2 transform type 2; IKEv1 HMAC of the negotiated hash).

A :class:`Prf` is called as ``prf(key, data)`` and returns its full output. The HMAC PRFs
accept keys of any length (RFC 2104); the AES-based ones turn any key into a 16-byte AES key
by the rules of their RFCs:

- AES-XCBC-PRF-128 (RFC 4434): 16 bytes as is, shorter keys padded on the right with zero
  bytes, longer keys replaced by AES-XCBC-MAC(0^16, key);
- AES-CMAC-PRF-128 (RFC 4615): 16 bytes as is, any other length replaced by
  AES-CMAC(0^16, key).

The bare MACs (:func:`aes_xcbc_mac`, RFC 3566, and :func:`aes_cmac`, RFC 4493) live here too,
because the integrity algorithms of :mod:`pluto.crypto.integ` truncate the same functions.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import cmac, hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

AES_BLOCK_SIZE = 16
AES128_KEY_SIZE = 16


class Prf:
    """One pseudo-random function; subclasses implement :meth:`__call__`.

    ``key_size`` is the preferred key length (RFC 7296 §2.13). ``fixed_key_size`` is set for
    PRFs whose key has a single natural length; RFC 7296 §2.14 then builds the SKEYSEED key
    from the first half of that length of Ni and of Nr.
    """

    name: str
    iana_id: int
    output_size: int
    key_size: int
    fixed_key_size: int | None = None

    def __call__(self, key: bytes, data: bytes) -> bytes:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<Prf {self.name} (id {self.iana_id})>"


class HmacPrf(Prf):
    """PRF_HMAC_*: HMAC (RFC 2104) of a hash; output and preferred key are one digest long."""

    def __init__(self, name: str, iana_id: int, hash_type: type[hashes.HashAlgorithm]) -> None:
        self.name = name
        self.iana_id = iana_id
        self._hash_type = hash_type
        self.output_size = hash_type.digest_size
        self.key_size = self.output_size

    @property
    def hash_name(self) -> str:
        return self._hash_type.name

    def __call__(self, key: bytes, data: bytes) -> bytes:
        mac = hmac.HMAC(bytes(key), self._hash_type())
        mac.update(data)
        return mac.finalize()

    def hash(self, data: bytes) -> bytes:
        """The plain hash under this HMAC (IKEv1 uses it for the phase 1 and 2 IVs)."""
        digest = hashes.Hash(self._hash_type())
        digest.update(data)
        return digest.finalize()


class AesXcbcPrf(Prf):
    """PRF_AES128_XCBC (RFC 4434)."""

    def __init__(self) -> None:
        self.name = "aes128_xcbc"
        self.iana_id = 4
        self.output_size = AES_BLOCK_SIZE
        self.key_size = AES128_KEY_SIZE
        self.fixed_key_size = AES128_KEY_SIZE

    def __call__(self, key: bytes, data: bytes) -> bytes:
        return aes_xcbc_mac(xcbc_prf_key(key), data)


class AesCmacPrf(Prf):
    """PRF_AES128_CMAC (RFC 4615)."""

    def __init__(self) -> None:
        self.name = "aes128_cmac"
        self.iana_id = 8
        self.output_size = AES_BLOCK_SIZE
        self.key_size = AES128_KEY_SIZE
        self.fixed_key_size = AES128_KEY_SIZE

    def __call__(self, key: bytes, data: bytes) -> bytes:
        return aes_cmac(cmac_prf_key(key), data)


def xcbc_prf_key(key: bytes) -> bytes:
    """The AES key AES-XCBC-PRF-128 uses for ``key`` (RFC 4434 §2)."""
    if len(key) == AES128_KEY_SIZE:
        return bytes(key)
    if len(key) < AES128_KEY_SIZE:
        return bytes(key) + bytes(AES128_KEY_SIZE - len(key))
    return aes_xcbc_mac(bytes(AES128_KEY_SIZE), key)


def cmac_prf_key(key: bytes) -> bytes:
    """The AES key AES-CMAC-PRF-128 uses for ``key`` (RFC 4615 §3)."""
    if len(key) == AES128_KEY_SIZE:
        return bytes(key)
    return aes_cmac(bytes(AES128_KEY_SIZE), key)


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def _require_aes128_key(key: bytes, what: str) -> None:
    if len(key) != AES128_KEY_SIZE:
        raise ValueError(f"{what} needs a {AES128_KEY_SIZE}-byte key, not {len(key)} bytes")


def aes_xcbc_mac(key: bytes, data: bytes) -> bytes:
    """AES-XCBC-MAC (RFC 3566 §4) with a 16-byte key; the full 16-byte result."""
    _require_aes128_key(key, "AES-XCBC-MAC")
    derive = Cipher(algorithms.AES(bytes(key)), modes.ECB()).encryptor()
    subkeys = derive.update(b"\x01" * 16 + b"\x02" * 16 + b"\x03" * 16) + derive.finalize()
    k1, k2, k3 = subkeys[:16], subkeys[16:32], subkeys[32:]

    # A complete final block is masked with K2; a partial (or empty) one is padded with
    # 0x80 00.. and masked with K3.
    tail = len(data) % AES_BLOCK_SIZE
    if data and tail == 0:
        head, last = data[:-AES_BLOCK_SIZE], _xor(data[-AES_BLOCK_SIZE:], k2)
    else:
        cut = len(data) - tail
        padded = bytes(data[cut:]) + b"\x80" + bytes(AES_BLOCK_SIZE - 1 - tail)
        head, last = data[:cut], _xor(padded, k3)

    # CBC with a zero IV chains the E[i] of RFC 3566; the last block out is the MAC.
    chain = Cipher(algorithms.AES(k1), modes.CBC(bytes(AES_BLOCK_SIZE))).encryptor()
    out = chain.update(bytes(head) + last) + chain.finalize()
    return out[-AES_BLOCK_SIZE:]


def aes_cmac(key: bytes, data: bytes) -> bytes:
    """AES-CMAC (RFC 4493) with a 16-byte key; the full 16-byte result."""
    _require_aes128_key(key, "AES-CMAC")
    mac = cmac.CMAC(algorithms.AES(bytes(key)))
    mac.update(data)
    return mac.finalize()


PRFS: dict[int, Prf] = {
    prf.iana_id: prf
    for prf in (
        HmacPrf("hmac_md5", 1, hashes.MD5),
        HmacPrf("hmac_sha1", 2, hashes.SHA1),
        AesXcbcPrf(),
        HmacPrf("hmac_sha2_256", 5, hashes.SHA256),
        HmacPrf("hmac_sha2_384", 6, hashes.SHA384),
        HmacPrf("hmac_sha2_512", 7, hashes.SHA512),
        AesCmacPrf(),
    )
}
