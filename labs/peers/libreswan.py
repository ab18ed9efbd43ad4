"""libreswan 4.10 (unpacked into its own prefix) as a lab peer, one instance per directory.

    peer = Libreswan(Path("/tmp/run/east/libreswan"))
    peer.start(ipsec_conf_text, secrets_text)   # NSS database, pluto, connections added
    peer.whack("--name", "west-east", "--initiate")
    peer.stop()

Its rundir (pluto.ctl, pluto.pid), NSS database, configuration and log are all in the
instance directory; nothing goes to the shared /run. Notes: libreswan's pluto runs
/usr/libexec/ipsec/addconn by absolute path (labs/install_peers.sh links it) and its updown
runs ``ipsec _updown``, so the prefix's sbin is put first on PATH.
"""

from __future__ import annotations

import os
import subprocess
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

PREFIX = Path(os.environ.get("LIBRESWAN_PREFIX", "/opt/libreswan"))


def libexec() -> Path:
    return PREFIX / "usr/libexec/ipsec"


class Libreswan:
    """One libreswan pluto whose files all live in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def rundir(self) -> Path:
        return self.directory / "run"

    @property
    def nssdir(self) -> Path:
        return self.directory / "nss"

    @property
    def config(self) -> Path:
        return self.directory / "ipsec.conf"

    @property
    def secrets(self) -> Path:
        return self.directory / "ipsec.secrets"

    @property
    def log(self) -> Path:
        return self.directory / "pluto.log"

    @property
    def pid_file(self) -> Path:
        # pluto writes its own pluto.pid into the rundir; ours is the PID we started.
        return self.directory / "libreswan.pid"

    def environment(self) -> dict[str, str]:
        path = f"{PREFIX / 'usr/sbin'}:{libexec()}:{os.environ.get('PATH', '/usr/bin:/bin')}"
        return {**os.environ, "PATH": path, "IPSEC_CONFS": str(self.directory)}

    def init_nss(self) -> None:
        """An empty NSS database of our own (PSK needs no certificates, pluto needs the DB)."""
        if (self.nssdir / "cert9.db").exists():
            return
        self.nssdir.mkdir(parents=True, exist_ok=True)
        proc = run_tool([str(PREFIX / "usr/sbin/ipsec"), "initnss", "--nssdir",
                         str(self.nssdir)], env=self.environment())
        if proc.returncode != 0:
            raise PeerError(f"ipsec initnss: exit status {proc.returncode}\n"
                            f"{proc.stdout}{proc.stderr}")

    def start(self, ipsec_conf: str, secrets: str, impairs: tuple[str, ...] = ()) -> int:
        """Write the configuration, start pluto (conns with auto=add are added); its PID."""
        self.rundir.mkdir(parents=True, exist_ok=True)
        self.config.write_text(ipsec_conf)
        self.secrets.write_text(secrets)
        os.chmod(self.secrets, 0o600)
        self.init_nss()
        argv = [str(libexec() / "pluto"), "--nofork", "--stderrlog", "--config", str(self.config),
                "--secretsfile", str(self.secrets), "--rundir", str(self.rundir),
                "--nssdir", str(self.nssdir), "--ipsecdir", str(self.directory),
                # its default dump directory is /run/pluto, absent in a UML guest's fresh /run
                "--dumpdir", str(self.directory), "--nhelpers", "1"]
        for impair in impairs:
            argv += ["--impair", impair]
        ctl = self.rundir / "pluto.ctl"
        pid = start_daemon(argv, self.log, self.pid_file, ready=ctl.exists,
                           env=self.environment())
        # pluto answers on its socket before it has added the connections of the config.
        self.whack("--listen", check=False)
        return pid

    def whack(self, *args: str, check: bool = True, timeout: float = 30.0) -> str:
        """Run libreswan's whack against this pluto; its output (PeerError when it fails)."""
        proc = run_tool([str(libexec() / "whack"), "--rundir", str(self.rundir), *args],
                        env=self.environment(), timeout=timeout)
        output = proc.stdout + proc.stderr
        if check and proc.returncode != 0:
            raise PeerError(f"whack {' '.join(args)}: exit status {proc.returncode}\n{output}")
        return output

    def stop(self) -> bool:
        """Shut pluto down; False when it was not running.

        ``whack --shutdown`` first: only then does pluto remove the bypass policies it added
        to the kernel at start-up (IPv6 neighbour discovery). The PID we started is stopped
        by signal if it is still there afterwards."""
        if not self.pid_file.exists() or not is_running(read_pid(self.pid_file)):
            self.pid_file.unlink(missing_ok=True)
            return False
        pid = read_pid(self.pid_file)
        try:
            self.whack("--shutdown", check=False, timeout=10.0)
        except PeerError:
            pass  # the signal below does it
        deadline = time.monotonic() + 5.0
        while is_running(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        stop_daemon(self.pid_file)
        remove_nd_bypass()
        return True


def remove_nd_bypass() -> None:
    """Delete the IPv6 neighbour-discovery bypass policies libreswan's pluto adds at start-up.

    libreswan 4.10 leaves them in the kernel even after ``whack --shutdown``; the lab must end
    with no XFRM state, and these are the only policies of that shape it adds."""
    for icmp_type in ("135", "136"):
        for direction in ("out", "fwd", "in"):
            subprocess.run(["ip", "-6", "xfrm", "policy", "delete", "src", "::/0", "dst", "::/0",
                            "proto", "ipv6-icmp", "type", icmp_type, "dir", direction],
                           capture_output=True, check=False)


def ipsec_conf(name: str, left: str, leftid: str, leftsubnet: str, right: str, rightid: str,
               rightsubnet: str, ike: str | None = None, esp: str | None = None) -> str:
    """A libreswan ipsec.conf with one IKEv2 PSK connection (auto=add; one keying try, so that
    a failed initiate ends at once instead of retrying for ever), for tests and benches."""
    lines = ["config setup", "    ikev1-policy=drop", "", f"conn {name}",
             "    ikev2=yes", "    authby=secret", f"    left={left}",
             f"    leftid={leftid}", f"    leftsubnet={leftsubnet}", f"    right={right}",
             f"    rightid={rightid}", f"    rightsubnet={rightsubnet}", "    keyingtries=1",
             "    auto=add"]
    if ike:
        lines.append(f"    ike={ike}")
    if esp:
        lines.append(f"    esp={esp}")
    return "\n".join(lines) + "\n"


def check_installed() -> None:
    if not (libexec() / "pluto").is_file():
        raise PeerError(f"libreswan is not unpacked in {PREFIX} (labs/install_peers.sh does it)")
