"""A missing or unreadable secrets file: a clear error naming the file, never a traceback.

Missing: pluto says which name matched nothing and runs (libreswan does the same); once the
file is there, ``whack --rereadsecrets`` loads it. Unreadable (here: a directory, and bytes
that are not UTF-8, since root reads any mode): pluto names the file and the reason, and runs
without secrets, as libreswan does, until --rereadsecrets reads the file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_fault_logfile import _free_port, _whack

REPO = Path(__file__).resolve().parent.parent


def _start(tmp_path: Path, secretsfile: Path) -> subprocess.Popen:
    rundir = tmp_path / "run"
    rundir.mkdir(exist_ok=True)
    stderr = open(tmp_path / "stderr", "w")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "pluto", "--nofork", "--noklips", "--stderrlog",
             "--rundir", str(rundir), "--listen", "127.0.0.1", "--ikeport", str(_free_port()),
             "--natikeport", "0", "--secretsfile", str(secretsfile)],
            stdout=subprocess.PIPE, stderr=stderr, env=dict(os.environ, PYTHONPATH=str(REPO)),
            text=True)
    finally:
        stderr.close()


def _stop(process: subprocess.Popen) -> int:
    if process.poll() is None:
        process.terminate()
    return process.wait(timeout=20)


def test_missing_secrets_file_is_named_and_pluto_runs_then_loads_it(tmp_path):
    secrets = tmp_path / "ipsec.secrets"
    process = _start(tmp_path, secrets)
    try:
        assert process.stdout.readline().strip() == "Pluto initialized"
        ctl = tmp_path / "run" / "pluto.ctl"
        assert _whack(ctl, [{"action": "status"}])[-1].done
        secrets.write_text('@west @east : PSK "now the secrets file is there"\n')
        secrets.chmod(0o600)
        reply = _whack(ctl, [{"action": "rereadsecrets"}])
        assert [line.text for line in reply if line.text] == [f'loading secrets from "{secrets}"']
    finally:
        assert _stop(process) == 0
    stderr = (tmp_path / "stderr").read_text()
    assert f'no secrets filename matched "{secrets}"' in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("kind, reason", [
    ("directory", "Is a directory"),
    ("not-utf8", "'utf-8' codec can't decode byte 0xff in position 0"),
])
def test_unreadable_secrets_file_is_named_with_the_reason(tmp_path, kind, reason):
    secrets = tmp_path / "ipsec.secrets"
    if kind == "directory":
        secrets.mkdir()
    else:
        secrets.write_bytes(b"\xff\xfe : PSK")
    process = _start(tmp_path, secrets)
    try:
        process.stdout.readline()
    finally:
        _stop(process)
    stderr = (tmp_path / "stderr").read_text()
    assert f'cannot read secrets file "{secrets}": {reason}' in stderr
    assert "Traceback" not in stderr


def test_unreadable_secrets_file_leaves_pluto_running(tmp_path):
    secrets = tmp_path / "ipsec.secrets"
    secrets.mkdir()
    process = _start(tmp_path, secrets)
    try:
        assert process.stdout.readline().strip() == "Pluto initialized"
        assert _whack(tmp_path / "run" / "pluto.ctl", [{"action": "status"}])[-1].done
    finally:
        _stop(process)
