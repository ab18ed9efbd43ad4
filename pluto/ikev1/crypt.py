"""IKEv1 message protection and authentication hashes (RFC 2409 §5, §5.5, App. B).

After the key exchange every message body is encrypted in CBC mode with a key from SKEYID_e.
The IV chain: the first encrypted Main Mode message uses hash(g^xi | g^xr); each later
message of the same exchange uses the last ciphertext block of the message before it (in
either direction). Each Quick Mode or Informational exchange starts its own chain from
hash(last phase 1 block | M-ID). Plaintext is padded with zeros to the block size (RFC 2408
§3.1 leaves the padding's contents open; the payload lengths say where it starts).

    HASH_I  = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
    HASH_R  = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
    HASH(1) = prf(SKEYID_a, M-ID | payloads after HASH)
    HASH(2) = prf(SKEYID_a, M-ID | Ni_b | payloads after HASH)
    HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)
    Informational: prf(SKEYID_a, M-ID | payloads after HASH)
"""

from __future__ import annotations

import struct

from pluto.crypto.encr import DecryptionError, new_cipher
from pluto.crypto.kdf_ikev1 import Ikev1Keys, encryption_key, phase1_iv, phase2_iv
from pluto.ikev1.sa import Phase1Chosen
from pluto.packet.errors import MalformedMessage
from pluto.packet.ikev1_types import NotifyType

_MID = struct.Struct("!I")


class UndecryptableMessage(Exception):
    """The body is not a whole number of cipher blocks (or the cipher refuses it)."""


class Phase1Crypto:
    """The ISAKMP SA's cipher, PRF and IV chains (phase 1, then one per message ID)."""

    def __init__(self, chosen: Phase1Chosen, keys: Ikev1Keys, g_xi: bytes, g_xr: bytes) -> None:
        self.prf = chosen.prf.implementation()
        self.keys = keys
        self.block = chosen.encr.block_size
        key = encryption_key(self.prf, keys.skeyid_e, chosen.encr.keymat_size(
            chosen.encr_key_bits))
        self.cipher = new_cipher(chosen.encr, key)
        self._ivs: dict[int, bytes] = {0: phase1_iv(self.prf.hash, g_xi, g_xr, self.block)}
        self.phase1_last_block: bytes | None = None

    def iv(self, message_id: int) -> bytes:
        """The IV the next message of exchange ``message_id`` is (or was) encrypted with."""
        iv = self._ivs.get(message_id)
        if iv is None:
            if self.phase1_last_block is None:
                raise ValueError("phase 2 IV asked for before phase 1 finished")
            iv = phase2_iv(self.prf.hash, self.phase1_last_block, message_id, self.block)
            self._ivs[message_id] = iv
        return iv

    def phase1_done(self) -> None:
        """Main Mode is over: its last ciphertext block seeds every phase 2 IV."""
        self.phase1_last_block = self._ivs[0]

    def encrypt(self, message_id: int, plaintext: bytes) -> bytes:
        padded = plaintext + bytes(-len(plaintext) % self.block)
        ciphertext = self.cipher.encrypt(self.iv(message_id), padded)
        self._ivs[message_id] = ciphertext[-self.block:]
        return ciphertext

    def decrypt(self, message_id: int, ciphertext: bytes) -> bytes:
        """Plaintext (with padding). The chain moves on only with :meth:`accept`, once the
        message has proved itself: a forged one must not derail the real exchange."""
        if not ciphertext or len(ciphertext) % self.block:
            raise UndecryptableMessage(f"{len(ciphertext)} bytes of ciphertext is not a whole "
                                       f"number of {self.block}-byte blocks")
        try:
            return self.cipher.decrypt(self.iv(message_id), ciphertext)
        except DecryptionError as err:
            raise UndecryptableMessage(str(err)) from None

    def accept(self, message_id: int, ciphertext: bytes) -> None:
        self._ivs[message_id] = ciphertext[-self.block:]

    def forget(self, message_id: int) -> None:
        if message_id:
            self._ivs.pop(message_id, None)

    # --- hashes ----------------------------------------------------------------------------

    def hash_i(self, g_xi: bytes, g_xr: bytes, cky_i: bytes, cky_r: bytes, sa_i_b: bytes,
               id_ii_b: bytes) -> bytes:
        return self.prf(self.keys.skeyid, g_xi + g_xr + cky_i + cky_r + sa_i_b + id_ii_b)

    def hash_r(self, g_xi: bytes, g_xr: bytes, cky_i: bytes, cky_r: bytes, sa_i_b: bytes,
               id_ir_b: bytes) -> bytes:
        return self.prf(self.keys.skeyid, g_xr + g_xi + cky_r + cky_i + sa_i_b + id_ir_b)

    def hash_1(self, message_id: int, rest: bytes) -> bytes:
        return self.prf(self.keys.skeyid_a, _MID.pack(message_id) + rest)

    def hash_2(self, message_id: int, ni_b: bytes, rest: bytes) -> bytes:
        return self.prf(self.keys.skeyid_a, _MID.pack(message_id) + ni_b + rest)

    def hash_3(self, message_id: int, ni_b: bytes, nr_b: bytes) -> bytes:
        return self.prf(self.keys.skeyid_a, b"\x00" + _MID.pack(message_id) + ni_b + nr_b)

    informational_hash = hash_1

    @property
    def hash_size(self) -> int:
        return len(self.prf(b"k", b""))


def after_first_payload(plaintext: bytes, padding: bytes) -> bytes:
    """The payload chain after the first payload (the HASH), without the padding: what
    HASH(1), HASH(2) and the Informational HASH cover, exactly as received."""
    if len(plaintext) < 4:
        raise MalformedMessage("no room for a HASH payload", NotifyType.PAYLOAD_MALFORMED)
    first_length = int.from_bytes(plaintext[2:4], "big")
    end = len(plaintext) - len(padding)
    return plaintext[first_length:end]
