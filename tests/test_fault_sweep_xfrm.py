"""The start-up sweep against the host kernel's XFRM, in a namespace made per test.

What a killed pluto leaves (policies with its reqids, larval SAs from ALLOCSPI) is put there
with iproute2's ``ip xfrm``, the independent witness; then the sweep, or a real ``pluto``
started in the namespace, must remove exactly those and nothing of anyone else's. (This
kernel has no ESP, so full SAs cannot be added here; the UML scenario
testing/pluto/fault-kill-restart covers them.)
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pluto.kernel import sweep
from pluto.kernel.xfrm import LARVAL_REQID, XfrmKernel
from pluto.kernel.xfrm_socket import XfrmChannel

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create network namespaces"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2's ip"),
]

REPO = Path(__file__).resolve().parent.parent
_counter = itertools.count()


def _ip(netns: str, *args: str) -> str:
    return subprocess.run(["ip", "-n", netns, *args], check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def netns():
    name = f"pluto-sweep-{os.getpid()}-{next(_counter)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "-n", name, "addr", "add", "198.51.100.45/32", "dev", "lo"],
                       check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def _leave_behind(netns: str) -> None:
    """Ours (reqids 16384, 16388) and someone else's (reqid 1, a manual 100)."""
    tmpl = "tmpl src 198.51.100.45 dst 198.51.100.23 proto esp mode tunnel reqid"
    for src, dst, direction, reqid in (
            ("198.18.1.0/24", "198.18.2.0/24", "out", "16384"),
            ("198.18.2.0/24", "198.18.1.0/24", "fwd", "16384"),
            ("198.18.1.0/24", "198.18.4.0/24", "out", "16388"),
            ("198.18.1.0/24", "198.18.7.0/24", "out", "1"),
            ("198.18.1.0/24", "198.18.8.0/24", "out", "100")):
        _ip(netns, "xfrm", "policy", "add", "src", src, "dst", dst, "dir", direction,
            *tmpl.split(), reqid)
    # a policy with a port selector is deleted all the same (by its index)
    _ip(netns, "xfrm", "policy", "add", "src", "198.18.1.0/24", "dst", "198.18.2.0/24",
        "proto", "udp", "dport", "53", "dir", "out", *tmpl.split(), "16392")
    for reqid in ("16384", "1"):
        _ip(netns, "xfrm", "state", "allocspi", "src", "198.51.100.23", "dst", "198.51.100.45",
            "proto", "esp", "mode", "tunnel", "reqid", reqid, "min", "0x1000",
            "max", "0xffff0000")


def _reqids(text: str) -> list[str]:
    return sorted(line.split("reqid ")[1].split()[0] for line in text.splitlines()
                  if "reqid " in line)


def test_sweep_removes_only_our_reqids(netns):
    _leave_behind(netns)
    channel = XfrmChannel(netns=netns)
    try:
        log: list[str] = []
        result = sweep.sweep(sweep.xfrm_leftovers(channel), log.append)
    finally:
        channel.close()
    assert (result.count("SA"), result.count("policy")) == (1, 4)
    assert not result.failed
    assert _reqids(_ip(netns, "xfrm", "policy")) == ["1", "100"]
    assert _reqids(_ip(netns, "xfrm", "state")) == ["1"]
    assert [line for line in log if "policy 198.18.1.0/24->198.18.2.0/24 dir out" in line] \
        == ["start-up sweep: removed policy 198.18.1.0/24->198.18.2.0/24 dir out reqid=16384 "
            "left by an earlier pluto"]
    assert "start-up sweep: removed policy 198.18.1.0/24->198.18.2.0/24 proto 17 dport 53 " \
        "dir out reqid=16392 left by an earlier pluto" in log
    assert log[-1] == ("start-up sweep: removed 1 SA(s) and 4 policy(ies) with reqids from "
                       "16384 up")


def test_sweep_releases_the_larval_spis_of_our_back_end(netns):
    kernel = XfrmKernel(netns=netns)
    try:
        spi = kernel.allocate_spi("esp", ipaddress.ip_address("198.51.100.23"),
                                  ipaddress.ip_address("198.51.100.45"))
    finally:
        kernel.close()  # the crash: nobody releases it
    assert f"spi {spi:#010x} reqid {LARVAL_REQID} " in _ip(netns, "xfrm", "state")
    channel = XfrmChannel(netns=netns)
    try:
        log: list[str] = []
        sweep.sweep(sweep.xfrm_leftovers(channel), log.append)
    finally:
        channel.close()
    assert log[0] == (f"start-up sweep: removed SA esp.{spi:x}@198.51.100.45 (larval SPI) "
                      "left by an earlier pluto")
    assert _ip(netns, "xfrm", "state").strip() == ""


def test_sweep_of_a_clean_kernel_says_nothing(netns):
    channel = XfrmChannel(netns=netns)
    try:
        log: list[str] = []
        result = sweep.sweep(sweep.xfrm_leftovers(channel), log.append)
    finally:
        channel.close()
    assert result.removed == [] and log == []


def test_pluto_started_after_a_crash_sweeps_before_it_listens(netns, tmp_path):
    _leave_behind(netns)
    rundir = tmp_path / "run"
    rundir.mkdir()
    secrets = tmp_path / "ipsec.secrets"
    secrets.write_text('@west @east : PSK "a secret of the sweep test"\n')
    secrets.chmod(0o600)
    log = tmp_path / "pluto.log"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with open(log, "w") as stderr:
        process = subprocess.Popen(
            ["ip", "netns", "exec", netns, sys.executable, "-m", "pluto", "--nofork",
             "--stderrlog", "--rundir", str(rundir), "--listen", "198.51.100.45",
             "--ikeport", "5500", "--natikeport", "0", "--secretsfile", str(secrets)],
            stdout=subprocess.PIPE, stderr=stderr, env=env, text=True)
    try:
        assert process.stdout.readline().strip() == "Pluto initialized"
        lines = log.read_text().splitlines()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    sweep_lines = [line for line in lines if line.startswith("start-up sweep:")]
    assert len(sweep_lines) == 6 and sweep_lines[0].startswith("start-up sweep: removed SA esp.")
    # the sweep comes before the core and the sockets are in use
    assert lines.index(sweep_lines[-1]) < lines.index("listening for IKE messages")
    assert _reqids(_ip(netns, "xfrm", "policy")) == ["1", "100"]
    assert _reqids(_ip(netns, "xfrm", "state")) == ["1"]
