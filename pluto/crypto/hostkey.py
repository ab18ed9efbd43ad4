"""Host keys in the forms the manual uses, and a helper in the spirit of ``ipsec newhostkey``
and ``ipsec showhostkey``.

Public keys (``leftrsasigkey=``, ``whack --pubkeyrsa``) are written as

- ``0s`` + base64 or ``0x`` + hex of the RFC 3110 §2 layout: the exponent's length (one octet,
  or a zero octet and two octets for exponents longer than 255 octets), the exponent, then the
  modulus;
- PEM (``-----BEGIN PUBLIC KEY-----``, a SubjectPublicKeyInfo): RSA, ECDSA or Ed25519.

Private keys go to ipsec.secrets in the old ``: RSA { Modulus: 0x... }`` form that
:mod:`pluto.connections.secrets` reads. The CKAID shown is SHA-1 of the modulus, NSS's
identifier for an RSA key, so that keys can be told apart at a glance.

    python -m pluto.crypto.hostkey new [--bits 3072] [--output FILE]
    python -m pluto.crypto.hostkey show [--secrets FILE] [--ckaid HEX] [--left|--right|--pem]
"""

from __future__ import annotations

import argparse
import base64
import binascii
import functools
import hashlib
import os
import sys
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

MIN_RSA_BITS = 1024  # refuse toy keys; libreswan's newhostkey makes 3072 by default
DEFAULT_RSA_BITS = 3072


class HostKeyError(ValueError):
    """A key that cannot be read; the message says what is wrong (never the key itself)."""


# --- RFC 3110 ------------------------------------------------------------------------------

def _int_bytes(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def rfc3110_encode(key: rsa.RSAPublicKey | rsa.RSAPrivateKey) -> bytes:
    """The RFC 3110 public key blob of an RSA key."""
    numbers = _public(key).public_numbers()
    exponent = _int_bytes(numbers.e)
    if len(exponent) <= 255:
        prefix = bytes([len(exponent)])
    else:
        prefix = b"\x00" + len(exponent).to_bytes(2, "big")
    return prefix + exponent + _int_bytes(numbers.n)


def rfc3110_decode(blob: bytes) -> rsa.RSAPublicKey:
    if not blob:
        raise HostKeyError("the RSA key is empty")
    length, offset = blob[0], 1
    if length == 0:
        if len(blob) < 3:
            raise HostKeyError("the RSA key ends inside the exponent length")
        length, offset = int.from_bytes(blob[1:3], "big"), 3
    if length == 0 or len(blob) <= offset + length:
        raise HostKeyError("the RSA key has no modulus after its exponent")
    exponent = int.from_bytes(blob[offset:offset + length], "big")
    modulus = int.from_bytes(blob[offset + length:], "big")
    if modulus.bit_length() < MIN_RSA_BITS:
        raise HostKeyError(f"the RSA modulus has {modulus.bit_length()} bits; at least "
                           f"{MIN_RSA_BITS} are needed")
    try:
        return rsa.RSAPublicNumbers(exponent, modulus).public_key()
    except ValueError as err:
        raise HostKeyError(f"not a valid RSA public key ({err})") from None


def _public(key: Any) -> Any:
    return key.public_key() if hasattr(key, "private_numbers") or hasattr(
        key, "private_bytes") else key


# --- text forms ----------------------------------------------------------------------------

def format_rsasigkey(key: rsa.RSAPublicKey | rsa.RSAPrivateKey) -> str:
    """``0s...``: the value of ``leftrsasigkey=`` and ``whack --pubkeyrsa``."""
    return "0s" + base64.b64encode(rfc3110_encode(key)).decode("ascii")


def format_pem(key: Any) -> str:
    return _public(key).public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@functools.lru_cache(maxsize=256)
def parse_public_key(text: str) -> Any:
    """A public key from ``0s`` base64 or ``0x`` hex (RFC 3110 RSA) or PEM; HostKeyError."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise HostKeyError("the PEM text is not a public key") from None
        if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey
                          | ed25519.Ed25519PublicKey):
            raise HostKeyError("the PEM public key is not RSA, ECDSA or Ed25519")
        if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
            raise HostKeyError(f"the RSA modulus has {key.key_size} bits; at least "
                               f"{MIN_RSA_BITS} are needed")
        return key
    prefix, digits = text[:2].lower(), "".join(text[2:].split())
    try:
        if prefix == "0s":
            # Keys copied from DNS records often lack their "=" padding.
            padded = digits + "=" * (-len(digits) % 4)
            return rfc3110_decode(base64.b64decode(padded, validate=True))
        if prefix == "0x":
            return rfc3110_decode(bytes.fromhex(digits.replace("_", "")))
    except (binascii.Error, ValueError) as err:
        if isinstance(err, HostKeyError):
            raise
        raise HostKeyError(f"bad {'base64' if prefix == '0s' else 'hex'} digits after "
                           f"{prefix}") from None
    raise HostKeyError("a public key is 0s base64, 0x hex (RFC 3110) or PEM")


def ckaid(key: Any) -> str:
    """NSS's CKA_ID of an RSA key: SHA-1 of the modulus, in hex."""
    modulus = _public(key).public_numbers().n
    return hashlib.sha1(_int_bytes(modulus)).hexdigest()


def format_secrets_entry(key: rsa.RSAPrivateKey, ids: str = "") -> str:
    """An ipsec.secrets record holding ``key`` (with its public forms as comments)."""
    numbers = key.private_numbers()
    public = numbers.public_numbers
    fields = (("Modulus", public.n), ("PublicExponent", public.e),
              ("PrivateExponent", numbers.d), ("Prime1", numbers.p), ("Prime2", numbers.q),
              ("Exponent1", numbers.dmp1), ("Exponent2", numbers.dmq1),
              ("Coefficient", numbers.iqmp))
    lines = [f"{ids + ' ' if ids else ''}: RSA {{",
             f"\t# RSA {key.key_size} bits",
             f"\t#ckaid={ckaid(key)}",
             f"\t#pubkey={format_rsasigkey(key)}"]
    lines += [f"\t{name}: 0x{value:x}" for name, value in fields]
    lines.append("\t}")
    return "\n".join(lines) + "\n"


def generate_rsa(bits: int = DEFAULT_RSA_BITS) -> rsa.RSAPrivateKey:
    if bits < MIN_RSA_BITS or bits % 8:
        raise HostKeyError(f"--bits: {bits} is not a multiple of 8 of at least {MIN_RSA_BITS}")
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


# --- command line --------------------------------------------------------------------------

def _new(args: argparse.Namespace) -> int:
    entry = format_secrets_entry(generate_rsa(args.bits), args.id or "")
    if args.output in (None, "-"):
        sys.stdout.write(entry)
        return 0
    # Appended like newhostkey's --output; created readable by its owner only.
    fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="ascii") as handle:
        handle.write(entry)
    print(f"wrote a {args.bits}-bit RSA key to {args.output}", file=sys.stderr)
    return 0


