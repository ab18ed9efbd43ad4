"""The injected random source: nonces, SPIs, private keys.

Everything in pluto that needs randomness takes a :class:`RandomSource` instead of calling
``os.urandom`` itself, so that tests can seed it and replay an exchange byte for byte. The
default source reads the operating system's generator; a seeded source is an HMAC_DRBG
(NIST SP 800-90A §10.1.2, SHA-256, no reseeding) built from the standard library only.

The source also honours the impairs that force values onto the wire (``nonce``,
``ike-initiator-spi``, ``ike-responder-spi``) and logs an ``IMPAIR:`` line when one fires.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from pluto.impair import Impairs
from pluto.log import Logger

IKE_SPI_SIZE = 8


class HmacDrbg:
    """HMAC_DRBG with SHA-256 (SP 800-90A §10.1.2) without reseed or prediction resistance.

    ``seed_material`` is entropy_input | nonce | personalization_string. Each call to
    :meth:`generate` is one SP 800-90A Generate request, so the NIST known answers apply.
    """

    MAX_REQUEST = 1 << 16  # bytes per Generate request (2**19 bits)

    def __init__(self, seed_material: bytes) -> None:
        self._key = bytes(32)
        self._value = b"\x01" * 32
        self._update(seed_material)

    def _mac(self, data: bytes) -> bytes:
        return hmac.digest(self._key, data, hashlib.sha256)

    def _update(self, provided: bytes) -> None:
        self._key = self._mac(self._value + b"\x00" + provided)
        self._value = self._mac(self._value)
        if provided:
            self._key = self._mac(self._value + b"\x01" + provided)
            self._value = self._mac(self._value)

    def generate(self, size: int) -> bytes:
        if not 0 <= size <= self.MAX_REQUEST:
            raise ValueError(f"HMAC_DRBG request of {size} bytes is out of range")
        out = bytearray()
        while len(out) < size:
            self._value = self._mac(self._value)
            out += self._value
        self._update(b"")
        return bytes(out[:size])


def _seed_bytes(seed: bytes | str | int) -> bytes:
    if isinstance(seed, bytes):
        return seed
    if isinstance(seed, str):
        return seed.encode()
    if isinstance(seed, int):
        return str(seed).encode()
    raise TypeError(f"cannot seed a RandomSource with {type(seed).__name__}")


class RandomSource:
    """Random bytes for one pluto (or one test).

    ``RandomSource()`` reads ``os.urandom``; ``RandomSource(seed)`` (or
    :meth:`seeded`) is deterministic: the same seed gives the same bytes in the same order.
    """

    def __init__(self, seed: bytes | str | int | None = None) -> None:
        self._drbg = None if seed is None else HmacDrbg(_seed_bytes(seed))

    @classmethod
    def seeded(cls, seed: bytes | str | int) -> RandomSource:
        return cls(seed)

    @property
    def deterministic(self) -> bool:
        return self._drbg is not None

    def __repr__(self) -> str:
        return "RandomSource(seeded)" if self.deterministic else "RandomSource(os.urandom)"

    def bytes(self, size: int) -> bytes:
        """``size`` random bytes."""
        if size < 0:
            raise ValueError("negative random byte count")
        if self._drbg is None:
            return os.urandom(size)
        chunks = []
        while size > 0:
            step = min(size, HmacDrbg.MAX_REQUEST)
            chunks.append(self._drbg.generate(step))
            size -= step
        return b"".join(chunks)

    def randbelow(self, limit: int) -> int:
        """A uniform integer in [0, limit) (rejection sampling, so no modulo bias)."""
        if limit <= 0:
            raise ValueError("randbelow needs a positive limit")
        bits = (limit - 1).bit_length()
        size = (bits + 7) // 8
        while True:
            value = int.from_bytes(self.bytes(size), "big") >> (size * 8 - bits)
            if value < limit:
                return value

    def randint(self, low: int, high: int) -> int:
        """A uniform integer in [low, high]."""
        if high < low:
            raise ValueError("randint with an empty range")
        return low + self.randbelow(high - low + 1)

    def nonce(self, size: int, impairs: Impairs | None = None,
              logger: Logger | None = None) -> bytes:
        """A nonce of ``size`` bytes; ``--impair nonce:N`` forces N (big-endian, zero-padded)."""
        forced = impairs.get("nonce") if impairs is not None else None
        if forced is None:
            return self.bytes(size)
        value = forced % (1 << (8 * size)) if size else 0
        if logger is not None:
            logger.impair(f"forcing nonce to {value:#x} ({size} bytes)")
        return value.to_bytes(size, "big")

    def ike_spi(self) -> bytes:
        """A random 8-byte IKE SPI; never zero, since zero means "not yet known"."""
        while True:
            spi = self.bytes(IKE_SPI_SIZE)
            if any(spi):
                return spi

    def spi_i(self, impairs: Impairs | None = None, logger: Logger | None = None) -> bytes:
        """The IKE initiator SPI (cookie), honouring ``--impair ike-initiator-spi:N``."""
        return self._forced_spi("ike-initiator-spi", "initiator", impairs, logger)

    def spi_r(self, impairs: Impairs | None = None, logger: Logger | None = None) -> bytes:
        """The IKE responder SPI (cookie), honouring ``--impair ike-responder-spi:N``."""
        return self._forced_spi("ike-responder-spi", "responder", impairs, logger)

    def _forced_spi(self, impair: str, role: str, impairs: Impairs | None,
                    logger: Logger | None) -> bytes:
        forced = impairs.get(impair) if impairs is not None else None
        if forced is None:
            return self.ike_spi()
        # A deliberate fault: the value is used as given, even zero.
        value = forced % (1 << (8 * IKE_SPI_SIZE))
        if logger is not None:
            logger.impair(f"forcing IKE {role} SPI to {value:#018x}")
        return value.to_bytes(IKE_SPI_SIZE, "big")
