"""strongSwan (charon-systemd + swanctl) as a lab peer, one instance per directory.

    peer = StrongSwan(Path("/tmp/run/east/strongswan"))
    peer.start(swanctl_conf_text)        # writes strongswan.conf, starts charon, loads conns
    peer.initiate_ike("west-east")       # childless: only the IKE SA (RFC 6023)
    print("\n".join(peer.status()))
    peer.stop()

Pitfalls handled here (../shared/lab-notes.md): an explicit plugin list (the default loads
~70 plugins, some of which create files in the /run every namespace shares), the vici socket
in the instance directory for both charon and swanctl, the journal off and a file log on,
settings one per line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from labs.peers.daemon import PeerError, run_tool, start_daemon, stop_daemon

CHARON = "charon-systemd"
SWANCTL = "swanctl"
# Enough for IKEv2 with PSK or raw public keys, AES-GCM/CBC, SHA-1/2, ECP/X25519/MODP, and
# the kernel (netlink) interface; nothing that writes outside the instance directory.
PLUGINS = ("random nonce openssl aes sha1 sha2 hmac gcm kdf curve25519 gmp x509 pubkey pem "
           "pkcs1 pkcs8 kernel-netlink socket-default vici "
           # IKEv1 XAUTH server: Debian has no xauth-generic, so XAUTH checks the password with
           # EAP-MD5 (remote auth = xauth-eap); idle unless a connection asks for XAUTH
           "xauth-eap eap-md5")


@dataclass(frozen=True)
class Connection:
    """One swanctl.conf connection with a pre-shared key (what the interop scenarios use)."""

    name: str
    local_addrs: str
    remote_addrs: str
    local_id: str
    remote_id: str
    psk: str
    local_ts: str = "dynamic"
    remote_ts: str = "dynamic"
    ike_proposals: str = "default"
    esp_proposals: str = "default"


def swanctl_conf(connections: list[Connection]) -> str:
    """swanctl.conf text for ``connections``: one setting per line, as swanctl needs."""
    lines = ["connections {"]
    for c in connections:
        lines += [f"    {c.name} {{", "        version = 2",
                  f"        local_addrs = {c.local_addrs}", f"        remote_addrs = {c.remote_addrs}",
                  f"        proposals = {c.ike_proposals}",
                  "        local {", "            auth = psk", f"            id = {c.local_id}",
                  "        }",
                  "        remote {", "            auth = psk", f"            id = {c.remote_id}",
                  "        }",
                  "        children {", f"            {c.name} {{",
                  f"                local_ts = {c.local_ts}", f"                remote_ts = {c.remote_ts}",
                  f"                esp_proposals = {c.esp_proposals}",
                  "            }", "        }", "    }"]
    lines += ["}", "secrets {"]
    for index, c in enumerate(connections):
        lines += [f"    ike-{index} {{", f"        id-local = {c.local_id}",
                  f"        id-remote = {c.remote_id}", f'        secret = "{c.psk}"', "    }"]
    lines.append("}")
    return "\n".join(lines) + "\n"


class StrongSwan:
    """One charon instance whose files all live in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def conf(self) -> Path:
        return self.directory / "strongswan.conf"

    @property
    def swanctl_file(self) -> Path:
        return self.directory / "swanctl.conf"

    @property
    def socket(self) -> Path:
        return self.directory / "charon.vici"

    @property
    def log(self) -> Path:
        return self.directory / "charon.log"

    @property
    def pid_file(self) -> Path:
        return self.directory / "charon.pid"

    def strongswan_conf(self) -> str:
        """This instance's strongswan.conf: its plugins, its vici socket, its log file."""
        vici = f"unix://{self.socket}"
        return "\n".join([
            "charon {",
            f"    load = {PLUGINS}",
            "    install_routes = no",
            "    install_virtual_ip = no",
            "    retransmit_tries = 2",
            "    plugins {",
            "        vici {",
            f"            socket = {vici}",
            "        }",
            "        xauth-eap {",
            "            backend = md5",
            "        }",
            "    }",
            "}",
            "charon-systemd {",
            "    journal {",
            "        default = -1",
            "    }",
            "    filelog {",
            "        lab {",
            f"            path = {self.log}",
            "            default = 1",
            "            ike = 2",
            "            cfg = 2",
            "            flush_line = yes",
            "        }",
            "    }",
            "}",
            "swanctl {",
            f"    socket = {vici}",
            "}",
        ]) + "\n"

    def environment(self) -> dict[str, str]:
        return {**os.environ, "STRONGSWAN_CONF": str(self.conf)}

    def start(self, swanctl_text: str | None = None) -> int:
        """Write the configuration, start charon, load ``swanctl_text``; return charon's PID."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(self.strongswan_conf())
        pid = start_daemon([CHARON], self.log, self.pid_file, ready=self.socket.exists,
                           env=self.environment())
        if swanctl_text is not None:
            self.load(swanctl_text)
        return pid

    def load(self, swanctl_text: str) -> str:
        """Load connections and secrets; swanctl's report."""
        self.swanctl_file.write_text(swanctl_text)
        os.chmod(self.swanctl_file, 0o600)  # it holds the PSK
        return self.swanctl("--load-all", "--noprompt", "--file", str(self.swanctl_file))

    def swanctl(self, *args: str, check: bool = True, timeout: float = 15.0) -> str:
        """Run swanctl against this instance; its output (PeerError when it fails)."""
        proc = run_tool([SWANCTL, *args], env=self.environment(), timeout=timeout)
        output = proc.stdout + proc.stderr
        if check and proc.returncode != 0:
            raise PeerError(f"swanctl {' '.join(args)}: exit status {proc.returncode}\n{output}")
        return output

    def initiate_ike(self, name: str, timeout: int = 10) -> str:
        """Bring up only the IKE SA of connection ``name`` (childless when the peer agrees).

        swanctl streams charon's log of the attempt; PeerError carries it on failure."""
        return self.swanctl("--initiate", "--ike", name, "--timeout", str(timeout))

    def initiate_child(self, name: str, timeout: int = 10) -> str:
        """Bring up Child SA ``name`` (and its IKE SA, when there is none yet)."""
        return self.swanctl("--initiate", "--child", name, "--timeout", str(timeout))

    def terminate_ike(self, name: str, timeout: int = 10) -> str:
        return self.swanctl("--terminate", "--ike", name, "--timeout", str(timeout))

    def status(self) -> list[str]:
        """``swanctl --list-sas``, without what changes every run (times, rekey jitter)."""
        return stable_sas(self.swanctl("--list-sas"))

    def stop(self) -> bool:
        """Stop charon by its PID; False when it was not running."""
        return stop_daemon(self.pid_file)


