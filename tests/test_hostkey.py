"""Host key forms (RFC 3110 0s/0x, PEM), the secrets record and the newhostkey/showhostkey
helper."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pluto.connections.secrets import Secrets
from pluto.crypto import hostkey
from pluto.crypto.hostkey import HostKeyError, parse_public_key


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_numbers(public) -> tuple[int, int]:
    numbers = public.public_numbers()
    return numbers.e, numbers.n


def test_rsasigkey_is_the_rfc3110_layout(key):
    # RFC 3110 §2: exponent length octet, exponent, modulus; built here by hand.
    n = key.public_key().public_numbers().n
    blob = b"\x03" + b"\x01\x00\x01" + n.to_bytes(256, "big")
    text = hostkey.format_rsasigkey(key)
    assert text == "0s" + base64.b64encode(blob).decode()
    assert text.startswith("0sAwEAA")  # how every e=65537 key in the manual begins
    assert _public_numbers(parse_public_key(text)) == (65537, n)
    assert _public_numbers(parse_public_key("0x" + blob.hex())) == (65537, n)
    # Line breaks and spaces inside the digits are tolerated (continued config lines).
    assert _public_numbers(parse_public_key(text[:40] + "\n  " + text[40:])) == (65537, n)


def test_long_exponent_uses_the_three_octet_length_form():
    exponent = (1 << 2047) + 1  # 256 octets
    modulus = (1 << 4095) + 0x1235  # odd, larger than the exponent
    blob = b"\x00\x01\x00" + exponent.to_bytes(256, "big") + modulus.to_bytes(512, "big")
    public = hostkey.rfc3110_decode(blob)
    assert _public_numbers(public) == (exponent, modulus)
    assert hostkey.rfc3110_encode(public) == blob


def test_pem_public_keys_of_each_kind(key):
    pem = hostkey.format_pem(key)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert _public_numbers(parse_public_key(pem)) == _public_numbers(key.public_key())
    ec_key = ec.generate_private_key(ec.SECP384R1())
    ec_pem = ec_key.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
    assert parse_public_key(ec_pem.decode()).public_numbers() == \
        ec_key.public_key().public_numbers()


@pytest.mark.parametrize("text,reason", [
    ("0sAwEAAQ", "no modulus"),
    ("0s", "empty"),
    ("0s!!!", "bad base64"),
    ("0xzz", "bad hex"),
    ("0x0301000100ff", "at least 1024"),
    ("AwEAAQ==", "0s base64, 0x hex"),
    ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a public key"),
])
def test_bad_public_keys_say_why(text, reason):
    with pytest.raises(HostKeyError, match=reason):
        parse_public_key(text)


def test_secrets_record_reads_back_with_the_same_key(key):
    text = hostkey.format_secrets_entry(key, "@east")
    secrets = Secrets.from_text(text)
    [entry] = secrets.rsa_keys
    assert str(entry.ids[0]) == "@east"
    assert entry.key.private_numbers() == key.private_numbers()
    assert f"#pubkey={hostkey.format_rsasigkey(key)}" in text


def test_ckaid_is_sha1_of_the_modulus(key):
    n = key.public_key().public_numbers().n
    assert hostkey.ckaid(key) == hashlib.sha1(n.to_bytes(256, "big")).hexdigest()
    assert hostkey.ckaid(key.public_key()) == hostkey.ckaid(key)


def test_new_then_show(tmp_path, capsys, monkeypatch):
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    monkeypatch.setattr(hostkey, "generate_rsa", lambda bits: small)
    secrets = tmp_path / "ipsec.secrets"
    assert hostkey.main(["new", "--bits", "1024", "--output", str(secrets)]) == 0
    assert os.stat(secrets).st_mode & 0o777 == 0o600
    capsys.readouterr()
    assert hostkey.main(["show", "--secrets", str(secrets), "--left"]) == 0
    out = capsys.readouterr().out
    assert f"\tleftrsasigkey={hostkey.format_rsasigkey(small)}" in out
    assert hostkey.main(["show", "--secrets", str(secrets), "--pem"]) == 0
    pem = capsys.readouterr().out
    assert _public_numbers(parse_public_key(pem)) == _public_numbers(small.public_key())
    assert hostkey.main(["show", "--secrets", str(secrets), "--ckaid", "00"]) == 1
    assert "no RSA key with that ckaid" in capsys.readouterr().err


def test_generate_refuses_small_keys():
    with pytest.raises(HostKeyError, match="--bits"):
        hostkey.generate_rsa(512)
