"""labs/peers: configuration writers, status cleaning, the CLI, daemon start/stop by PID, and
(as root, with the peers installed) each peer really started in a throwaway namespace."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labs.peers import libreswan, strongswan
from labs.peers.__main__ import main as peers_main
from labs.peers.daemon import PeerError, is_running, start_daemon, stop_daemon
from labs.peers.strongswan import Connection, StrongSwan, stable_sas, swanctl_conf

CONNECTION = Connection("west-east", "198.51.100.23", "198.51.100.45", "@east", "@west",
                        "a test secret", "198.18.2.0/24", "198.18.1.0/24")


def test_strongswan_conf_keeps_everything_in_the_instance_directory(tmp_path):
    text = StrongSwan(tmp_path).strongswan_conf()
    assert f"socket = unix://{tmp_path}/charon.vici" in text  # for charon's vici and swanctl
    assert text.count(f"unix://{tmp_path}/charon.vici") == 2
    assert f"path = {tmp_path}/charon.log" in text
    assert "/run" not in text
    load = next(line for line in text.splitlines() if line.strip().startswith("load ="))
    assert "vici" in load and "kernel-netlink" in load
    # settings one per line: strongSwan's parser takes no ';' separators
    assert ";" not in text


def test_swanctl_conf_has_one_setting_per_line_and_balanced_sections():
    text = swanctl_conf([CONNECTION])
    assert ";" not in text
    assert text.count("{") == text.count("}")
    for expected in ("local_addrs = 198.51.100.23", "remote_addrs = 198.51.100.45",
                     "id = @east", "id = @west", "local_ts = 198.18.2.0/24",
                     "remote_ts = 198.18.1.0/24", 'secret = "a test secret"'):
        assert expected in text, expected


def test_stable_sas_replaces_spis_and_times():
    listing = (
        "west-east: #2, ESTABLISHED, IKEv2, 27f404e5fe5fe920_i 594a068ca72e0143_r*\n"
        "  local  'east' @ 198.51.100.23[500]\n"
        "  remote 'west' @ 198.51.100.45[500]\n"
        "  AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/CURVE_25519\n"
        "  established 3s ago, rekeying in 14335s\n"
        "  west-east: #1, reqid 1, INSTALLED, TUNNEL, ESP:AES_GCM_16-256\n"
        "    installed 3s ago, rekeying in 3300s, expires in 3957s\n")
    assert stable_sas(listing) == [
        "west-east: #2, ESTABLISHED, IKEv2, SPISPI_i SPISPI_r*",
        "  local  'east' @ 198.51.100.23[500]",
        "  remote 'west' @ 198.51.100.45[500]",
        "  AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/CURVE_25519",
        "  established",
        "  west-east: #1, reqid 1, INSTALLED, TUNNEL, ESP:AES_GCM_16-256",
        "    installed, rekeying, expires",
    ]


def test_libreswan_conf_and_instance_paths(tmp_path):
    text = libreswan.ipsec_conf("west-east", "198.51.100.45", "@west", "198.18.1.0/24",
                                "198.51.100.23", "@east", "198.18.2.0/24", ike="aes256-sha2")
    assert text.startswith("config setup\n")
    assert "    ikev2=yes\n" in text and "    auto=add\n" in text and "    ike=aes256-sha2\n" in text
    peer = libreswan.Libreswan(tmp_path)
    for path in (peer.rundir, peer.nssdir, peer.config, peer.secrets, peer.log, peer.pid_file):
        assert tmp_path in path.parents
    assert peer.environment()["PATH"].startswith(str(libreswan.PREFIX / "usr/sbin"))


def test_daemon_started_and_stopped_by_its_pid(tmp_path):
    marker = tmp_path / "ready"
    script = f"import pathlib, time; pathlib.Path({str(marker)!r}).touch(); time.sleep(60)"
    pid_file = tmp_path / "d.pid"
    pid = start_daemon([sys.executable, "-c", script], tmp_path / "d.log", pid_file,
                       ready=marker.exists)
    assert int(pid_file.read_text()) == pid and is_running(pid)
    with pytest.raises(PeerError, match="already running"):
        start_daemon([sys.executable, "-c", script], tmp_path / "d.log", pid_file,
                     ready=marker.exists)
    assert stop_daemon(pid_file)
    assert not is_running(pid) and not pid_file.exists()
    assert not stop_daemon(pid_file)  # nothing left to stop


def test_daemon_that_exits_is_reported_with_its_log(tmp_path):
    argv = [sys.executable, "-c", "import sys; print('bad configuration'); sys.exit(3)"]
    with pytest.raises(PeerError, match=r"(?s)exited with status 3.*bad configuration"):
        start_daemon(argv, tmp_path / "d.log", tmp_path / "d.pid", ready=lambda: False)
    assert not (tmp_path / "d.pid").exists()


def test_cli_passes_everything_after_the_tool_word_through(tmp_path, capsys, monkeypatch):
    seen = []
    monkeypatch.setattr(libreswan.Libreswan, "whack",
                        lambda self, *args, check=True: seen.append((self.directory, args))
                        or "000 ok")
    assert peers_main(["--dir", str(tmp_path), "libreswan", "whack", "--name", "x",
                       "--initiate"]) == 0
    assert seen == [(tmp_path, ("--name", "x", "--initiate"))]
    assert capsys.readouterr().out == "000 ok\n"


def test_cli_needs_an_instance_directory(monkeypatch, capsys):
    monkeypatch.delenv("HOSTDIR", raising=False)
    assert peers_main(["strongswan", "status"]) == 1
    assert "HOSTDIR" in capsys.readouterr().out


# --- the real daemons, in a namespace of this test's own ------------------------------------

def _can_run_peers() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if shutil.which("charon-systemd") is None or not (libreswan.libexec() / "pluto").is_file():
        return "strongSwan or libreswan missing: labs/install_peers.sh installs them"
    return None


@pytest.fixture
def netns():
    name = f"peers-test-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def _in_netns(netns: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    return subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-m", "labs.peers",
                           "--dir", str(tmp_path), *args],
                          capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.root
def test_strongswan_starts_loads_and_stops_in_a_namespace(netns, tmp_path):
    if (reason := _can_run_peers()) is not None:
        pytest.skip(reason)
    conf = tmp_path / "swanctl.in"
    conf.write_text(swanctl_conf([CONNECTION]))
    try:
        started = _in_netns(netns, tmp_path, "strongswan", "start", str(conf))
        assert started.returncode == 0, started.stdout + started.stderr
        assert "loaded connection 'west-east'" in started.stdout
        listed = _in_netns(netns, tmp_path, "strongswan", "swanctl", "--list-conns")
        assert "west-east: IKEv2" in listed.stdout
        assert _in_netns(netns, tmp_path, "strongswan", "status").stdout == "no IKE SAs\n"
    finally:
        stopped = _in_netns(netns, tmp_path, "strongswan", "stop")
    assert stopped.stdout == "charon stopped\n"
    assert not strongswan.StrongSwan(tmp_path).pid_file.exists()


@pytest.mark.root
def test_libreswan_starts_adds_its_connection_and_stops_in_a_namespace(netns, tmp_path):
    if (reason := _can_run_peers()) is not None:
        pytest.skip(reason)
    conf, secrets = tmp_path / "ipsec.in", tmp_path / "secrets.in"
    conf.write_text(libreswan.ipsec_conf("west-east", "198.51.100.45", "@west",
                                         "198.18.1.0/24", "198.51.100.23", "@east",
                                         "198.18.2.0/24"))
    secrets.write_text('@west @east : PSK "a test secret that is long enough for sha2"\n')
    subprocess.run(["ip", "-n", netns, "addr", "add", "198.51.100.23/24", "dev", "lo"],
                   check=True)
    try:
        started = _in_netns(netns, tmp_path, "libreswan", "start", str(conf), str(secrets))
        assert started.returncode == 0, started.stdout + started.stderr
        status = _in_netns(netns, tmp_path, "libreswan", "whack", "--status").stdout
        assert '"west-east": 198.18.2.0/24===198.51.100.23[@east]' in status
    finally:
        stopped = _in_netns(netns, tmp_path, "libreswan", "stop")
    assert stopped.stdout == "libreswan pluto stopped\n"
    policies = subprocess.run(["ip", "-n", netns, "xfrm", "policy"], capture_output=True,
                              text=True).stdout
    assert policies == ""  # its IPv6 neighbour-discovery bypass policies are gone too
