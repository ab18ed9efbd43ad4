"""The three responders under test, each started in the responder namespace on CPU 0 with the
same PSK connection (right=%any, rightid=%any) for the case's proposal.

    responder = RESPONDERS["pluto"](directory, netns)
    pid = responder.start(case)     # the PID whose process tree /proc is read for
    responder.established()         # IKE SAs it holds as established
    responder.stop()
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

from labs.peers.daemon import (
    PeerError,
    is_running,
    read_pid,
    run_tool,
    start_daemon,
    stop_daemon,
)
from labs.peers.libreswan import Libreswan, libexec
from labs.peers.strongswan import PLUGINS as STRONGSWAN_PLUGINS
from labs.shell import in_netns

from .generator import PSK, RESPONDER_ID, Case
from .topology import RESPONDER_ADDR

PIN = ["taskset", "-c", "0"]
_ESTABLISHED_IKE = re.compile(r"ESTABLISHED_IKE_SA")

# The same proposal in each implementation's syntax, keyed by the strongSwan string.
LIBRESWAN_IKE = {"aes128gcm16-prfsha256-x25519": "aes_gcm128-sha2_256-dh31",
                 "aes128-sha256-modp2048": "aes128-sha2_256-modp2048"}
PLUTO_IKE = {"aes128gcm16-prfsha256-x25519": "aes_gcm128-sha2_256;x25519",
             "aes128-sha256-modp2048": "aes128-sha2_256;modp2048"}
LIBRESWAN_ESP = {"aes128gcm16": "aes_gcm128", "aes128-sha256": "aes128-sha2_256"}


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


class Responder:
    name = "?"
    # What happens to the Child SA on this host (no ESP in the kernel); shown in the table.
    child_note = ""

    def __init__(self, directory: Path, netns: str) -> None:
        self.directory = directory
        self.netns = netns
        self.pid_file = directory / "responder.pid"
        self.log = directory / "responder.log"

    def start(self, case: Case) -> int:
        raise NotImplementedError

    def established(self) -> int:
        raise NotImplementedError

    def stop(self) -> None:
        stop_daemon(self.pid_file, grace=10.0)

    def abort(self) -> None:
        """Stop without the orderly deletion of every SA (too slow to wait for at 100,000)."""
        stop_daemon(self.pid_file, grace=1.0)


class PlutoResponder(Responder):
    """Our pluto, --noklips (Child SAs are recorded in memory)."""

    name = "pluto"
    child_note = "in memory (--noklips)"
    # --profile: run pluto under cProfile, the statistics written here when it exits
    profile_to: Path | None = None

    def ipsec_conf(self, case: Case) -> str:
        return "\n".join([
            "config setup", "\tuniqueids=no", "",
            "conn bench", "\tauthby=secret", "\tikev2=insist", f"\tleft={RESPONDER_ADDR}",
            f"\tleftid=@{RESPONDER_ID}", "\tright=%any", "\trightid=%any",
            f"\tike={PLUTO_IKE[case.ike]}", f"\tesp={LIBRESWAN_ESP[case.esp]}",
            "\trekey=no", "\tauto=add", ""])

    def start(self, case: Case) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        conf, secrets = self.directory / "ipsec.conf", self.directory / "ipsec.secrets"
        conf.write_text(self.ipsec_conf(case))
        secrets.write_text(f'@{RESPONDER_ID} %any : PSK "{PSK}"\n')
        os.chmod(secrets, 0o600)
        self.rundir = self.directory / "run"
        self.rundir.mkdir(exist_ok=True)
        python = [sys.executable]
        if self.profile_to is not None:
            python += ["-m", "cProfile", "-o", str(self.profile_to)]
        argv = in_netns(self.netns, [*PIN, *python, "-m", "pluto", "--nofork",
                                     "--noklips", "--config", str(conf), "--secretsfile",
                                     str(secrets), "--rundir", str(self.rundir), "--listen",
                                     RESPONDER_ADDR, "--logfile",
                                     str(self.directory / "pluto.log")])
        ctl = self.rundir / "pluto.ctl"
        return start_daemon(argv, self.log, self.pid_file, ready=ctl.exists, env=_env(),
                            timeout=30.0)

    def whack(self, *args: str) -> str:
        proc = run_tool([sys.executable, "-m", "whack", "--rundir", str(self.rundir), *args],
                        timeout=120.0)
        return proc.stdout + proc.stderr

    def established(self) -> int:
        return len(_ESTABLISHED_IKE.findall(self.whack("--showstates")))

    def stop(self) -> None:
        self.whack("--shutdown")
        # let it exit on its own: under --profile it still writes its statistics
        deadline = time.monotonic() + 30.0
        pid = read_pid(self.pid_file) if self.pid_file.exists() else 0
        while pid and is_running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        super().stop()


class StrongSwanResponder(Responder):
    """Debian's charon-systemd with a large IKE SA hash table."""

    name = "strongswan"
    child_note = "kernel install fails (no ESP here): IKE SA kept"

    @property
    def vici(self) -> Path:
        return self.directory / "charon.vici"

    def strongswan_conf(self) -> str:
        return "\n".join([
            "charon {", f"    load = {STRONGSWAN_PLUGINS}", "    install_routes = no",
            "    install_virtual_ip = no",
            # the default table has one bucket: every lookup would walk all SAs
            "    ikesa_table_size = 65536", "    ikesa_table_segments = 16",
            # all generated SAs come from one address: lift the per-address half-open limit
            # (5 by default) and the cookie threshold, as for a large road-warrior gateway
            "    block_threshold = 100000", "    cookie_threshold = 100000",
            "    cookie_threshold_ip = 100000",
            "    plugins {", "        vici {", f"            socket = unix://{self.vici}",
            "        }", "    }", "}",
            "charon-systemd {", "    journal {", "        default = -1", "    }",
            "    filelog {", "        bench {",
            f"            path = {self.directory / 'charon.log'}",
            "            default = 1", "        }", "    }", "}",
            "swanctl {", f"    socket = unix://{self.vici}", "}", ""])

    def swanctl_conf(self, case: Case) -> str:
        return "\n".join([
            "connections {", "    bench {", "        version = 2",
            f"        local_addrs = {RESPONDER_ADDR}", f"        proposals = {case.ike}",
            "        local {", "            auth = psk", f"            id = {RESPONDER_ID}",
            "        }", "        remote {", "            auth = psk", "        }",
            "        children {", "            bench {",
            f"                esp_proposals = {case.esp}",
            "            }", "        }", "    }", "}",
            "secrets {", "    ike-bench {", f'        secret = "{PSK}"', "    }", "}", ""])

    def env(self) -> dict[str, str]:
        return {**_env(), "STRONGSWAN_CONF": str(self.directory / "strongswan.conf")}

    def start(self, case: Case) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "strongswan.conf").write_text(self.strongswan_conf())
        swanctl = self.directory / "swanctl.conf"
        swanctl.write_text(self.swanctl_conf(case))
        os.chmod(swanctl, 0o600)
        argv = in_netns(self.netns, [*PIN, "charon-systemd"])
        pid = start_daemon(argv, self.log, self.pid_file, ready=self.vici.exists, env=self.env())
        self.swanctl("--load-all", "--noprompt", "--file", str(swanctl))
        return pid

    def swanctl(self, *args: str) -> str:
        proc = run_tool(["swanctl", *args], env=self.env(), timeout=60.0)
        if proc.returncode != 0:
            raise PeerError(f"swanctl {' '.join(args)}: {proc.stdout}{proc.stderr}")
        return proc.stdout

    def established(self) -> int:
        # "IKE_SAs: 2000 total, 0 half-open"
        m = re.search(r"IKE_SAs: (\d+) total, (\d+) half-open", self.swanctl("--stats"))
        return int(m[1]) - int(m[2]) if m else 0