def _show(args: argparse.Namespace) -> int:
    from pluto.connections.secrets import Secrets, SecretsError

    try:
        secrets = Secrets.load([args.secrets])
    except SecretsError as err:
        print(f"showhostkey: {err}", file=sys.stderr)
        return 1
    keys = [entry.key for entry in secrets.rsa_keys if entry.key is not None]
    if args.ckaid:
        keys = [key for key in keys if ckaid(key) == args.ckaid.lower()]
    if not keys:
        print(f"showhostkey: no RSA key{' with that ckaid' if args.ckaid else ''} in "
              f"{args.secrets}", file=sys.stderr)
        return 1
    if len(keys) > 1 and (args.left or args.right or args.pem):
        print("showhostkey: several RSA keys; choose one with --ckaid", file=sys.stderr)
        return 1
    for key in keys:
        if args.left or args.right:
            side = "left" if args.left else "right"
            print(f"\t# rsakey ckaid {ckaid(key)}\n\t{side}rsasigkey={format_rsasigkey(key)}")
        elif args.pem:
            sys.stdout.write(format_pem(key))
        else:
            print(f"RSA {key.key_size} bits ckaid {ckaid(key)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pluto.crypto.hostkey",
                                     description="generate and show RSA host keys")
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="generate a key pair (newhostkey)")
    new.add_argument("--bits", type=int, default=DEFAULT_RSA_BITS)
    new.add_argument("--output", help="secrets file to append to (default: standard output)")
    new.add_argument("--id", help="IDs to put before ': RSA' (default: none)")
    show = commands.add_parser("show", help="print a public key (showhostkey)")
    show.add_argument("--secrets", default="/etc/ipsec.secrets")
    show.add_argument("--ckaid")
    form = show.add_mutually_exclusive_group()
    form.add_argument("--left", action="store_true", help="as leftrsasigkey=")
    form.add_argument("--right", action="store_true", help="as rightrsasigkey=")
    form.add_argument("--pem", action="store_true", help="as a PEM public key")
    args = parser.parse_args(argv)
    try:
        return _new(args) if args.command == "new" else _show(args)
    except HostKeyError as err:
        print(f"{parser.prog}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
