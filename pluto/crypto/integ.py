"""Integrity algorithms (IKEv2 transform type 3): a MAC truncated to the ICV length.

Each algorithm takes exactly its own key length, which is what IKE derives for it; a key of
another length is a caller bug and raises ValueError rather than being silently adapted.
Received ICVs are checked in constant time.
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives import hashes, hmac

from pluto.crypto.constant_time import bytes_equal
from pluto.crypto.prf import aes_cmac, aes_xcbc_mac

MacFunction = Callable[[bytes, bytes], bytes]


class Integ:
    """One integrity algorithm: ``mac`` gives the truncated ICV, ``verify`` checks one."""

    def __init__(
        self, name: str, iana_id: int, key_size: int, icv_size: int, full_mac: MacFunction
    ) -> None:
        self.name = name
        self.iana_id = iana_id
        self.key_size = key_size
        self.icv_size = icv_size
        self._full_mac = full_mac

    def __repr__(self) -> str:
        return f"<Integ {self.name} (id {self.iana_id})>"

    def mac(self, key: bytes, data: bytes) -> bytes:
        """The ICV of ``data``: the first ``icv_size`` bytes of the MAC."""
        if len(key) != self.key_size:
            raise ValueError(f"{self.name} needs a {self.key_size}-byte key, not {len(key)} bytes")
        return self._full_mac(bytes(key), data)[: self.icv_size]

    def verify(self, key: bytes, data: bytes, icv: bytes) -> bool:
        """True when ``icv`` is the ICV of ``data``; constant time in the ICV's contents."""
        return bytes_equal(self.mac(key, data), icv)


def _hmac(hash_type: type[hashes.HashAlgorithm]) -> MacFunction:
    def full_mac(key: bytes, data: bytes) -> bytes:
        mac = hmac.HMAC(key, hash_type())
        mac.update(data)
        return mac.finalize()

    return full_mac


INTEGS: dict[int, Integ] = {
    integ.iana_id: integ
    for integ in (
        Integ("hmac_md5_96", 1, 16, 12, _hmac(hashes.MD5)),  # RFC 2403
        Integ("hmac_sha1_96", 2, 20, 12, _hmac(hashes.SHA1)),  # RFC 2404
        Integ("aes_xcbc_96", 5, 16, 12, aes_xcbc_mac),  # RFC 3566
        Integ("aes_cmac_96", 8, 16, 12, aes_cmac),  # RFC 4494
        Integ("hmac_sha2_256_128", 12, 32, 16, _hmac(hashes.SHA256)),  # RFC 4868
        Integ("hmac_sha2_384_192", 13, 48, 24, _hmac(hashes.SHA384)),
        Integ("hmac_sha2_512_256", 14, 64, 32, _hmac(hashes.SHA512)),
    )
}