class LibreswanResponder(Responder):
    """libreswan 4.10 unpacked in /opt/libreswan (labs/install_peers.sh)."""

    name = "libreswan"
    child_note = "kernel install fails (no ESP here): IKE SA kept"

    def ipsec_conf(self, case: Case) -> str:
        return "\n".join([
            "config setup", "    ikev1-policy=drop", "    uniqueids=no", "",
            "conn bench", "    ikev2=yes", "    authby=secret", f"    left={RESPONDER_ADDR}",
            f"    leftid=@{RESPONDER_ID}", "    right=%any", "    rightid=%any",
            f"    ike={LIBRESWAN_IKE[case.ike]}", f"    esp={LIBRESWAN_ESP[case.esp]}",
            "    rekey=no", "    auto=add", ""])

    def start(self, case: Case) -> int:
        self.peer = Libreswan(self.directory)
        peer = self.peer
        peer.rundir.mkdir(parents=True, exist_ok=True)
        peer.config.write_text(self.ipsec_conf(case))
        peer.secrets.write_text(f'@{RESPONDER_ID} %any : PSK "{PSK}"\n')
        os.chmod(peer.secrets, 0o600)
        peer.init_nss()
        argv = in_netns(self.netns, [*PIN, str(libexec() / "pluto"), "--nofork", "--stderrlog",
                                     "--config", str(peer.config), "--secretsfile",
                                     str(peer.secrets), "--rundir", str(peer.rundir),
                                     "--nssdir", str(peer.nssdir), "--ipsecdir",
                                     str(self.directory), "--nhelpers", "1"])
        pid = start_daemon(argv, self.log, self.pid_file, ready=(peer.rundir / "pluto.ctl").exists,
                           env=peer.environment())
        peer.whack("--listen", check=False)
        return pid

    def established(self) -> int:
        return len(_ESTABLISHED_IKE.findall(self.peer.whack("--showstates", check=False)))

    def stop(self) -> None:
        self.peer.whack("--shutdown", check=False, timeout=60.0)
        # its IPv6 bypass policies live in the responder namespace, deleted with it
        super().stop()


RESPONDERS: dict[str, type[Responder]] = {
    cls.name: cls for cls in (PlutoResponder, StrongSwanResponder, LibreswanResponder)}
