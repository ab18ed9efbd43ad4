"""pluto as a process: start-up, the lock file, the control socket, signals, daemonizing.

Most tests run the real server around a scripted core (tests/server_fakes.py), in this process
(PlutoServer) or as a subprocess (the `pluto` command line with the fake core injected); the
last ones run `python -m pluto` with the real core. Ports are picked free; never 500/4500.
"""

import asyncio
import importlib.util
import ipaddress
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from server_fakes import RUNNER, FakeCore

from pluto.log import CollectingLogger
from pluto.server.daemon import PlutoServer, StartupError
from pluto.server.options import parse_options
from pluto.whack_protocol import (
    RC_COMMENT,
    RC_LOG_SERIOUS,
    RC_NEW_STATE,
    ReplyLine,
    encode_request,
)

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
LOOPBACK = "127.0.0.1"


def free_udp_ports(count=2):
    socks = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((LOOPBACK, 0))
        socks.append(sock)
    ports = [s.getsockname()[1] for s in socks]
    for sock in socks:
        sock.close()
    return ports


def whack(ctl, actions, timeout=10.0):
    """Send one request on the control socket; the reply lines, up to and with done."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(timeout)
        sock.connect(str(ctl))
        sock.sendall(encode_request(actions))
        replies = []
        for line in sock.makefile("rb"):
            replies.append(ReplyLine.decode(line))
            if replies[-1].done:
                break
        return replies


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class PlutoProcess:
    """One pluto subprocess with its own run directory and free ports."""

    def __init__(self, tmp_path: Path, *extra, fake=True, nofork=True, rundir=None):
        self.rundir = rundir or tmp_path / "run"
        self.rundir.mkdir(exist_ok=True)
        self.ikeport, self.natport = free_udp_ports()
        self.stdout_path = tmp_path / f"stdout.{self.ikeport}"
        self.stderr_path = tmp_path / f"stderr.{self.ikeport}"
        args = ["--stderrlog", "--noklips", "--rundir", str(self.rundir), "--listen", LOOPBACK,
                "--ikeport", str(self.ikeport), "--natikeport", str(self.natport),
                "--secretsfile", str(tmp_path / "no-secrets"), *extra]
        if nofork:
            args.insert(0, "--nofork")
        command = ([sys.executable, "-c", RUNNER, str(TESTS)] if fake
                   else [sys.executable, "-m", "pluto"]) + args
        env = dict(os.environ, PYTHONPATH=str(REPO))
        with open(self.stdout_path, "w") as out, open(self.stderr_path, "w") as err:
            self.proc = subprocess.Popen(command, stdout=out, stderr=err, cwd=tmp_path, env=env)

    @property
    def ctl(self):
        return self.rundir / "pluto.ctl"

    @property
    def pid_file(self):
        return self.rundir / "pluto.pid"

    def stdout(self):
        return self.stdout_path.read_text()

    def stderr(self):
        return self.stderr_path.read_text()

    def wait_ready(self):
        wait_for(lambda: "Pluto initialized" in self.stdout() or self.proc.poll() is not None,
                 what="Pluto initialized")
        assert self.proc.poll() is None, f"pluto exited {self.proc.returncode}: {self.stderr()}"
        return self

    def wait(self, timeout=10.0):
        return self.proc.wait(timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def plutos(tmp_path):
    started = []

    def start(*extra, **kwargs):
        process = PlutoProcess(tmp_path, *extra, **kwargs)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def udp_peer():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOOPBACK, 0))
    sock.settimeout(5)
    return sock


# --- subprocesses around the scripted core ---------------------------------------------------

def test_start_serve_and_stop_on_sigterm(plutos):
    pluto = plutos().wait_ready()
    assert pluto.stdout() == "Pluto initialized\n"
    assert stat.S_IMODE(os.stat(pluto.ctl).st_mode) == 0o600
    assert stat.S_ISSOCK(os.stat(pluto.ctl).st_mode)
    assert pluto.pid_file.read_text() == f"{pluto.proc.pid}\n"

    assert whack(pluto.ctl, [{"action": "status"}]) == [
        ReplyLine(RC_COMMENT, "fake status line 1"), ReplyLine(RC_COMMENT, "fake status line 2"),
        ReplyLine(0, "", done=True)]
    assert whack(pluto.ctl, [{"action": "listen"}])[0].text == \
        f"listening on 127.0.0.1:UDP/{pluto.ikeport}"

    peer, nat_peer = udp_peer(), udp_peer()
    peer.sendto(b"ECHO over IKE", (LOOPBACK, pluto.ikeport))
    assert peer.recvfrom(100) == (b"ECHO over IKE", (LOOPBACK, pluto.ikeport))
    nat_peer.sendto(b"\x00\x00\x00\x00ECHO over NAT-T", (LOOPBACK, pluto.natport))
    assert nat_peer.recvfrom(100) == (b"\x00\x00\x00\x00ECHO over NAT-T",
                                      (LOOPBACK, pluto.natport))

    pluto.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "SIGHUP ignored" in pluto.stderr(), what="the SIGHUP hint")
    assert pluto.proc.poll() is None
    assert 'perhaps "whack --listen" was intended' in pluto.stderr()

    pluto.proc.send_signal(signal.SIGTERM)
    assert pluto.wait() == 0
    # The core's shutdown ran and its last datagrams (the Deletes) left before the exit.
    assert peer.recvfrom(100) == (b"DELETE", (LOOPBACK, pluto.ikeport))
    assert nat_peer.recvfrom(100) == (b"\x00\x00\x00\x00DELETE", (LOOPBACK, pluto.natport))
    assert not pluto.ctl.exists() and not pluto.pid_file.exists()
    err = pluto.stderr()
    assert err.index("SIGTERM received") < err.index("fake core shutting down") < \
        err.index("pluto exiting")
    assert "Traceback" not in err
    peer.close()
    nat_peer.close()


def test_a_second_pluto_exits_10_naming_the_first(plutos):
    first = plutos().wait_ready()
    second = plutos(rundir=first.rundir)
    assert second.wait() == 10
    assert f'pluto: lock file "{first.pid_file}" already exists (pid {first.proc.pid})' in \
        second.stderr()
    assert "Pluto initialized" not in second.stdout()
    assert first.pid_file.read_text() == f"{first.proc.pid}\n"  # untouched
    assert whack(first.ctl, [{"action": "status"}])[-1].done


def test_stale_lock_file_and_socket_are_replaced(plutos, tmp_path):
    rundir = tmp_path / "run"
    rundir.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (rundir / "pluto.pid").write_text(f"{dead.pid}\n")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(rundir / "pluto.ctl"))
    stale.close()
    pluto = plutos(rundir=rundir).wait_ready()
    err = pluto.stderr()
    assert (f'removing stale lock file "{rundir / "pluto.pid"}" (pid {dead.pid} is not '
            f"running)") in err
    assert f'removing stale control socket "{rundir / "pluto.ctl"}"' in err
    assert pluto.pid_file.read_text() == f"{pluto.proc.pid}\n"
    assert whack(pluto.ctl, [{"action": "status"}])[-1].done


def test_whack_shutdown_stops_pluto(plutos):
    pluto = plutos().wait_ready()
    assert whack(pluto.ctl, [{"action": "shutdown"}]) == [ReplyLine(0, "", done=True)]
    assert pluto.wait() == 0
    assert not pluto.ctl.exists() and not pluto.pid_file.exists()
    assert "shutting down (whack --shutdown)" in pluto.stderr()


def test_a_reply_finished_by_a_timer(plutos):
    pluto = plutos().wait_ready()
    started = time.monotonic()
    replies = whack(pluto.ctl, [{"action": "initiate", "name": "west-east", "async": False}])
    assert time.monotonic() - started >= 0.2
    assert replies == [ReplyLine(0, "initiating"), ReplyLine(0, "established"),
                       ReplyLine(RC_NEW_STATE + 2, "", done=True)]


def test_a_core_bug_is_answered_and_pluto_carries_on(plutos):
    pluto = plutos().wait_ready()
    replies = whack(pluto.ctl, [{"action": "myid", "id": "@west"}])
    assert replies[0].rc == RC_LOG_SERIOUS and "scripted failure" in replies[0].text
    assert replies[-1] == ReplyLine(RC_LOG_SERIOUS, "", done=True)
    assert whack(pluto.ctl, [{"action": "status"}])[-1].done
    assert "internal error while handling a whack request" in pluto.stderr()


def test_an_address_we_cannot_listen_on_exits_1_and_leaves_nothing(plutos):
    pluto = plutos("--listen", "192.0.2.201")  # TEST-NET-1: not on this host
    assert pluto.wait() == 1
    assert "pluto: cannot listen on 192.0.2.201:UDP/" in pluto.stderr()
    assert list(pluto.rundir.iterdir()) == []


def test_without_nofork_pluto_becomes_a_daemon(plutos, tmp_path):
    logfile = tmp_path / "pluto.log"
    pluto = plutos("--logfile", str(logfile), nofork=False)
    assert pluto.wait() == 0  # the parent, once the daemon is ready
    daemon = int(pluto.pid_file.read_text())
    try:
        assert daemon != pluto.proc.pid
        assert os.getsid(daemon) == daemon  # a session of its own
        assert os.readlink(f"/proc/{daemon}/cwd") == "/"
        assert stat.S_ISSOCK(os.stat(pluto.ctl).st_mode)
        assert whack(pluto.ctl, [{"action": "status"}])[-1].done
        second = plutos("--logfile", str(logfile), nofork=False, rundir=pluto.rundir)
        assert second.wait() == 10
        assert f"already exists (pid {daemon})" in second.stderr()
    finally:
        os.kill(daemon, signal.SIGTERM)
    wait_for(lambda: not pluto.pid_file.exists(), what="the daemon to exit")
    log = logfile.read_text().splitlines()
    # Timestamped like "Nov 24 09:15:07.123456: Starting Pluto ..."
    stamp = r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d\.\d{6}: "
    assert any(re.fullmatch(stamp + r"Starting Pluto .*", line) for line in log)
    assert log[-1].endswith(": pluto exiting")
    assert not pluto.ctl.exists()


# --- the server in this process ---------------------------------------------------------------

def serve_in_process(tmp_path, body, make_core=FakeCore.make, ikeport=None):
    ikeport = ikeport or free_udp_ports(1)[0]
    opts = parse_options(["--nofork", "--noklips", "--rundir", str(tmp_path),
                          "--natikeport", "0", "--ikeport", str(ikeport)])
    logger = CollectingLogger()
    ready = asyncio.Event()
    server = PlutoServer(opts, addresses=[ipaddress.ip_address(LOOPBACK)],
                         make_core=make_core, logger=logger, ready=ready.set)

    async def main():
        serving = asyncio.ensure_future(server.serve())
        waiting = asyncio.ensure_future(ready.wait())
        await asyncio.wait([serving, waiting], return_when=asyncio.FIRST_COMPLETED)
        if serving.done():
            waiting.cancel()
            return serving.result(), None
        outcome = await body(server)
        return await asyncio.wait_for(serving, 5), outcome

    return asyncio.run(main()), server, logger.lines


async def whack_async(path, actions):
    reader, writer = await asyncio.open_unix_connection(str(path))
    writer.write(encode_request(actions))
    lines = [ReplyLine.decode(line) async for line in reader]
    writer.close()
    return lines


def test_in_process_shutdown_by_whack_calls_the_core_once(tmp_path):
    async def body(server):
        return await whack_async(tmp_path / "pluto.ctl", [{"action": "shutdown"}])

    (code, replies), server, log = serve_in_process(tmp_path, body)
    assert code == 0 and replies == [ReplyLine(0, "", done=True)]
    assert server.core.shutdown_calls == 1
    assert list(tmp_path.iterdir()) == []
    assert log[-2:] == ["shutting down (whack --shutdown)", "pluto exiting"]


class QuietShutdownCore(FakeCore):
    """Handles whack's shutdown (deleting everything) without setting ``stopping``."""

    def whack(self, actions, reply):
        if actions[0]["action"] == "shutdown":
            self.shutdown()
            reply.line(0, "shutting down")
            reply.done()
        else:
            super().whack(actions, reply)


