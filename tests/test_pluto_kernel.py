"""pluto without --noklips: the XFRM back end wired into the daemon, on the host kernel.

Two network namespaces made per test (west and east on a veth pair, with the lab addresses
and a client address each on a second veth pair) run real plutos driven by whack. This
kernel has XFRM but no ESP (../shared/lab-notes.md), which these tests use: policies, trap
ACQUIREs and shutdown work here, and the Child SA's NEWSA fails with EPROTONOSUPPORT, which
must be logged with the operation and errno, reported to the peer and leave nothing behind.
The ESP data path itself is tested inside User-Mode-Linux (tests/test_pluto_uml.py).

:class:`Lab` is also what the UML test runs inside its guest.
"""

from __future__ import annotations

import dataclasses
import errno
import ipaddress
import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pluto.kernel.xfrm_socket as xfrm_socket
from pluto import main as pluto_main
from pluto.kernel import xfrm_requests
from pluto.kernel.ops import SaId, SaSpec

REPO = Path(__file__).resolve().parent.parent
PSK = "a kernel test secret, not for production"
HOSTS = {  # name: (outside address, client address/prefix, peer's client subnet, peer address)
    "west": ("198.51.100.45", "198.18.1.254/24", "198.18.2.0/24", "198.51.100.23"),
    "east": ("198.51.100.23", "198.18.2.254/24", "198.18.1.0/24", "198.51.100.45"),
}
CONN = ["--name", "west-east", "--id", "@west", "--host", "198.51.100.45", "--client",
        "198.18.1.0/24", "--to", "--id", "@east", "--host", "198.51.100.23", "--client",
        "198.18.2.0/24", "--psk", "--encrypt", "--tunnel", "--pfs"]
_counter = itertools.count()


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), check=check, capture_output=True, text=True, timeout=30)


