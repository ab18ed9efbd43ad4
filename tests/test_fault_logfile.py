"""A log file that cannot be written (a full disk): pluto keeps running and keying, and says
so once on stderr and once to whack; when writing works again it says how many lines were
lost.

The sink alone is tested on /dev/full (every write fails with ENOSPC) and on a stream that
fills and empties; as root, two real plutos (--noklips, loopback) negotiate while one of them
logs to a tiny tmpfs that is full.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pluto.server.logsink import LogSink
from pluto.whack_protocol import ReplyLine, encode_request

REPO = Path(__file__).resolve().parent.parent
PSK = '@west @east : PSK "a secret for the full-disk test of the log file"\n'


class FillingStream(io.StringIO):
    """An in-memory log file that raises ENOSPC while ``full``."""

    name = "/var/log/pluto.log"
    full = False

    def fileno(self) -> int:
        raise io.UnsupportedOperation("no descriptor")

    def write(self, text: str) -> int:
        if self.full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(text)


def test_dev_full_loses_lines_and_complains_exactly_once():
    complaints = io.StringIO()
    logfile = open("/dev/full", "a")
    sink = LogSink(logfile=logfile, complain=complaints, wall=lambda: 0.0)
    try:
        for n in range(50):
            sink(f"line {n}")
    finally:
        sink.close()
    assert complaints.getvalue() == (
        'pluto: cannot write to the log file "/dev/full": No space left on device; log lines '
        "are lost until it works again\n")
    assert sink.failures_since == 50


def test_full_then_free_again_says_how_many_lines_were_lost():
    complaints = io.StringIO()
    stream = FillingStream()
    sink = LogSink(logfile=stream, complain=complaints, wall=lambda: 0.0)
    sink("before")
    stream.full = True
    for n in range(3):
        sink(f"lost {n}")
    assert sink.logfile_failure is not None
    stream.full = False
    sink("after")
    assert sink.logfile_failure is None
    assert [line.split(": ", 1)[1] for line in stream.getvalue().splitlines()] == \
        ["before", "after"]
    assert complaints.getvalue().splitlines() == [
        'pluto: cannot write to the log file "/var/log/pluto.log": No space left on device; '
        "log lines are lost until it works again",
        "pluto: writing the log file works again; 3 line(s) were lost"]


def test_stderr_still_gets_every_line_when_the_file_fails():
    out = io.StringIO()
    stream = FillingStream()
    stream.full = True
    sink = LogSink(stderr=out, logfile=stream, complain=io.StringIO())
    sink("one")
    sink("two")
    assert out.getvalue() == "one\ntwo\n"


# --- two real plutos, one logging to a full tmpfs ----------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _whack(ctl: Path, actions: list[dict]) -> list[ReplyLine]:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(20)
        sock.connect(str(ctl))
        sock.sendall(encode_request(actions))
        replies = []
        for line in sock.makefile("rb"):
            replies.append(ReplyLine.decode(line))
            if replies[-1].done:
                break
    return replies


def _conn(port: int) -> dict:
    return {"name": "west-east", "auth": "psk", "ikev2": True,
            "left": {"host": "127.0.0.1", "id": "@west", "client": "198.18.1.0/24",
                     "ikeport": port},
            "right": {"host": "127.0.0.2", "id": "@east", "client": "198.18.2.0/24",
                      "ikeport": port}}


@pytest.fixture
def full_tmpfs(tmp_path):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a tmpfs")
    mount = tmp_path / "tiny"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k,mode=0755", "tmpfs", str(mount)],
                   check=True)
    try:
        fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
        try:  # leave no free block
            while True:
                os.write(fd, b"x" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_pluto_keeps_keying_with_its_log_file_on_a_full_disk(full_tmpfs, tmp_path):
    port = _free_port()
    secrets = tmp_path / "ipsec.secrets"
    secrets.write_text(PSK)
    secrets.chmod(0o600)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    processes = {}
    try:
        for name, address, logging in (
                ("west", "127.0.0.1", ["--stderrlog"]),
                ("east", "127.0.0.2", ["--logfile", str(full_tmpfs / "pluto.log")])):
            rundir = tmp_path / name
            rundir.mkdir()
            stderr = open(tmp_path / f"{name}.stderr", "w")
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", "pluto", "--nofork", "--noklips", *logging,
                 "--rundir", str(rundir), "--listen", address, "--ikeport", str(port),
                 "--natikeport", "0", "--secretsfile", str(secrets)],
                stdout=subprocess.PIPE, stderr=stderr, env=env, text=True)
            stderr.close()
            assert processes[name].stdout.readline().strip() == "Pluto initialized"
        east_ctl, west_ctl = tmp_path / "east" / "pluto.ctl", tmp_path / "west" / "pluto.ctl"
        first = _whack(east_ctl, [{"action": "add", "connection": _conn(port)}])
        assert first[0].text.startswith('cannot write to the log file "') and \
            first[0].text.endswith('pluto.log": No space left on device; log lines are lost '
                                   "until it works again")
        assert _whack(west_ctl, [{"action": "add", "connection": _conn(port)}])[-1].done
        reply = _whack(west_ctl, [{"action": "initiate", "name": "west-east"}])
        assert any("initiator established Child SA" in line.text for line in reply)
        # east keyed; whack heard about the log file once, not again
        status = _whack(east_ctl, [{"action": "trafficstatus"}])
        assert [line.text for line in status if "log file" in line.text] == []
        assert any('"west-east", type=ESP' in line.text for line in status)
        assert processes["east"].poll() is None
        time.sleep(0.1)
        complaints = [line for line in (tmp_path / "east.stderr").read_text().splitlines()
                      if "log file" in line]
        assert len(complaints) == 1
    finally:
        for process in processes.values():
            process.terminate()
            process.wait(timeout=20)
    assert processes["east"].returncode == 0
    assert "Traceback" not in (tmp_path / "east.stderr").read_text()
