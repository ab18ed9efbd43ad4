"""Stateless COOKIEs for a busy responder (RFC 7296 §2.6).

    Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>)

The version id is four octets, the hash SHA-256, so a cookie is 36 octets (the RFC allows up
to 64). The secret is replaced every ``rotation`` seconds of the injected clock; cookies made
with the previous secret are still accepted until the next replacement, so an initiator that
got a cookie just before a change can still use it.
"""

from __future__ import annotations

import ipaddress
from typing import Protocol

from cryptography.hazmat.primitives import hashes

from pluto.crypto.constant_time import bytes_equal
from pluto.crypto.rand import RandomSource

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

VERSION_SIZE = 4
SECRET_SIZE = 32
COOKIE_SIZE = VERSION_SIZE + 32
DEFAULT_ROTATION = 120.0  # seconds a secret is the current one


class _Clock(Protocol):
    def now(self) -> float: ...


class Cookies:
    """Makes and checks cookies; holds the current and the previous secret."""

    def __init__(self, secret_source: RandomSource, clock: _Clock,
                 rotation: float = DEFAULT_ROTATION) -> None:
        if rotation <= 0:
            raise ValueError("cookie secret rotation must be positive")
        self._rand = secret_source
        self._clock = clock
        self._rotation = rotation
        self._version = 0
        self._secrets: dict[int, bytes] = {}
        self._new_secret()
        self._rotate_at = clock.now() + rotation

    def _new_secret(self) -> None:
        """The current secret becomes the previous one; a fresh one becomes current."""
        current = self._secrets.get(self._version)
        previous_version = self._version
        self._version = (self._version + 1) % (1 << (8 * VERSION_SIZE))
        self._secrets = {} if current is None else {previous_version: current}
        self._secrets[self._version] = self._rand.bytes(SECRET_SIZE)

    def _catch_up(self) -> None:
        """Replace the secret for each rotation period that has passed."""
        now = self._clock.now()
        if now < self._rotate_at:
            return
        periods = int((now - self._rotate_at) // self._rotation) + 1
        if periods >= 2:
            self._secrets = {}  # the previous secret has expired as well
        self._new_secret()
        self._rotate_at += periods * self._rotation

    @staticmethod
    def _hash(ni: bytes, ip: IPAddress | str, spi_i: bytes, secret: bytes) -> bytes:
        digest = hashes.Hash(hashes.SHA256())
        digest.update(ni + ipaddress.ip_address(ip).packed + spi_i + secret)
        return digest.finalize()

    def make(self, ni: bytes, ip: IPAddress | str, spi_i: bytes) -> bytes:
        """The cookie for the initiator at ``ip`` that sent nonce ``ni`` and SPI ``spi_i``."""
        self._catch_up()
        version = self._version.to_bytes(VERSION_SIZE, "big")
        return version + self._hash(ni, ip, spi_i, self._secrets[self._version])

    def check(self, cookie: bytes, ni: bytes, ip: IPAddress | str, spi_i: bytes) -> bool:
        """Whether ``cookie`` is one we made (current or previous secret) for these values."""
        self._catch_up()
        if len(cookie) != COOKIE_SIZE:
            return False
        secret = self._secrets.get(int.from_bytes(cookie[:VERSION_SIZE], "big"))
        if secret is None:
            return False
        return bytes_equal(self._hash(ni, ip, spi_i, secret), cookie[VERSION_SIZE:])