def stable_sas(text: str) -> list[str]:
    """swanctl --list-sas lines with IKE SPIs, ages and rekey/reauth/expiry times replaced."""
    lines = []
    for line in text.splitlines():
        line = re.sub(r"\b[0-9a-f]{16}_([ir]\*?)", r"SPISPI_\1", line)  # IKE SPIs
        line = re.sub(r"established \d+s ago(, (rekeying|reauth) in \d+s)*",
                      "established", line)
        line = re.sub(r"(installed|rekeying|expires) (in )?\d+s( ago)?", r"\1", line)
        # Child SA lines: "in  c1d2e3f4,    380 bytes,     5 packets,     4s ago"
        line = re.sub(r"^(\s+(?:in |out)) [0-9a-f]{8},", r"\1 SPISPI,", line)
        line = re.sub(r"(packets),\s+\d+s ago", r"\1", line)
        line = re.sub(r"\s+$", "", line)
        if line:
            lines.append(line)
    return lines


def check_installed() -> None:
    for tool in (CHARON, SWANCTL):
        if not any(os.access(os.path.join(d, tool), os.X_OK)
                   for d in os.environ.get("PATH", "/usr/sbin:/usr/bin").split(":")):
            raise PeerError(f"{tool}: not installed (labs/install_peers.sh installs it)")
