"""The Encrypted (SK) payload: protecting and unprotecting IKE messages (RFC 7296 §3.14).

The SK body is IV | ciphertext | ICV, the plaintext being the inner payloads followed by
padding (zeros here) and a pad length octet. With an integrity algorithm, the ICV is the MAC
over the whole message up to the ICV (header and lengths final). With an AEAD cipher (AES-GCM,
RFC 5282; ChaCha20-Poly1305, RFC 7634) the ICV is the cipher's tag and the associated data is
the message from the IKE header to the end of the SK payload's generic header.

"Initiator" means the original initiator of the IKE SA: it sends with SK_ei/SK_ai and receives
with SK_er/SK_ar, whoever started the exchange.
"""

from __future__ import annotations

from dataclasses import replace

from pluto.crypto.encr import AuthenticationFailed as _AeadFailed
from pluto.crypto.encr import DecryptionError, ikev2_pad, ikev2_unpad, new_cipher
from pluto.crypto.rand import RandomSource
from pluto.ikev2.keys import IkeSaKeys
from pluto.log import Logger
from pluto.packet.errors import MalformedMessage
from pluto.packet.ikev2 import (
    Message,
    Payload,
    SKPayload,
    emit_message,
    emit_payloads,
    parse_payloads,
)
from pluto.packet.ikev2_types import NotifyType


class IntegrityCheckFailed(Exception):
    """The ICV or AEAD tag did not verify (or there is none): drop the message silently."""


class _Direction:
    """The cipher and integrity key of one direction."""

    def __init__(self, keys: IkeSaKeys, encr_key: bytes, integ_key: bytes) -> None:
        chosen = keys.chosen
        if chosen.encr is None:
            raise ValueError(f"IKE SA proposal {chosen.describe()} has no cipher")
        self.cipher = new_cipher(chosen.encr, encr_key)
        self.integ = None if chosen.integ is None else chosen.integ.implementation()
        self.integ_key = integ_key
        self.icv_size = self.cipher.icv_size if self.cipher.aead else self.integ.icv_size
        self.alignment = chosen.encr.pad_alignment


class Protector:
    """Encrypts outgoing and decrypts incoming messages of one IKE SA."""

    def __init__(self, keys: IkeSaKeys, initiator: bool, logger: Logger | None = None) -> None:
        self.initiator = initiator
        self.logger = logger
        if keys.chosen.integ is None and not keys.chosen.aead:
            raise ValueError(f"{keys.chosen.describe()}: a non-AEAD cipher needs integrity")
        i_to_r = _Direction(keys, keys.sk_ei, keys.sk_ai)
        r_to_i = _Direction(keys, keys.sk_er, keys.sk_ar)
        self._out, self._in = (i_to_r, r_to_i) if initiator else (r_to_i, i_to_r)

    def protect(self, msg: Message, inner: list[Payload], rand: RandomSource) -> bytes:
        """The whole datagram: ``msg``'s header (and any clear payloads) then the SK payload.

        ``msg`` itself is not changed.
        """
        out = self._out
        first_type, plaintext = emit_payloads(inner, self.logger)
        padded = ikev2_pad(plaintext, out.alignment)
        iv = rand.bytes(out.cipher.iv_size)
        body_size = len(iv) + len(padded) + out.icv_size
        # Emit with a placeholder body: the header and SK lengths are then the final ones.
        placeholder = SKPayload(inner_type=first_type, body=bytes(body_size))
        frame = emit_message(replace(msg, payloads=[*msg.payloads, placeholder]))
        head = frame[: len(frame) - body_size]  # IKE header .. SK generic header
        if out.cipher.aead:
            return head + iv + out.cipher.encrypt(iv, padded, head)
        unsigned = head + iv + out.cipher.encrypt(iv, padded)
        assert out.integ is not None
        return unsigned + out.integ.mac(out.integ_key, unsigned)

    def unprotect(self, data: bytes, msg: Message) -> list[Payload]:
        """The inner payloads of ``data`` (whose parsed form is ``msg``).

        Raises IntegrityCheckFailed when the ICV/tag does not verify, MalformedMessage
        (INVALID_SYNTAX) when an authentic message decrypts to nonsense.
        """
        sk = msg.encrypted
        if not isinstance(sk, SKPayload):
            raise MalformedMessage("message has no SK payload", NotifyType.INVALID_SYNTAX)
        cipher, icv_size = self._in.cipher, self._in.icv_size
        body = sk.body
        if len(body) < cipher.iv_size + icv_size + 1 or not data.endswith(body):
            raise IntegrityCheckFailed(f"SK payload of {len(body)} bytes is too short for "
                                       f"IV, pad length and ICV")
        head = data[: len(data) - len(body)]
        iv = body[: cipher.iv_size]
        if cipher.aead:
            try:
                padded = cipher.decrypt(iv, body[cipher.iv_size:], head)
            except _AeadFailed:
                raise IntegrityCheckFailed(f"{cipher.alg.fqn} tag does not verify") from None
            except DecryptionError as error:
                raise IntegrityCheckFailed(str(error)) from None
        else:
            integ = self._in.integ
            assert integ is not None
            if not integ.verify(self._in.integ_key, data[:-icv_size], data[-icv_size:]):
                raise IntegrityCheckFailed(f"{integ.name} ICV does not verify")
            try:
                padded = cipher.decrypt(iv, body[cipher.iv_size:-icv_size])
            except DecryptionError as error:
                raise MalformedMessage(f"authentic SK payload: {error}",
                                       NotifyType.INVALID_SYNTAX) from None
        try:
            plaintext = ikev2_unpad(padded)
        except DecryptionError as error:
            raise MalformedMessage(f"decrypted SK payload: {error}",
                                   NotifyType.INVALID_SYNTAX) from None
        return parse_payloads(plaintext, sk.inner_type, self.logger)
