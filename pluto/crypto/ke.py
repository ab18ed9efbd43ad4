"""Key exchange (Diffie-Hellman) groups by IANA number, with their IKE wire forms.

``ke_group(n)`` returns the group; ``group.generate(rand)`` a key pair whose ``public`` is the
KE payload data, and ``pair.shared_secret(peer)`` the g^ir that goes into the KDF:

- MODP (RFC 2409, 3526): public value and secret big-endian, left-padded to the prime length;
- ECP (RFC 5903): public value x | y without the 0x04 prefix, secret the x coordinate;
- Curve25519/Curve448 (RFC 8031): raw 32/56-byte strings; an all-zero secret is refused.

A peer value that is the wrong length, outside 1 < y < p-1 (MODP), or not on the curve (ECP)
raises :class:`InvalidKeyExchange`, so that the exchange can answer with a notify
(INVALID_SYNTAX, or INVALID_KE_PAYLOAD for a group it does not accept).

MODP needs care: ``cryptography`` plans to remove finite-field DH. Two interchangeable back ends
compute it: ``cryptography`` (OpenSSL) and ``python`` (``pow()``, or ``gmpy2.powmod`` when gmpy2
is installed). ``auto`` takes ``cryptography`` while it offers DH at all (it is several times
faster; its deprecation warning is silenced inside our calls, since the replacement is already
here), except for the 768/1024-bit groups, which OpenSSL re-validates on every use, and the pure
Python one once DH is gone; :func:`set_modp_backend` or the ``modp_backend`` argument force one.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pluto.crypto.modp_groups import EXPONENT_BYTES, GENERATOR, PRIMES
from pluto.crypto.rand import RandomSource
from pluto.crypto.registry import KEY_EXCHANGES, KeAlgorithm, Kind, by_ikev2_id

try:
    from gmpy2 import mpz as _mpz
    from gmpy2 import powmod as _gmp_powmod

    def _powmod(base: int, exponent: int, modulus: int) -> int:
        return int(_gmp_powmod(_mpz(base), _mpz(exponent), _mpz(modulus)))
except ImportError:  # the usual case: plain Python big integers are fast enough

    def _powmod(base: int, exponent: int, modulus: int) -> int:
        return pow(base, exponent, modulus)


class InvalidKeyExchange(Exception):
    """A peer's KE value (or the secret it leads to) is unacceptable."""


MODP_BACKENDS = ("cryptography", "python")
_default_backend = "auto"


def set_modp_backend(name: str) -> None:
    """Choose the MODP implementation for groups made from now on: auto, cryptography, python."""
    global _default_backend
    if name != "auto" and name not in MODP_BACKENDS:
        raise ValueError(f"unknown MODP backend {name!r} (auto, {', '.join(MODP_BACKENDS)})")
    _default_backend = name


@contextlib.contextmanager
def _ffdh_quietly():
    """Silence cryptography's FFDH deprecation warning (cryptography >= 50) for our own calls."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Diffie-Hellman over finite fields")
        yield


@functools.cache
def cryptography_has_dh() -> bool:
    """Whether ``cryptography`` still offers finite-field DH (deprecated or not)."""
    try:
        with _ffdh_quietly():
            from cryptography.hazmat.primitives.asymmetric import dh

            dh.DHParameterNumbers(PRIMES[14], GENERATOR).parameters()
    except Exception:
        return False
    return True


# OpenSSL 3 does not know the 768 and 1024-bit primes by name and re-checks them (a primality
# test, ~50 ms) for every key and every exchange; pow() is a hundred times faster there.
_PYTHON_FASTER = frozenset({1, 2})


def resolve_modp_backend(name: str | None = None, group_id: int | None = None) -> str:
    """The back end ``name`` (or the current default) resolves to, for ``group_id``."""
    choice = _default_backend if name is None else name
    if choice == "auto":
        if group_id in _PYTHON_FASTER or not cryptography_has_dh():
            return "python"
        return "cryptography"
    if choice not in MODP_BACKENDS:
        raise ValueError(f"unknown MODP backend {choice!r} (auto, {', '.join(MODP_BACKENDS)})")
    return choice


class KeyPair:
    """Our half of one key exchange: the public value to send and the private value."""

    def __init__(self, group: KeGroup, public: bytes, private: Any) -> None:
        self.group = group
        self.public = public
        self._private = private

    def __repr__(self) -> str:
        return f"<KeyPair {self.group.alg.fqn} public={self.public[:8].hex()}...>"

    @property
    def private_value(self) -> bytes:
        """The private value in the form :meth:`KeGroup.from_private` takes (secret!)."""
        return self.group._private_bytes(self._private)

    def shared_secret(self, peer_public: bytes) -> bytes:
        """g^ir from the peer's KE data; raises InvalidKeyExchange for a bad peer value."""
        self.group.check_public(peer_public)
        return self.group._shared(self._private, peer_public)


