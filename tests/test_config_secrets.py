"""ipsec.secrets of issue 4: RSA private keys, XAUTH entries, never printed; rereadsecrets."""

from __future__ import annotations

import base64
import ipaddress

import pytest
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.hashes import SHA256

from pluto.connections.ids import parse_identity
from pluto.connections.secrets import Secrets, SecretsError
from pluto.crypto.rand import RandomSource
from pluto.engine.core import CoreOptions, Pluto
from pluto.engine.host import FakeClock
from pluto.kernel.nostack import NoStack
from pluto.log import Logger

# One key for the module: generating RSA keys is slow.
KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024)
NUMBERS = KEY.private_numbers()


def full_entry(ids: str = "@west", *, b64: bool = False, derived: bool = True) -> str:
    def number(value: int) -> str:
        if b64:
            data = value.to_bytes((value.bit_length() + 7) // 8, "big")
            return "0s" + base64.b64encode(data).decode()
        return f"0x{value:x}"

    fields = [("Modulus", NUMBERS.public_numbers.n),
              ("PublicExponent", NUMBERS.public_numbers.e),
              ("PrivateExponent", NUMBERS.d), ("Prime1", NUMBERS.p), ("Prime2", NUMBERS.q)]
    if derived:
        fields += [("Exponent1", NUMBERS.dmp1), ("Exponent2", NUMBERS.dmq1),
                   ("Coefficient", NUMBERS.iqmp)]
    body = "".join(f"\t{name}: {number(value)}\n" for name, value in fields)
    return f"{ids} : RSA {{\n\t# RSA 1024 bits   west   (a comment)\n{body}\t}}\n"


@pytest.mark.parametrize("b64", [False, True])
@pytest.mark.parametrize("derived", [False, True])
def test_rsa_private_key_is_the_key_that_was_written(b64, derived):
    secrets = Secrets.from_text(full_entry(b64=b64, derived=derived) + ': PSK "a default psk"\n',
                                "s")
    entry = secrets.rsa_key_for(parse_identity("@west"))
    assert entry is not None and entry.key is not None
    assert entry.key.private_numbers() == NUMBERS
    # the key works: what it signs, the original public key verifies
    signature = entry.key.sign(b"data", padding.PKCS1v15(), SHA256())
    KEY.public_key().verify(signature, b"data", padding.PKCS1v15(), SHA256())
    assert len(secrets) == 1 and secrets.psk_for(None, None) == b"a default psk"


def test_rsa_secrets_are_never_printed():
    secrets = Secrets.from_text(full_entry() + '@user : XAUTH "hunter2-password"\n', "s")
    text = repr(secrets) + repr(secrets.rsa_keys) + repr(secrets.xauth)
    assert f"{NUMBERS.d:x}" not in text and f"{NUMBERS.p:x}" not in text
    assert "hunter2" not in text
    assert repr(secrets.rsa_keys[0]) == "RsaKeyEntry(@west : RSA <1024-bit private key> at s:1)"
    assert repr(secrets.xauth[0]) == "XauthEntry(@user : XAUTH <16 bytes> at s:12)"


def test_rsa_references_and_lookup_order():
    secrets = Secrets.from_text(': RSA "west-cert"\n'
                                '@east : RSA { ckaid=0a0b0c }\n', "s")
    default, east = secrets.rsa_keys
    assert default.nickname == "west-cert" and default.key is None
    assert east.ckaid == bytes.fromhex("0a0b0c")
    assert secrets.rsa_key_for(parse_identity("@east")) is east
    assert secrets.rsa_key_for(parse_identity("@north")) is default


def test_xauth_entries():
    secrets = Secrets.from_text('@alice : XAUTH "alice secret"\n'
                                '@bob @carol : XAUTH "shared"\n', "s")
    assert secrets.xauth_password_for(parse_identity("@alice")) == b"alice secret"
    assert secrets.xauth_password_for(parse_identity("@carol")) == b"shared"
    assert secrets.xauth_password_for(parse_identity("@dave")) is None
    assert len(secrets) == 0  # not pre-shared keys


def test_other_kinds_are_still_skipped_with_a_warning():
    warnings: list[str] = []
    Secrets.from_text(": ECDSA { ckaid=01 }\n", "s", warn=warnings.append)
    assert warnings == ["s:1: skipping ECDSA secret (not supported yet)"]


@pytest.mark.parametrize(("text", "message"), [
    (": RSA {\n  Modulus: 0x00\n  }\n",
     "s:1: RSA: PublicExponent, PrivateExponent, Prime1, Prime2 missing"),
    (": RSA {\n  Modulus: 0xzz\n  PublicExponent: 0x3\n  PrivateExponent: 0x1\n"
     "  Prime1: 0x1\n  Prime2: 0x1\n  }\n", "s:1: RSA: Modulus is not 0x hex or 0s base64"),
    (": RSA {\n  Colour: 0x01\n  }\n", "s:1: RSA: unknown field 'Colour'"),
    (": RSA {\n  ckaid=01\n  Modulus: 0x01\n  }\n",
     "s:1: RSA: ckaid= stands alone (the key is in the store)"),
    (": RSA\n", "s:1: RSA needs { FIELD: VALUE ... } or a quoted nickname"),
    ("@u : XAUTH secret\n", "s:1: XAUTH takes one quoted password"),
])
def test_bad_entries(text, message):
    with pytest.raises(SecretsError) as err:
        Secrets.from_text(text, "s")
    assert str(err.value) == message


def test_inconsistent_rsa_key_is_refused():
    text = full_entry().replace(f"0x{NUMBERS.iqmp:x}", f"0x{NUMBERS.iqmp + 2:x}")
    with pytest.raises(SecretsError, match="s:1: RSA: Coefficient does not match the primes"):
        Secrets.from_text(text, "s")
    wrong_d = full_entry(derived=False).replace(f"0x{NUMBERS.d:x}", f"0x{NUMBERS.d + 2:x}")
    with pytest.raises(SecretsError, match="the numbers do not make a valid RSA key"):
        Secrets.from_text(wrong_d, "s")


# --- whack --rereadsecrets ------------------------------------------------------------------

class Reply:
    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []
        self.rc: int | None = None

    def line(self, rc: int, text: str) -> None:
        self.lines.append((rc, text))

    def done(self, rc: int = 0) -> None:
        self.rc = rc


def test_rereadsecrets_reloads_the_files_pluto_started_with(tmp_path):
    path = tmp_path / "ipsec.secrets"
    path.write_text('@west @east : PSK "the first secret"\n')
    path.chmod(0o600)
    clock = FakeClock()
    log: list[str] = []
    core = Pluto(clock=clock, rand=RandomSource("r"), kernel=NoStack(RandomSource("k"), clock),
                 transport=None, logger=Logger(log.append),
                 secrets=Secrets.load([str(path)]),
                 options=CoreOptions(listen=[(ipaddress.ip_address("127.0.0.1"), 500)],
                                     secrets_patterns=[str(path)]))
    west, east = parse_identity("@west"), parse_identity("@east")
    assert core.secrets.psk_for(west, east) == b"the first secret"

    path.write_text('@west @east : PSK "the second secret"\n')
    reply = Reply()
    core.whack([{"action": "rereadsecrets"}], reply)
    assert reply.rc == 0
    assert [text for _, text in reply.lines] == [f'loading secrets from "{path}"']
    assert core.secrets.psk_for(west, east) == b"the second secret"
    assert "second secret" not in "\n".join(log)

    # a broken file is reported and the secrets in use stay
    path.write_text('@west @east : PSK "unterminated\n')
    reply = Reply()
    core.whack([{"action": "rereadsecrets"}], reply)
    assert reply.rc == 3
    assert reply.lines[-1] == (3, f"rereadsecrets failed, keeping the old secrets: "
                                  f"{path}:1: unterminated quoted string")
    assert core.secrets.psk_for(west, east) == b"the second secret"


def test_rereadsecrets_warns_about_a_readable_file(tmp_path):
    path = tmp_path / "ipsec.secrets"
    path.write_text('@west @east : PSK "a long enough secret"\n')
    path.chmod(0o644)
    clock = FakeClock()
    core = Pluto(clock=clock, rand=RandomSource("r"), kernel=NoStack(RandomSource("k"), clock),
                 transport=None, logger=Logger(lambda _line: None), secrets=Secrets(),
                 options=CoreOptions(secrets_patterns=[str(path)]))
    reply = Reply()
    core.whack([{"action": "rereadsecrets"}], reply)
    assert (0, f"{path}: secrets file is readable by group or others (mode 0644); chmod 600 "
               "it") in reply.lines
