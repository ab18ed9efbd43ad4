"""The SK payload: round trips, tampering, wrong keys, and protected messages opened with
``cryptography`` and ``hmac`` directly (RFC 7296 §3.14, RFC 5282, RFC 7634)."""

from __future__ import annotations

import hashlib
import hmac
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from pluto.crypto.proposals import parse_ike
from pluto.crypto.rand import RandomSource
from pluto.ikev2.keys import derive_ike_sa_keys
from pluto.ikev2.negotiation import choose, proposals_to_sa
from pluto.ikev2.protection import IntegrityCheckFailed, Protector
from pluto.packet.errors import MalformedMessage
from pluto.packet.ikev2 import (
    DeletePayload,
    IDiPayload,
    Message,
    NoncePayload,
    NotifyPayload,
    parse_message,
)

ISPI, RSPI = bytes.fromhex("0102030405060708"), bytes.fromhex("a1a2a3a4a5a6a7a8")
IKE_AUTH, INFORMATIONAL = 35, 37
FLAG_I, FLAG_R = 0x08, 0x20

SUITES = ["aes256-sha2_256;dh19", "aes128-sha1;dh19", "aes_gcm256-sha2_512;dh19",
          "aes_gcm_8_128-sha2;dh19", "chacha20_poly1305-sha2;dh31", "aes_ctr192-sha2_384;dh19"]


def keys_for(suite: str):
    ours = parse_ike(suite)
    chosen = choose(ours, proposals_to_sa(ours))
    return derive_ike_sa_keys(chosen, b"\x11" * 32, b"\x22" * 32, b"\x33" * 32, ISPI, RSPI)


def request(message_id: int = 1) -> Message:
    return Message(ISPI, RSPI, IKE_AUTH, FLAG_I, message_id)


INNER = [IDiPayload(id_type=2, data=b"west.example"), NoncePayload(data=bytes(range(33))),
         NotifyPayload(16384)]


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("sender_is_initiator", [True, False])
def test_round_trip(suite, sender_is_initiator):
    keys = keys_for(suite)
    sender, receiver = Protector(keys, sender_is_initiator), Protector(keys, not sender_is_initiator)
    flags = FLAG_I if sender_is_initiator else FLAG_R
    msg = Message(ISPI, RSPI, IKE_AUTH, flags, 7)
    data = sender.protect(msg, INNER, RandomSource(suite))
    assert msg.payloads == []  # not changed
    parsed = parse_message(data)
    assert (parsed.ispi, parsed.rspi, parsed.exchange, parsed.flags, parsed.message_id) == \
        (ISPI, RSPI, IKE_AUTH, flags, 7)
    assert receiver.unprotect(data, parsed) == INNER


@pytest.mark.parametrize("suite", SUITES)
def test_empty_informational(suite):
    keys = keys_for(suite)
    msg = Message(ISPI, RSPI, INFORMATIONAL, FLAG_R | FLAG_I, 3)
    data = Protector(keys, True).protect(msg, [], RandomSource(1))
    assert Protector(keys, False).unprotect(data, parse_message(data)) == []


@pytest.mark.parametrize("suite", SUITES)
def test_every_flipped_bit_is_detected(suite):
    keys = keys_for(suite)
    data = Protector(keys, True).protect(request(), [DeletePayload(protocol=1)], RandomSource(2))
    receiver = Protector(keys, False)
    for position in range(len(data)):
        for bit in (0x01, 0x80):
            bad = bytearray(data)
            bad[position] ^= bit
            try:
                msg = parse_message(bytes(bad))
            except MalformedMessage:
                continue  # a header or SK length that no longer parses never gets this far
            with pytest.raises(IntegrityCheckFailed):
                receiver.unprotect(bytes(bad), msg)


@pytest.mark.parametrize("suite", SUITES)
def test_wrong_direction_and_wrong_keys_fail(suite):
    keys = keys_for(suite)
    initiator = Protector(keys, True)
    data = initiator.protect(request(), INNER, RandomSource(3))
    with pytest.raises(IntegrityCheckFailed):
        initiator.unprotect(data, parse_message(data))  # its own message: the other keys
    other = derive_ike_sa_keys(keys.chosen, b"\x11" * 32, b"\x22" * 32, b"\x34" * 32, ISPI,
                               RSPI)
    with pytest.raises(IntegrityCheckFailed):
        Protector(other, False).unprotect(data, parse_message(data))


