"""Encryption for IKE SK payloads and ESP-style use, on top of ``cryptography``.

A :class:`Cipher` is made from an encryption descriptor of the registry and its keying
material, and encrypts or decrypts one message at a time given the wire IV:

- CBC (AES, 3DES; RFC 3602): the IV is the full block, the plaintext must already fill whole
  blocks (see :func:`ikev2_pad`);
- CTR (RFC 3686): the keying material ends with a 4-byte nonce; the counter block is
  nonce | IV (8 bytes) | 0x00000001;
- GCM (RFC 4106/5282): the keying material ends with a 4-byte salt; the nonce is salt | IV (8)
  and the ICV (8, 12 or 16 bytes) follows the ciphertext;
- ChaCha20-Poly1305 (RFC 7634): 32-byte key and 4-byte salt, nonce salt | IV (8), 16-byte ICV;
- NULL (RFC 2410): no confidentiality.

A message that cannot be decrypted raises :class:`DecryptionError`; a failed AEAD check raises
its subclass :class:`AuthenticationFailed`. No ``cryptography`` exception escapes.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher as _CipherContext
from cryptography.hazmat.primitives.ciphers import algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from pluto.crypto.registry import EncrAlgorithm, Kind, by_ikev2_id

try:  # cryptography >= 43 keeps 3DES among the "decrepit" algorithms
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # pragma: no cover - older cryptography
    TripleDES = algorithms.TripleDES  # type: ignore[attr-defined,misc]


class DecryptionError(Exception):
    """A message that cannot be decrypted (bad length, failed integrity check)."""


class AuthenticationFailed(DecryptionError):
    """The AEAD integrity check value did not verify: wrong key or modified message."""


class Cipher:
    """One encryption algorithm with its key, ready for any number of messages."""

    def __init__(self, alg: EncrAlgorithm, keymat: bytes) -> None:
        self.alg = alg
        self.key_bits = _key_bits(alg, keymat)
        split = len(keymat) - alg.salt_size
        self._key = bytes(keymat[:split])
        self._salt = bytes(keymat[split:])

    @property
    def iv_size(self) -> int:
        return self.alg.iv_size

    @property
    def icv_size(self) -> int:
        return self.alg.icv_size

    @property
    def aead(self) -> bool:
        return self.alg.aead

    def __repr__(self) -> str:
        size = f"_{self.key_bits}" if self.alg.variable_key else ""
        return f"<Cipher {self.alg.fqn}{size}>"

    def encrypt(self, iv: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        """Ciphertext (followed by the ICV for AEAD ciphers)."""
        self._check_iv(iv)
        return self._encrypt(iv, plaintext, aad)

    def decrypt(self, iv: bytes, ciphertext: bytes, aad: bytes = b"") -> bytes:
        """Plaintext; ``ciphertext`` includes the ICV for AEAD ciphers."""
        self._check_iv(iv)
        return self._decrypt(iv, ciphertext, aad)

    def _check_iv(self, iv: bytes) -> None:
        if len(iv) != self.alg.iv_size:
            raise ValueError(f"{self.alg.fqn} needs a {self.alg.iv_size}-byte IV, got {len(iv)}")

    def _encrypt(self, iv: bytes, plaintext: bytes, aad: bytes) -> bytes:
        raise NotImplementedError

    def _decrypt(self, iv: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        raise NotImplementedError


class _Cbc(Cipher):
    def _algorithm(self):
        if self.alg.fqn == "3DES_CBC":
            return TripleDES(self._key)
        return algorithms.AES(self._key)

    def _encrypt(self, iv: bytes, plaintext: bytes, aad: bytes) -> bytes:
        if len(plaintext) % self.alg.block_size:
            raise ValueError(f"{self.alg.fqn} plaintext of {len(plaintext)} bytes is not a "
                             f"multiple of {self.alg.block_size} (pad it first)")
        context = _CipherContext(self._algorithm(), modes.CBC(iv)).encryptor()
        return context.update(plaintext) + context.finalize()

    def _decrypt(self, iv: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        if not ciphertext or len(ciphertext) % self.alg.block_size:
            raise DecryptionError(f"{self.alg.fqn} ciphertext of {len(ciphertext)} bytes is not "
                                  f"a whole number of {self.alg.block_size}-byte blocks")
        context = _CipherContext(self._algorithm(), modes.CBC(iv)).decryptor()
        return context.update(ciphertext) + context.finalize()


class _Ctr(Cipher):
    def _crypt(self, iv: bytes, data: bytes) -> bytes:
        # RFC 3686 §4: the block counter starts at 1 and never wraps for IKE/ESP sizes.
        block = self._salt + iv + b"\x00\x00\x00\x01"
        context = _CipherContext(algorithms.AES(self._key), modes.CTR(block)).encryptor()
        return context.update(data) + context.finalize()

    def _encrypt(self, iv: bytes, plaintext: bytes, aad: bytes) -> bytes:
        return self._crypt(iv, plaintext)

    def _decrypt(self, iv: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        return self._crypt(iv, ciphertext)


class _Aead(Cipher):
    """GCM and ChaCha20-Poly1305: nonce = salt | IV, ICV appended to the ciphertext."""

    def __init__(self, alg: EncrAlgorithm, keymat: bytes) -> None:
        super().__init__(alg, keymat)
        if alg.mode == "chacha20-poly1305":
            self._full_tag = ChaCha20Poly1305(self._key)
        elif alg.icv_size == 16:
            self._full_tag = AESGCM(self._key)
        else:
            self._full_tag = None  # truncated GCM tags need the streaming interface

    def _encrypt(self, iv: bytes, plaintext: bytes, aad: bytes) -> bytes:
        nonce = self._salt + iv
        if self._full_tag is not None:
            return self._full_tag.encrypt(nonce, plaintext, aad)
        context = _CipherContext(algorithms.AES(self._key),
                                 modes.GCM(nonce, min_tag_length=self.icv_size)).encryptor()
        context.authenticate_additional_data(aad)
        ciphertext = context.update(plaintext) + context.finalize()
        return ciphertext + context.tag[: self.icv_size]

    def _decrypt(self, iv: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        if len(ciphertext) < self.icv_size:
            raise DecryptionError(f"{self.alg.fqn} message of {len(ciphertext)} bytes is "
                                  f"shorter than its {self.icv_size}-byte ICV")
        nonce = self._salt + iv
        try:
            if self._full_tag is not None:
                return self._full_tag.decrypt(nonce, ciphertext, aad)
            body, tag = ciphertext[: -self.icv_size], ciphertext[-self.icv_size:]
            context = _CipherContext(algorithms.AES(self._key),
                                     modes.GCM(nonce, tag, min_tag_length=self.icv_size)
                                     ).decryptor()
            context.authenticate_additional_data(aad)
            return context.update(body) + context.finalize()
        except InvalidTag:
            raise AuthenticationFailed(f"{self.alg.fqn} integrity check failed") from None


class _Null(Cipher):
    def _encrypt(self, iv: bytes, plaintext: bytes, aad: bytes) -> bytes:
        return bytes(plaintext)

    def _decrypt(self, iv: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        return bytes(ciphertext)


_MODES: dict[str, type[Cipher]] = {
    "cbc": _Cbc,
    "ctr": _Ctr,
    "gcm": _Aead,
    "chacha20-poly1305": _Aead,
    "null": _Null,
}


def _key_bits(alg: EncrAlgorithm, keymat: bytes) -> int:
    bits = (len(keymat) - alg.salt_size) * 8
    if bits not in alg.key_bits_allowed and not (bits == 0 and not alg.key_bits_allowed):
        allowed = ", ".join(str(b) for b in sorted(alg.key_bits_allowed)) or "none"
        raise ValueError(f"{alg.fqn} keying material of {len(keymat)} bytes gives a {bits}-bit "
                         f"key (allowed: {allowed}; salt {alg.salt_size} bytes)")
    return bits


def new_cipher(alg: EncrAlgorithm | int, keymat: bytes) -> Cipher:
    """A cipher for ``alg`` (a descriptor or an IKEv2 ENCR id) keyed with ``keymat``.

    ``keymat`` is what the KDF hands out for this algorithm: the key followed by the salt
    for CTR, GCM and ChaCha20-Poly1305 (see :meth:`EncrAlgorithm.keymat_size`).
    """
    if isinstance(alg, int):
        found = by_ikev2_id(Kind.ENCR, alg)
        if not isinstance(found, EncrAlgorithm):
            raise ValueError(f"unknown IKEv2 encryption transform {alg}")
        alg = found
    return _MODES[alg.mode](alg, keymat)


def ikev2_pad(plaintext: bytes, alignment: int, padding: bytes | None = None) -> bytes:
    """plaintext | padding | pad length, a multiple of ``alignment`` (RFC 7296 §3.14).

    The padding is zeros unless ``padding`` supplies the bytes (any value is allowed);
    ``alignment`` is :attr:`EncrAlgorithm.pad_alignment` (1 for CTR and the AEADs).
    """
    pad_length = (-(len(plaintext) + 1)) % max(alignment, 1)
    if padding is None:
        padding = bytes(pad_length)
    elif len(padding) != pad_length:
        raise ValueError(f"need {pad_length} padding bytes, got {len(padding)}")
    return plaintext + padding + bytes([pad_length])


def ikev2_unpad(padded: bytes) -> bytes:
    """Strip the padding and pad length byte from a decrypted SK payload."""
    if not padded:
        raise DecryptionError("decrypted payload is empty (no pad length byte)")
    pad_length = padded[-1]
    if pad_length + 1 > len(padded):
        raise DecryptionError(f"pad length {pad_length} is longer than the "
                              f"{len(padded) - 1}-byte decrypted payload")
    return padded[: len(padded) - 1 - pad_length]
