"""Encryption: every vector of shared/vectors/encr.json, round trips, tampering, layouts."""

import json

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from vector_files import VECTORS as SHARED_VECTORS

from pluto.crypto import encr
from pluto.crypto.encr import AuthenticationFailed, DecryptionError, ikev2_pad, ikev2_unpad
from pluto.crypto.rand import RandomSource
from pluto.crypto.registry import ENCRYPTION, Kind, by_name

VECTORS = SHARED_VECTORS / "encr.json"
ALGORITHMS = {"aes-cbc": "AES_CBC", "aes-ctr": "AES_CTR", "aes-gcm-16": "AES_GCM_16",
              "chacha20-poly1305": "CHACHA20_POLY1305"}


def _vectors():
    return json.loads(VECTORS.read_text())["vectors"]


def _cipher_for(vector):
    alg = by_name(Kind.ENCR, ALGORITHMS[vector["alg"]])
    # CTR's 4-byte nonce and the AEAD salt are the last bytes of the keying material.
    salt = vector.get("salt", vector.get("nonce", ""))
    return encr.new_cipher(alg, bytes.fromhex(vector["key"] + salt))


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: v["name"])
def test_shared_vectors(vector):
    cipher = _cipher_for(vector)
    iv = bytes.fromhex(vector["iv"])
    aad = bytes.fromhex(vector.get("aad", ""))
    plaintext = bytes.fromhex(vector["plaintext"])
    expected = bytes.fromhex(vector["ciphertext"] + vector.get("icv", ""))
    assert cipher.encrypt(iv, plaintext, aad) == expected
    assert cipher.decrypt(iv, expected, aad) == plaintext


def test_every_vector_kind_is_covered():
    kinds = {v["alg"] for v in _vectors()}
    assert kinds == set(ALGORITHMS)


def test_ctr_counter_block_layout():
    vector = next(v for v in _vectors() if v["alg"] == "aes-ctr")
    assert vector["initial_counter_block"] == vector["nonce"] + vector["iv"] + "00000001"


def _ciphers():
    for alg in ENCRYPTION:
        for bits in alg.key_bits_allowed or (0,):
            yield pytest.param(alg, bits, id=f"{alg.fqn}_{bits}")


@pytest.mark.parametrize("alg,bits", list(_ciphers()))
def test_round_trip_every_cipher_and_key_length(alg, bits):
    rand = RandomSource(f"{alg.fqn}-{bits}")
    cipher = encr.new_cipher(alg, rand.bytes(alg.keymat_size(bits)))
    assert cipher.key_bits == bits
    for size in (0, 1, 15, 16, 17, 100):
        message = rand.bytes(size)
        if alg.pad_to_block:
            message = ikev2_pad(message, alg.pad_alignment)
        iv = rand.bytes(alg.iv_size)
        aad = rand.bytes(12)
        sealed = cipher.encrypt(iv, message, aad)
        assert len(sealed) == len(message) + alg.icv_size
        if alg.mode != "null" and message:
            assert sealed[: len(message)] != message
        assert cipher.decrypt(iv, sealed, aad) == message


def _manual_cbc(algorithm, iv, plaintext, block):
    """CBC built from the raw block cipher (ECB): C_i = E(P_i xor C_i-1)."""
    ecb = Cipher(algorithm, modes.ECB()).encryptor()
    previous, out = iv, b""
    for start in range(0, len(plaintext), block):
        chunk = bytes(a ^ b for a, b in zip(plaintext[start:start + block], previous,
                                            strict=True))
        previous = ecb.update(chunk)
        out += previous
    return out