@pytest.mark.parametrize("suite", SUITES)
def test_truncated_sk_body_fails(suite):
    keys = keys_for(suite)
    data = Protector(keys, True).protect(request(), [], RandomSource(4))
    for cut in range(1, len(data) - 32 + 1):  # down to an empty SK body
        short = bytearray(data[:-cut])
        struct.pack_into("!I", short, 24, len(short))  # keep the header consistent
        struct.pack_into("!H", short, 30, len(short) - 28)  # and the SK length
        msg = parse_message(bytes(short))
        with pytest.raises(IntegrityCheckFailed):
            Protector(keys, False).unprotect(bytes(short), msg)


def _hand_built_inner() -> bytes:
    """A Nonce payload (next payload none) and nothing else, written out byte by byte."""
    return struct.pack("!BBH", 0, 0, 4 + 16) + bytes(range(16))


def test_aes_cbc_hmac_independently():
    keys = keys_for("aes256-sha2_256;dh19")
    data = Protector(keys, True).protect(request(), [NoncePayload(data=bytes(range(16)))],
                                         RandomSource(5))
    # Header: total length; SK generic header: next payload Nonce (40), length.
    assert struct.unpack("!I", data[24:28])[0] == len(data)
    assert data[16] == 46 and data[28] == 40
    assert struct.unpack("!H", data[30:32])[0] == len(data) - 28
    body, icv = data[32:-16], data[-16:]
    assert icv == hmac.new(keys.sk_ai, data[:-16], hashlib.sha256).digest()[:16]
    iv, ciphertext = body[:16], body[16:]
    decryptor = Cipher(algorithms.AES(keys.sk_ei), modes.CBC(iv)).decryptor()
    plain = decryptor.update(ciphertext) + decryptor.finalize()
    inner = _hand_built_inner()
    pad_length = plain[-1]
    assert len(plain) % 16 == 0 and pad_length == 16 - (len(inner) + 1) % 16
    assert plain == inner + bytes(pad_length) + bytes([pad_length])  # zero padding


def test_aes_gcm_independently():
    keys = keys_for("aes_gcm256-sha2_512;dh19")
    data = Protector(keys, False).protect(Message(ISPI, RSPI, IKE_AUTH, FLAG_R, 1),
                                          [NoncePayload(data=bytes(range(16)))], RandomSource(6))
    aad, iv, sealed = data[:32], data[32:40], data[40:]
    key, salt = keys.sk_er[:32], keys.sk_er[32:]
    plain = AESGCM(key).decrypt(salt + iv, sealed, aad)
    assert plain == _hand_built_inner() + b"\x00"  # no padding needed: pad length 0


def test_chacha20_poly1305_independently():
    keys = keys_for("chacha20_poly1305-sha2;dh31")
    data = Protector(keys, True).protect(request(), [NoncePayload(data=bytes(range(16)))],
                                         RandomSource(7))
    aad, iv, sealed = data[:32], data[32:40], data[40:]
    plain = ChaCha20Poly1305(keys.sk_ei[:32]).decrypt(keys.sk_ei[32:] + iv, sealed, aad)
    assert plain == _hand_built_inner() + b"\x00"


def test_iv_comes_from_the_random_source():
    keys = keys_for("aes256-sha2_256;dh19")
    first = Protector(keys, True).protect(request(), INNER, RandomSource("iv"))
    again = Protector(keys, True).protect(request(), INNER, RandomSource("iv"))
    assert first == again
    assert first[32:48] == RandomSource("iv").bytes(16)


def test_authentic_nonsense_is_malformed():
    """A message with a correct ICV whose padding is impossible: INVALID_SYNTAX."""
    keys = keys_for("aes256-sha2_256;dh19")
    head = bytearray(ISPI + RSPI + bytes([46, 0x20, IKE_AUTH, FLAG_I]) + struct.pack("!II", 1, 0))
    iv = bytes(16)
    plain = bytes(15) + b"\xff"  # pad length 255 in a 16-byte plaintext
    encryptor = Cipher(algorithms.AES(keys.sk_ei), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(plain) + encryptor.finalize()
    sk = struct.pack("!BBH", 40, 0, 4 + 16 + 16 + 16) + iv + ciphertext
    message = head + sk
    struct.pack_into("!I", message, 24, len(message) + 16)
    data = bytes(message) + hmac.new(keys.sk_ai, bytes(message), hashlib.sha256).digest()[:16]
    with pytest.raises(MalformedMessage) as info:
        Protector(keys, False).unprotect(data, parse_message(data))
    assert info.value.notify == 7


def test_message_without_sk_payload():
    keys = keys_for("aes256-sha2_256;dh19")
    plain = Message(ISPI, RSPI, IKE_AUTH, FLAG_I, 1, [NoncePayload(data=b"x" * 16)])
    from pluto.packet.ikev2 import emit_message

    data = emit_message(plain)
    with pytest.raises(MalformedMessage):
        Protector(keys, False).unprotect(data, parse_message(data))