class Lab:
    """west and east namespaces, their plutos and whack; ``close`` undoes all of it."""

    def __init__(self, workdir: Path, prefix: str | None = None) -> None:
        self.workdir = workdir
        self.prefix = prefix or f"h16k{os.getpid()}x{next(_counter)}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.namespaces: list[str] = []
        self.secrets = workdir / "ipsec.secrets"
        self.secrets.write_text(f'@west @east : PSK "{PSK}"\n')
        self.secrets.chmod(0o600)

    def ns(self, host: str) -> str:
        return f"{self.prefix}-{host}"

    def build(self) -> None:
        for host in HOSTS:
            _run("ip", "netns", "add", self.ns(host))
            self.namespaces.append(self.ns(host))
        west, east = self.ns("west"), self.ns("east")
        _run("ip", "-n", west, "link", "add", "out0", "type", "veth", "peer", "name", "out0",
             "netns", east)
        for host, (address, client, _peer_net, _peer) in HOSTS.items():
            ns = self.ns(host)
            # the client subnet lives on a veth pair of its own inside the namespace
            _run("ip", "-n", ns, "link", "add", "cl0", "type", "veth", "peer", "name", "cl1")
            _run("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", "out0")
            _run("ip", "-n", ns, "addr", "add", client, "dev", "cl0")
            for link in ("lo", "out0", "cl0", "cl1"):
                _run("ip", "-n", ns, "link", "set", link, "up")

    def start(self, host: str, *extra: str) -> None:
        rundir = self.workdir / host
        rundir.mkdir(exist_ok=True)
        log = open(self.workdir / f"{host}.log", "w")
        argv = ["ip", "netns", "exec", self.ns(host), sys.executable, "-m", "pluto",
                "--nofork", "--stderrlog", "--rundir", str(rundir), "--listen",
                HOSTS[host][0], "--secretsfile", str(self.secrets), *extra]
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, text=True,
                                   cwd=REPO)
        log.close()
        self.processes[host] = process
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "Pluto initialized" in line, f"{host}: pluto did not start\n{self.log(host)}"

    def whack(self, host: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "whack", "--rundir",
                               str(self.workdir / host), *args], capture_output=True,
                              text=True, timeout=60, cwd=REPO)
        assert not check or done.returncode == 0, (
            f"whack {' '.join(args)} on {host}: exit {done.returncode}\n{done.stdout}"
            f"{done.stderr}\n--- log ---\n{self.log(host)}")
        return done

    def ip(self, host: str, *args: str) -> str:
        return _run("ip", "-n", self.ns(host), *args).stdout

    def inside(self, host: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        return _run("ip", "netns", "exec", self.ns(host), *argv, check=check)

    def udp(self, host: str, src: str, dst: str, count: int = 3) -> None:
        """Send ``count`` UDP datagrams from ``src`` to ``dst`` port 9 (discard)."""
        self.inside(host, sys.executable, "-c",
                    "import socket, sys, time\n"
                    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                    "s.bind((sys.argv[1], 0))\n"
                    "for _ in range(int(sys.argv[3])):\n"
                    "    s.sendto(b'x' * 64, (sys.argv[2], 9)); time.sleep(0.05)\n",
                    src, dst, str(count))

    def log(self, host: str) -> str:
        path = self.workdir / f"{host}.log"
        return path.read_text() if path.exists() else ""

    def wait_for(self, host: str, text: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log(host):
            if time.monotonic() > deadline:
                raise AssertionError(f"{host}: no {text!r} in the log\n{self.log(host)}")
            time.sleep(0.05)

    def stop(self, host: str, timeout: float = 15.0) -> int:
        """SIGTERM the pluto we started (by PID) and wait for it."""
        process = self.processes.pop(host)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise

    def wait_exit(self, host: str, timeout: float = 15.0) -> int:
        process = self.processes.pop(host)
        return process.wait(timeout)

    def close(self) -> None:
        for host in list(self.processes):
            process = self.processes.pop(host)
            if process.poll() is None:
                process.kill()
                process.wait()
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)
        self.namespaces.clear()


def tracebacks(text: str) -> bool:
    return "Traceback" in text or "internal error" in text.lower()


# --- without a usable XFRM -------------------------------------------------------------------

def test_pluto_without_xfrm_fails_clearly_before_creating_anything(monkeypatch, capsys,
                                                                  tmp_path):
    def no_xfrm(*args, **kwargs):
        raise OSError(errno.EPROTONOSUPPORT, os.strerror(errno.EPROTONOSUPPORT))

    monkeypatch.setattr(xfrm_socket, "open_netlink", no_xfrm)
    code = pluto_main.main(["--nofork", "--rundir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert err == ("pluto: this kernel has no XFRM netlink interface (Protocol not supported); "
                   "load xfrm_user, or use --noklips to record SAs in memory instead\n")
    assert list(tmp_path.iterdir()) == []


def test_byte_and_packet_limits_of_an_sa_spec_reach_the_lifetime_config():
    spec = SaSpec(id=SaId(ipaddress.ip_address("198.51.100.23"), 0x1234, "esp"),
                  src=ipaddress.ip_address("198.51.100.45"), mode="tunnel",
                  src_selector=ipaddress.ip_network("198.18.1.0/24"),
                  dst_selector=ipaddress.ip_network("198.18.2.0/24"), encrypt="AES_GCM_16",
                  encrypt_key=bytes(36), encrypt_key_bits=256, integ=None, integ_key=b"",
                  reqid=1, lifetime_bytes=10_000, soft_lifetime_bytes=8_000,
                  lifetime_packets=100, soft_lifetime_packets=80, lifetime_seconds=3600,
                  soft_lifetime_seconds=3000)
    lft = xfrm_requests.add_sa(spec).fields["lft"]
    assert lft == {"soft_byte_limit": 8_000, "hard_byte_limit": 10_000,
                   "soft_packet_limit": 80, "hard_packet_limit": 100,
                   "soft_add_expires_seconds": 3000, "hard_add_expires_seconds": 3600,
                   "soft_use_expires_seconds": 0, "hard_use_expires_seconds": 0}
    unlimited = xfrm_requests.add_sa(dataclasses.replace(
        spec, lifetime_bytes=0, soft_lifetime_bytes=0, lifetime_packets=0,
        soft_lifetime_packets=0)).fields["lft"]
    assert unlimited["hard_byte_limit"] == unlimited["soft_packet_limit"] == (1 << 64) - 1


# --- on the host kernel, in namespaces -------------------------------------------------------

def needs_root(test):
    for mark in (pytest.mark.root,
                 pytest.mark.skipif(os.geteuid() != 0,
                                    reason="needs root to create network namespaces"),
                 pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2's ip")):
        test = mark(test)
    return test


@pytest.fixture
def lab(tmp_path):
    the_lab = Lab(tmp_path)
    try:
        the_lab.build()
        yield the_lab
    finally:
        the_lab.close()


def _ours(lab: Lab, host: str) -> tuple[str, str]:
    """The SAs and policies of a running pluto, less its IKE sockets' bypass policies."""
    return lab.ip(host, "xfrm", "state"), without_socket_policies(lab.ip(host, "xfrm", "policy"))


def without_socket_policies(text: str) -> str:
    """``ip xfrm policy`` output less pluto's per-socket IKE bypass policies (one "socket in"
    and one "socket out" per IKE socket, gone when pluto closes its sockets)."""
    entries, current = [], []
    for line in text.splitlines():
        if not line.startswith((" ", "\t")) and current:
            entries.append(current)
            current = []
        current.append(line)
    if current:
        entries.append(current)
    kept = [entry for entry in entries
            if not (len(entry) > 1 and entry[1].strip().startswith("socket "))]
    return "\n".join(line for entry in kept for line in entry)


@needs_root
@pytest.mark.parametrize("stop", ["whack", "sigterm"])
def test_route_traps_traffic_and_shutdown_leaves_nothing(lab, stop):
    lab.start("west")
    lab.whack("west", *CONN)
    lab.whack("west", "--name", "west-east", "--route")
    policy = lab.ip("west", "xfrm", "policy")
    assert "src 198.18.1.0/24 dst 198.18.2.0/24" in policy and "dir out" in policy, policy
    assert "tmpl src 198.51.100.45 dst 198.51.100.23" in policy, policy
    # the default updown routed the peer's client subnet on the link the peer is on (with a
    # gateway between them it goes via the gateway: tests/nat/test_updown_nexthop.py)
    assert "198.18.2.0/24 dev out0 scope link" in lab.ip("west", "route")
    lab.udp("west", "198.18.1.254", "198.18.2.254", count=1)
    lab.wait_for("west", '"west-east": initiating on demand: ACQUIRE for '
                         "198.18.1.254->198.18.2.254 (protocol 17)")
    lab.wait_for("west", '"west-east" #1: sent IKE_SA_INIT request')
    if stop == "whack":
        lab.whack("west", "--shutdown")
        assert lab.wait_exit("west") == 0
    else:
        assert lab.stop("west") == 0
    # pluto is gone: nothing of ours may remain, not even the IKE sockets' bypass policies
    state, policy = lab.ip("west", "xfrm", "state"), lab.ip("west", "xfrm", "policy")
    assert policy == "", policy
    # only the kernel's own larval ACQUIRE state may remain (it times out by itself)
    assert "spi 0x00000000" in state or state == "", state
    assert "198.18.2.0/24" not in lab.ip("west", "route")  # unroute removed the route
    assert not tracebacks(lab.log("west")), lab.log("west")


@needs_root
def test_a_kernel_refusing_the_child_sa_is_logged_reported_and_undone(lab):
    """No ESP in this kernel: east (responder) cannot install and answers; west is told."""
    for host in ("west", "east"):
        lab.start(host, "--impair", "revival")
        lab.whack(host, *CONN)
    done = lab.whack("west", "--name", "west-east", "--initiate", check=False)
    assert done.returncode != 0, done.stdout
    east = lab.log("east")
    # the operation and the errno (ENOSYS for UPDSA here, EPROTONOSUPPORT for NEWSA)
    assert re.search(r"ERROR: kernel: (update|add) SA esp\.[0-9a-f]+@198\.51\.100\.23 failed: "
                     r".* \(errno (38|93)\)", east), east
    assert "ERROR: kernel: delete" not in east, east
    assert "TS_UNACCEPTABLE" in done.stdout, done.stdout
    for host in ("west", "east"):
        state, policy = _ours(lab, host)
        assert policy == "" and state == "", (host, state, policy)
    for host in ("west", "east"):
        lab.whack(host, "--shutdown")
        assert lab.wait_exit(host) == 0
        assert not tracebacks(lab.log(host)), lab.log(host)