class KeGroup:
    """One key-exchange group; see the module docstring for the wire forms."""

    def __init__(self, alg: KeAlgorithm) -> None:
        self.alg = alg

    @property
    def group_id(self) -> int:
        assert self.alg.ikev2_id is not None
        return self.alg.ikev2_id

    @property
    def public_size(self) -> int:
        return self.alg.public_size

    @property
    def shared_size(self) -> int:
        return self.alg.shared_size

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.alg.fqn}>"

    def generate(self, rand: RandomSource | None = None) -> KeyPair:
        """A fresh key pair; from ``rand`` when given (deterministic in tests)."""
        raise NotImplementedError

    def from_private(self, private: bytes) -> KeyPair:
        """The key pair for a known private value (known-answer tests, crypto helpers)."""
        raise NotImplementedError

    def check_public(self, public: bytes) -> None:
        """Raise InvalidKeyExchange unless ``public`` is acceptable KE data for this group."""
        if len(public) != self.public_size:
            raise InvalidKeyExchange(f"{self.alg.fqn} KE data must be {self.public_size} bytes, "
                                     f"got {len(public)}")

    def _shared(self, private: Any, peer_public: bytes) -> bytes:
        raise NotImplementedError

    def _private_bytes(self, private: Any) -> bytes:
        raise NotImplementedError