def test_in_process_shutdown_stops_when_its_reply_is_done(tmp_path):
    async def body(server):
        return await whack_async(tmp_path / "pluto.ctl", [{"action": "shutdown"}])

    (code, replies), server, log = serve_in_process(tmp_path, body, QuietShutdownCore.make)
    assert code == 0
    assert replies == [ReplyLine(0, "shutting down"), ReplyLine(0, "", done=True)]
    assert server.core.shutdown_calls == 1 and not server.core.stopping
    assert "shutting down (whack --shutdown)" in log


def test_in_process_stop_request_shuts_the_core_down(tmp_path):
    async def body(server):
        server.request_stop("test")
        server.request_stop("twice")  # harmless

    (code, _), server, log = serve_in_process(tmp_path, body)
    assert code == 0 and server.core.shutdown_calls == 1
    assert "shutting down (test)" in log


class StuckTimerCore(FakeCore):
    """A buggy core whose timer stays due after run_timers, and whose packets raise."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.runs = 0

    def next_deadline(self):
        return 0.0  # always in the past

    def run_timers(self):
        self.runs += 1

    def packet_received(self, data, local, remote):
        raise ValueError("scripted packet bug")


def test_in_process_a_stuck_timer_does_not_spin_and_a_packet_bug_is_logged(tmp_path):
    async def body(server):
        runs_before = server.core.runs
        await asyncio.sleep(0.2)
        runs = server.core.runs - runs_before
        local = server.sockets.endpoints()[0]
        peer = udp_peer()
        peer.sendto(b"boom", (str(local[0]), local[1]))
        await asyncio.sleep(0.1)
        peer.close()
        server.request_stop("test")
        return runs

    (code, runs), server, log = serve_in_process(tmp_path, body, StuckTimerCore.make)
    assert code == 0
    assert 5 <= runs <= 25  # at most one run per MIN_TIMER_DELAY (10 ms)
    assert any("internal error while handling a packet from 127.0.0.1" in line for line in log)


def test_in_process_startup_failures(tmp_path):
    (tmp_path / "pluto.pid").write_text(f"{os.getppid()}\n")  # a live process holds it
    with pytest.raises(StartupError) as held:
        serve_in_process(tmp_path, None)
    assert held.value.code == 10
    (tmp_path / "pluto.pid").unlink()

    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind((LOOPBACK, 0))
    port = taken.getsockname()[1]
    with pytest.raises(StartupError) as busy:
        serve_in_process(tmp_path, None, ikeport=port)
    taken.close()
    assert busy.value.code == 1 and f"127.0.0.1:UDP/{port}" in str(busy.value)
    assert list(tmp_path.iterdir()) == []  # the lock file went with the failure


# --- the real core ---------------------------------------------------------------------------

def real_core_missing():
    try:
        return importlib.util.find_spec("pluto.engine.core") is None
    except ImportError:
        return True


needs_real_core = pytest.mark.skipif(real_core_missing(),
                                     reason="the protocol core (pluto/engine/core.py) is not "
                                            "there yet")


@needs_real_core
def test_real_pluto_starts_answers_and_stops_on_sigterm(plutos):
    pluto = plutos(fake=False).wait_ready()
    assert stat.S_IMODE(os.stat(pluto.ctl).st_mode) == 0o600
    assert pluto.pid_file.read_text() == f"{pluto.proc.pid}\n"
    assert whack(pluto.ctl, [{"action": "status"}])[-1].done
    second = plutos(fake=False, rundir=pluto.rundir)
    assert second.wait() == 10
    pluto.proc.send_signal(signal.SIGTERM)
    assert pluto.wait() == 0
    assert not pluto.ctl.exists() and not pluto.pid_file.exists()
    assert "Traceback" not in pluto.stderr()


@needs_real_core
def test_real_pluto_stops_on_whack_shutdown(plutos):
    pluto = plutos(fake=False).wait_ready()
    assert whack(pluto.ctl, [{"action": "shutdown"}])[-1].done
    assert pluto.wait() == 0
    assert not pluto.ctl.exists() and not pluto.pid_file.exists()