@pytest.mark.parametrize("name,bits", [("3des", 192), ("aes", 128), ("aes", 256)])
def test_cbc_chains_like_the_raw_block_cipher(name, bits):
    alg = by_name(Kind.ENCR, name)
    rand = RandomSource(name)
    key = rand.bytes(bits // 8)
    iv = rand.bytes(alg.iv_size)
    plaintext = rand.bytes(alg.block_size * 5)
    block_cipher = encr.TripleDES(key) if name == "3des" else algorithms.AES(key)
    expected = _manual_cbc(block_cipher, iv, plaintext, alg.block_size)
    assert encr.new_cipher(alg, key).encrypt(iv, plaintext) == expected


def test_ctr_is_the_keystream_of_counter_blocks():
    rand = RandomSource("ctr")
    key, nonce, iv = rand.bytes(16), rand.bytes(4), rand.bytes(8)
    plaintext = rand.bytes(40)
    ecb = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    stream = b"".join(ecb.update(nonce + iv + n.to_bytes(4, "big")) for n in (1, 2, 3))
    expected = bytes(p ^ s for p, s in zip(plaintext, stream, strict=False))
    cipher = encr.new_cipher(by_name(Kind.ENCR, "aes_ctr"), key + nonce)
    assert cipher.encrypt(iv, plaintext) == expected


@pytest.mark.parametrize("icv", [8, 12])
def test_truncated_gcm_tags_are_prefixes_of_the_full_tag(icv):
    rand = RandomSource(f"gcm{icv}")
    key, salt, iv = rand.bytes(32), rand.bytes(4), rand.bytes(8)
    plaintext, aad = rand.bytes(50), rand.bytes(8)
    full = AESGCM(key).encrypt(salt + iv, plaintext, aad)
    cipher = encr.new_cipher(by_name(Kind.ENCR, f"aes_gcm_{icv}"), key + salt)
    sealed = cipher.encrypt(iv, plaintext, aad)
    assert sealed == full[: len(plaintext) + icv]
    assert cipher.decrypt(iv, sealed, aad) == plaintext


AEADS = [a for a in ENCRYPTION if a.aead]


@pytest.mark.parametrize("alg", AEADS, ids=lambda a: a.fqn)
def test_tampering_is_an_authentication_failure(alg):
    rand = RandomSource(alg.fqn)
    cipher = encr.new_cipher(alg, rand.bytes(alg.keymat_size()))
    iv, aad, plaintext = rand.bytes(8), rand.bytes(16), rand.bytes(33)
    sealed = cipher.encrypt(iv, plaintext, aad)
    for position in (0, len(plaintext), len(sealed) - 1):  # ciphertext, ICV start, ICV end
        tampered = bytearray(sealed)
        tampered[position] ^= 0x01
        with pytest.raises(AuthenticationFailed):
            cipher.decrypt(iv, bytes(tampered), aad)
    with pytest.raises(AuthenticationFailed):
        cipher.decrypt(iv, sealed, aad + b"x")
    with pytest.raises(AuthenticationFailed):
        cipher.decrypt(bytes(8), sealed, aad)
    other = encr.new_cipher(alg, rand.bytes(alg.keymat_size()))
    with pytest.raises(AuthenticationFailed):
        other.decrypt(iv, sealed, aad)
    with pytest.raises(DecryptionError):
        cipher.decrypt(iv, sealed[: alg.icv_size - 1], aad)


def test_authentication_failure_is_our_exception_only():
    assert issubclass(AuthenticationFailed, DecryptionError)
    assert AuthenticationFailed.__module__ == "pluto.crypto.encr"
    assert not issubclass(DecryptionError, ValueError)


def test_cbc_rejects_partial_blocks():
    alg = by_name(Kind.ENCR, "aes")
    cipher = encr.new_cipher(alg, bytes(16))
    with pytest.raises(DecryptionError):
        cipher.decrypt(bytes(16), bytes(15))
    with pytest.raises(DecryptionError):
        cipher.decrypt(bytes(16), b"")
    with pytest.raises(ValueError):
        cipher.encrypt(bytes(16), bytes(15))
    with pytest.raises(ValueError):
        cipher.encrypt(bytes(8), bytes(16))  # IV of the wrong size


@pytest.mark.parametrize("name,size", [("aes", 15), ("aes", 20), ("aes_gcm", 16),
                                        ("chacha20_poly1305", 32), ("3des", 16)])
def test_keying_material_of_the_wrong_size_is_refused(name, size):
    with pytest.raises(ValueError):
        encr.new_cipher(by_name(Kind.ENCR, name), bytes(size))


def test_new_cipher_by_ikev2_number():
    assert encr.new_cipher(20, bytes(20)).alg.fqn == "AES_GCM_16"
    assert repr(encr.new_cipher(12, bytes(32))) == "<Cipher AES_CBC_256>"
    with pytest.raises(ValueError):
        encr.new_cipher(99, bytes(16))


def test_null_encryption_is_the_identity():
    cipher = encr.new_cipher(by_name(Kind.ENCR, "null"), b"")
    assert cipher.encrypt(b"", b"clear") == b"clear"
    assert cipher.decrypt(b"", b"clear") == b"clear"


@pytest.mark.parametrize("length,alignment,pad", [(0, 16, 15), (15, 16, 0), (16, 16, 15),
                                                   (7, 8, 0), (30, 16, 1), (5, 1, 0)])
def test_ikev2_padding(length, alignment, pad):
    padded = ikev2_pad(b"x" * length, alignment)
    assert len(padded) == length + pad + 1
    assert len(padded) % alignment == 0
    assert padded[-1] == pad
    assert ikev2_unpad(padded) == b"x" * length


def test_ikev2_padding_with_chosen_bytes_and_bad_input():
    assert ikev2_pad(b"ab", 4, padding=b"\x07") == b"ab\x07\x01"
    with pytest.raises(ValueError):
        ikev2_pad(b"ab", 4, padding=b"")
    with pytest.raises(DecryptionError):
        ikev2_unpad(b"")
    with pytest.raises(DecryptionError):
        ikev2_unpad(b"\x00\x05")  # pad length longer than what precedes it
    assert ikev2_unpad(b"\x00") == b""