class ModpGroup(KeGroup):
    """A MODP group with generator 2 and a short private exponent (see modp_groups.py)."""

    def __init__(self, alg: KeAlgorithm, backend: str) -> None:
        super().__init__(alg)
        self.backend = backend
        self.prime = PRIMES[self.group_id]
        self._params = None
        if backend == "cryptography":
            with _ffdh_quietly():
                self._init_cryptography()

    def _init_cryptography(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import dh

        self._dh = dh
        self._param_numbers = dh.DHParameterNumbers(self.prime, GENERATOR)
        self._params = self._param_numbers.parameters()
        self._generator_numbers = dh.DHPublicNumbers(GENERATOR, self._param_numbers)
        self._generator_key = self._generator_numbers.public_key()

    def __repr__(self) -> str:
        return f"<ModpGroup {self.alg.fqn} ({self.backend})>"

    def generate(self, rand: RandomSource | None = None) -> KeyPair:
        rand = rand if rand is not None else RandomSource()
        size = EXPONENT_BYTES[self.group_id]
        while True:
            exponent = int.from_bytes(rand.bytes(size), "big")
            if exponent > 1:
                return self._pair(exponent)

    def from_private(self, private: bytes) -> KeyPair:
        exponent = int.from_bytes(private, "big")
        if not 1 < exponent < self.prime - 1:
            raise ValueError(f"{self.alg.fqn} private exponent out of range")
        return self._pair(exponent)

    def _pair(self, exponent: int) -> KeyPair:
        if self._params is None:
            public = _powmod(GENERATOR, exponent, self.prime)
            return KeyPair(self, public.to_bytes(self.public_size, "big"), exponent)
        # cryptography builds a key only from x and y. Let OpenSSL compute y = g^x (an exchange
        # with the generator as the peer value; several times faster than pow() here) using a
        # provisional key, then build the real one.
        dh = self._dh
        with _ffdh_quietly():
            provisional = dh.DHPrivateNumbers(exponent, self._generator_numbers).private_key()
            public = int.from_bytes(provisional.exchange(self._generator_key), "big")
            numbers = dh.DHPrivateNumbers(exponent, dh.DHPublicNumbers(public, self._param_numbers))
            private = numbers.private_key()
        return KeyPair(self, public.to_bytes(self.public_size, "big"), private)

    def check_public(self, public: bytes) -> None:
        super().check_public(public)
        value = int.from_bytes(public, "big")
        # RFC 7296 §5 / SP 800-56A: reject 0, 1 and p-1 (and anything not reduced mod p).
        if not 1 < value < self.prime - 1:
            raise InvalidKeyExchange(f"{self.alg.fqn} KE value is outside 1 < y < p-1")

    def _shared(self, private: Any, peer_public: bytes) -> bytes:
        peer = int.from_bytes(peer_public, "big")
        if self._params is None:
            secret = _powmod(peer, private, self.prime)
        else:
            dh = self._dh
            try:
                with _ffdh_quietly():
                    peer_key = dh.DHPublicNumbers(peer, self._param_numbers).public_key()
                    secret = int.from_bytes(private.exchange(peer_key), "big")
            except ValueError as error:
                raise InvalidKeyExchange(f"{self.alg.fqn}: {error}") from None
        if secret <= 1:
            raise InvalidKeyExchange(f"{self.alg.fqn} shared secret is degenerate")
        return secret.to_bytes(self.shared_size, "big")

    def _private_bytes(self, private: Any) -> bytes:
        exponent = private if isinstance(private, int) else private.private_numbers().x
        return exponent.to_bytes((exponent.bit_length() + 7) // 8, "big")


_CURVES: dict[int, type[ec.EllipticCurve]] = {
    19: ec.SECP256R1,
    20: ec.SECP384R1,
    21: ec.SECP521R1,
}


class EcpGroup(KeGroup):
    """A NIST prime curve (RFC 5903): KE data x | y, shared secret x."""

    def __init__(self, alg: KeAlgorithm) -> None:
        super().__init__(alg)
        self.curve = _CURVES[self.group_id]()
        self.coordinate_size = alg.public_size // 2

    def generate(self, rand: RandomSource | None = None) -> KeyPair:
        if rand is None:
            return self._pair(ec.generate_private_key(self.curve))
        excess_bits = self.coordinate_size * 8 - self.alg.bits
        while True:  # rejection sampling: derive_private_key refuses 0 and >= the order
            scalar = int.from_bytes(rand.bytes(self.coordinate_size), "big") >> excess_bits
            try:
                return self._pair(ec.derive_private_key(scalar, self.curve))
            except ValueError:
                continue

    def from_private(self, private: bytes) -> KeyPair:
        return self._pair(ec.derive_private_key(int.from_bytes(private, "big"), self.curve))

    def _pair(self, key: ec.EllipticCurvePrivateKey) -> KeyPair:
        point = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return KeyPair(self, point[1:], key)

    def _peer_key(self, public: bytes) -> ec.EllipticCurvePublicKey:
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(self.curve, b"\x04" + public)
        except ValueError:
            raise InvalidKeyExchange(f"{self.alg.fqn} KE value is not a point on "
                                     f"{self.curve.name}") from None

    def check_public(self, public: bytes) -> None:
        super().check_public(public)
        self._peer_key(public)

    def _shared(self, private: Any, peer_public: bytes) -> bytes:
        try:
            return private.exchange(ec.ECDH(), self._peer_key(peer_public))
        except ValueError as error:
            raise InvalidKeyExchange(f"{self.alg.fqn}: {error}") from None

    def _private_bytes(self, private: Any) -> bytes:
        return private.private_numbers().private_value.to_bytes(self.coordinate_size, "big")


class MontgomeryGroup(KeGroup):
    """Curve25519 (31) and Curve448 (32) per RFC 7748 / RFC 8031."""

    def __init__(self, alg: KeAlgorithm) -> None:
        super().__init__(alg)
        self._private_cls: Any
        self._public_cls: Any
        if alg.family == "x25519":
            self._private_cls, self._public_cls = x25519.X25519PrivateKey, x25519.X25519PublicKey
        else:
            self._private_cls, self._public_cls = x448.X448PrivateKey, x448.X448PublicKey

    def generate(self, rand: RandomSource | None = None) -> KeyPair:
        if rand is None:
            return self._pair(self._private_cls.generate())
        return self.from_private(rand.bytes(self.public_size))

    def from_private(self, private: bytes) -> KeyPair:
        return self._pair(self._private_cls.from_private_bytes(private))

    def _pair(self, key: Any) -> KeyPair:
        return KeyPair(self, key.public_key().public_bytes_raw(), key)

    def _shared(self, private: Any, peer_public: bytes) -> bytes:
        try:
            secret = private.exchange(self._public_cls.from_public_bytes(peer_public))
        except ValueError:
            # OpenSSL refuses low-order points, whose result would be all zeros.
            secret = bytes(self.shared_size)
        if not any(secret):
            raise InvalidKeyExchange(f"{self.alg.fqn} shared secret is all zeros "
                                     "(low-order peer value, RFC 7748 §6)")
        return secret

    def _private_bytes(self, private: Any) -> bytes:
        return private.private_bytes_raw()


@functools.cache
def _make_group(group_id: int, backend: str) -> KeGroup:
    alg = by_ikev2_id(Kind.KE, group_id)
    if not isinstance(alg, KeAlgorithm) or alg.is_none:
        raise KeyError(f"unsupported key exchange group {group_id}")
    if alg.family == "modp":
        return ModpGroup(alg, backend)
    if alg.family == "ecp":
        return EcpGroup(alg)
    return MontgomeryGroup(alg)


def ke_group(group_id: int, *, modp_backend: str | None = None) -> KeGroup:
    """The group with this IANA (IKEv2 transform type 4) number; KeyError if unsupported.

    ``modp_backend`` (auto, cryptography, python) overrides the default for MODP groups.
    """
    alg = by_ikev2_id(Kind.KE, group_id)
    is_modp = alg is not None and alg.family == "modp"
    backend = resolve_modp_backend(modp_backend, group_id) if is_modp else ""
    return _make_group(group_id, backend)


def supported_groups() -> tuple[int, ...]:
    """Every group number ke_group() accepts."""
    return tuple(alg.ikev2_id for alg in KEY_EXCHANGES if alg.ikev2_id)
