"""No secret in logs, status output or whack replies unless the ``private`` debug class is on.

Two real plutos (--noklips, 127.0.0.1 and 127.0.0.2) with every kind of secret configured
(quoted, hex and base64 PSKs, an inline RSA private key, a PEM key file with a password, an
XAUTH password) negotiate and rekey a tunnel with ``--debug all``; every whack reply, status
form and both logs are searched for each secret in every spelling (text, hex, base64,
decimal). An in-process pair does the same for the derived keys (SK_*, ESP keys), and shows
that a key logged through ``Logger.secret`` with ``private`` on is found, so the search can
find what it looks for.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pluto.engine.states import ChildSa, IkeSa
from tests.inprocess.harness import Pair

ROOT = Path(__file__).resolve().parent.parent
HOSTS = {"west": "127.0.0.1", "east": "127.0.0.2"}
PSK_TEXT = "psk-west-east-Zq8v3mPl"
PSK_HEX = "5ec2e7a1b2c3d4e5f60718293a4b5c6d"
PSK_B64_BYTES = b"secret-base64-north-9Hq"
XAUTH = "xauth-pass-Kk2rT7"
PEM_PASSWORD = "pem-password-W4x"


def _spellings(secret: bytes) -> set[str]:
    """Ways a secret could show up in text (short ones would match by chance: left out)."""
    out = {secret.hex(), secret.hex().upper(), base64.b64encode(secret).decode().rstrip("="),
           str(int.from_bytes(secret, "big"))}
    try:
        out.add(secret.decode())
    except UnicodeDecodeError:
        pass
    out.add(repr(secret)[2:-1])
    return {s for s in out if len(s) >= 12}


def _int_bytes(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def _rsa_record(key: rsa.RSAPrivateKey) -> str:
    nums = key.private_numbers()
    return (f"@east : RSA {{\n\tModulus: 0x{nums.public_numbers.n:x}\n"
            f"\tPublicExponent: 0x{nums.public_numbers.e:x}\n"
            f"\tPrivateExponent: 0x{nums.d:x}\n\tPrime1: 0x{nums.p:x}\n\tPrime2: 0x{nums.q:x}\n"
            "\t}\n")


def _private_parts(key: rsa.RSAPrivateKey) -> list[bytes]:
    nums = key.private_numbers()
    return [_int_bytes(v) for v in (nums.d, nums.p, nums.q, nums.dmp1, nums.dmq1, nums.iqmp)]


def _free_port() -> int:
    for _ in range(50):
        probes = []
        try:
            first = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            first.bind((HOSTS["west"], 0))
            probes.append(first)
            port = first.getsockname()[1]
            second = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            second.bind((HOSTS["east"], port))
            probes.append(second)
            return port
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise RuntimeError("no free UDP port on 127.0.0.1 and 127.0.0.2")


class Daemon:
    def __init__(self, name: str, workdir: Path, secrets: Path, port: int) -> None:
        self.rundir = workdir / name
        self.rundir.mkdir()
        self.log = workdir / f"{name}.log"
        argv = [sys.executable, "-m", "pluto", "--nofork", "--stderrlog", "--noklips",
                "--rundir", str(self.rundir), "--listen", HOSTS[name], "--ikeport", str(port),
                "--natikeport", "0", "--secretsfile", str(secrets), "--debug", "all"]
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log,
                                            text=True, cwd=ROOT)
        line = self.process.stdout.readline()
        assert "Pluto initialized" in line, self.log.read_text()
        self.replies: list[str] = []

    def whack(self, *args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "whack", "--rundir", str(self.rundir),
                               *args], capture_output=True, text=True, timeout=60, cwd=ROOT)
        self.replies += [done.stdout, done.stderr]
        return done

    def stop(self) -> None:
        if self.process.poll() is None:
            self.whack("--shutdown")
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def test_no_configured_secret_appears_in_logs_status_or_replies(tmp_path):
    inline_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    file_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = file_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.BestAvailableEncryption(PEM_PASSWORD.encode()))
    (tmp_path / "west-key.pem").write_bytes(pem)
    secrets = tmp_path / "ipsec.secrets"
    secrets.write_text(
        f'@west @east : PSK "{PSK_TEXT}"\n'
        f"@road @east : PSK 0x{PSK_HEX}\n"
        f"@north @east : PSK 0s{base64.b64encode(PSK_B64_BYTES).decode()}\n"
        + _rsa_record(inline_key)
        + f'@xuser : XAUTH "{XAUTH}"\n'
        f': RSA {tmp_path / "west-key.pem"} "{PEM_PASSWORD}"\n')
    secrets.chmod(0o644)  # readable by others: pluto must say so
    port = _free_port()
    conn = ["--name", "west-east", "--id", "@west", "--host", HOSTS["west"], "--ikeport",
            str(port), "--client", "198.18.1.0/24", "--to", "--id", "@east", "--host",
            HOSTS["east"], "--ikeport", str(port), "--client", "198.18.2.0/24", "--psk",
            "--encrypt", "--tunnel", "--pfs"]
    daemons = []
    try:
        east = Daemon("east", tmp_path, secrets, port)
        daemons.append(east)
        west = Daemon("west", tmp_path, secrets, port)
        daemons.append(west)
        for daemon in daemons:
            assert daemon.whack(*conn).returncode == 0, daemon.replies
        assert west.whack("--name", "west-east", "--initiate").returncode == 0, west.replies
        for action in ("--rekey-child", "--rekey-ike"):
            assert west.whack("--name", "west-east", action).returncode == 0, west.replies
        for daemon in daemons:
            daemon.whack("--debug", "all")
            daemon.whack("--rereadsecrets")
            for what in ("--status", "--showstates", "--trafficstatus"):
                assert daemon.whack(what).returncode == 0
                assert daemon.whack(what, "--json").returncode == 0
            daemon.whack("--impair", "list")
        west.whack("--name", "west-east", "--terminate")
    finally:
        for daemon in daemons:
            daemon.stop()
    logs = [d.log.read_text(errors="replace") for d in daemons]
    text = "\n".join(logs + [r for d in daemons for r in d.replies])
    assert "STATE_V2_ESTABLISHED_CHILD_SA" in text and "| " in logs[0], "nothing was logged"
    assert any("readable by group or others" in log for log in logs)
    secrets_found = []
    for name, secret in [("PSK", PSK_TEXT.encode()), ("hex PSK", bytes.fromhex(PSK_HEX)),
                         ("base64 PSK", PSK_B64_BYTES), ("XAUTH", XAUTH.encode()),
                         ("PEM password", PEM_PASSWORD.encode())] + [
            (f"inline RSA part {i}", part) for i, part in enumerate(_private_parts(inline_key))
    ] + [(f"file RSA part {i}", part) for i, part in enumerate(_private_parts(file_key))]:
        secrets_found += [(name, s) for s in _spellings(secret) if s in text]
    for line in pem.decode().splitlines()[1:-1]:
        if line in text:
            secrets_found.append(("PEM body", line))
    assert secrets_found == []


def _derived_keys(pair: Pair) -> list[bytes]:
    keys = []
    for host in (pair.west, pair.east):
        for state in host.core.states:
            if isinstance(state, IkeSa) and state.keys is not None:
                keys += [v for v in vars(state.keys).values()
                         if isinstance(v, bytes) and len(v) >= 16]
        for sa in host.kernel.installed_sas():
            keys += [v for v in vars(sa).values() if isinstance(v, bytes) and len(v) >= 16]
    return keys


def _leaks(pair: Pair) -> list[str]:
    text = "\n".join(pair.west.log + pair.east.log)
    return [s for key in _derived_keys(pair) for s in _spellings(key) if s in text]


def test_derived_keys_never_appear_without_the_private_debug_class():
    quiet = Pair()
    for host in (quiet.west, quiet.east):
        host.flags.enable("all")
    assert quiet.establish().finished == 0
    assert any(not isinstance(s, ChildSa) for s in quiet.east.core.states)
    assert len(_derived_keys(quiet)) >= 6
    assert _leaks(quiet) == []
    # The search finds what it looks for: a key passed through Logger.secret shows with
    # private on (and only then).
    key = _derived_keys(quiet)[0]
    quiet.east.core.logger.log("a key: " + quiet.east.core.logger.secret(key))
    assert _leaks(quiet) == []
    quiet.east.flags.enable("private")
    quiet.east.core.logger.log("a key: " + quiet.east.core.logger.secret(key))
    assert set(_leaks(quiet)) == {key.hex()}


def test_secret_reprs_never_show_the_secret():
    from pluto.connections.secrets import Secrets

    secrets = Secrets.from_text(f'@a @b : PSK "{PSK_TEXT}"\n@u : XAUTH "{XAUTH}"\n')
    text = repr(secrets) + repr(secrets.entries) + repr(secrets.xauth) + str(os.environ.get(
        "PLUTO_NOTHING", ""))
    assert PSK_TEXT not in text and XAUTH not in text
