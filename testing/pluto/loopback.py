"""The loopback scenario runner: real pluto processes (--noklips) on 127.0.0.x, driven by whack.

A scenario is a directory ``loopback-NAME/`` with:

- ``description.txt``: what it shows;
- ``secrets``: the ipsec.secrets every host uses;
- ``script.txt``: one ``HOST: COMMAND`` line per step, run in order (``#`` comments). The
  commands are ``whack ...`` (``--rundir`` of that host's pluto is added) and ``$IKEPORT``
  stands for the IKE port all plutos listen on;
- ``HOST.ipsec.conf`` (optional): that host is configured by ipsec.conf instead. The runner
  writes it to the work directory with ``$IKEPORT``, ``$RUNDIR``, ``$LOGFILE`` and ``$SECRETS``
  filled in, does not start its pluto itself, and runs the script's ``ipsec ...`` commands
  for the host with ``--config`` pointing at it (``ipsec start`` starts the daemon, which
  logs to ``$LOGFILE``; timestamps are sanitized away);
- ``HOST.console.txt``: the expected transcript of each host, libreswan style
  (``west # whack ...`` then its output), and ``HOST.pluto.log``: that host's pluto log.

Hosts are west (127.0.0.1) and east (127.0.0.2). Both transcripts and logs are compared after
sanitizing what changes from run to run (SPIs, times, ports, PIDs). The run also fails on a
traceback in a log, on a pluto that does not exit 0 after the script, and on a lock file or
control socket left behind. ``PLUTO_UPDATE_GOLDEN=1`` rewrites the expected files.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HOSTS = {"west": "127.0.0.1", "east": "127.0.0.2"}
START_TIMEOUT = 20.0
COMMAND_TIMEOUT = 60.0


@dataclass
class Host:
    name: str
    address: str
    rundir: Path
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    console: list[str] = field(default_factory=list)
    config: Path | None = None  # HOST.ipsec.conf in the work directory: started by ipsec


def free_port() -> int:
    """A UDP port free on every host address (checked by binding all of them)."""
    for _ in range(50):
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.bind((HOSTS["west"], 0))
        port = probe.getsockname()[1]
        others = []
        try:
            for address in HOSTS.values():
                if address == HOSTS["west"]:
                    continue
                other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                others.append(other)
                other.bind((address, port))
            return port
        except OSError:
            continue
        finally:
            probe.close()
            for other in others:
                other.close()
    raise RuntimeError("no UDP port free on all loopback host addresses")


def sanitize(text: str, port: int) -> str:
    """Replace what changes every run with fixed words."""
    rules = [
        (rf"(:|UDP/){port}\b", r"\g<1>IKEPORT"),
        (r"(ESP=>|ESPinUDP=>|ESP/ESN=>|<)0x[0-9a-f]{8}", r"\g<1>0xSPISPISP"),
        (r"\b(esp|ah|comp)\.[0-9a-f]+@", r"\1.SPISPISP@"),
        (r"\b[0-9a-f]{16}\b", "IKESPI"),
        (r"add_time=\d+", "add_time=1234567890"),
        (r"\b(REKEY|REPLACE|EXPIRE|RETRANSMIT) in \d+s", r"\1 in XXs"),
        (r"aged \d+(\.\d+)?s", "aged XXs"),
        (r"pid:\d+", "pid:PID"),
        (r"(?m)^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d\.\d{6}: ", ""),  # --logfile stamps
    ]
    for pattern, replacement in rules:
        text = re.sub(pattern, replacement, text)
    return text


class Scenario:
    def __init__(self, directory: Path, workdir: Path) -> None:
        self.directory = directory
        self.workdir = workdir
        self.port = free_port()
        self.hosts: dict[str, Host] = {}
        self.steps = self._read_script()
        self.secrets = workdir / "ipsec.secrets"
        shutil.copyfile(directory / "secrets", self.secrets)
        os.chmod(self.secrets, 0o600)

    def _read_script(self) -> list[tuple[str, str]]:
        steps = []
        path = self.directory / "script.txt"
        for number, line in enumerate(path.read_text().splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            host, sep, command = line.partition(":")
            if not sep or host.strip() not in HOSTS:
                raise ValueError(f"{path}:{number}: expected 'HOST: COMMAND' with HOST one "
                                 f"of {', '.join(HOSTS)}")
            steps.append((host.strip(), command.strip()))
        return steps

    def run(self) -> dict[str, str]:
        """Run the scenario; return {file name: sanitized text} for every golden file."""
        try:
            for name in dict.fromkeys(host for host, _ in self.steps):
                if (self.directory / f"{name}.ipsec.conf").is_file():
                    self._configure(name)
                else:
                    self._start(name)
            for host, command in self.steps:
                self._step(self.hosts[host], command)
            self._wait_for_exit()
        finally:
            self._stop_leftovers()
        outputs = {}
        for host in self.hosts.values():
            console = "\n".join(host.console) + "\n"
            assert host.log_path is not None
            log = host.log_path.read_text()
            # Paths in the work directory (config and secrets files) differ every run.
            outputs[f"{host.name}.console.txt"] = sanitize(
                console.replace(str(self.workdir), "WORKDIR"), self.port)
            outputs[f"{host.name}.pluto.log"] = sanitize(
                log.replace(str(self.workdir), "WORKDIR"), self.port)
        return outputs

    def _start(self, name: str) -> None:
        host = Host(name, HOSTS[name], self.workdir / name)
        host.rundir.mkdir()
        host.log_path = self.workdir / f"{name}.log"
        argv = [sys.executable, "-m", "pluto", "--nofork", "--stderrlog", "--noklips",
                "--rundir", str(host.rundir), "--listen", host.address,
                "--ikeport", str(self.port), "--natikeport", "0",
                "--secretsfile", str(self.secrets)]
        with open(host.log_path, "w") as log:
            host.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, text=True)
        self.hosts[name] = host
        deadline = time.monotonic() + START_TIMEOUT
        assert host.process.stdout is not None
        line = host.process.stdout.readline()  # blocks until "Pluto initialized" or exit
        if "Pluto initialized" not in line or time.monotonic() > deadline:
            raise AssertionError(f"{name}: pluto did not start: {line!r}\n"
                                 f"{host.log_path.read_text()}")

    def _configure(self, name: str) -> None:
        host = Host(name, HOSTS[name], self.workdir / name)
        host.rundir.mkdir()
        host.log_path = self.workdir / f"{name}.log"
        host.log_path.touch()
        text = (self.directory / f"{name}.ipsec.conf").read_text()
        for word, value in (("$IKEPORT", str(self.port)), ("$RUNDIR", str(host.rundir)),
                            ("$LOGFILE", str(host.log_path)), ("$SECRETS", str(self.secrets))):
            text = text.replace(word, value)
        host.config = self.workdir / f"{name}.ipsec.conf"
        host.config.write_text(text)
        self.hosts[name] = host

    def _step(self, host: Host, command: str) -> None:
        words = shlex.split(command.replace("$IKEPORT", str(self.port)))
        if words[0] == "ipsec" and host.config is not None:
            argv = [sys.executable, "-m", "whack.ipsec", "--config", str(host.config),
                    *words[1:]]
        elif words[0] == "whack":
            argv = [sys.executable, "-m", "whack", "--rundir", str(host.rundir), *words[1:]]
        else:
            raise ValueError(f"unsupported command {words[0]!r} (whack, or ipsec for a host "
                             "with HOST.ipsec.conf)")
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        host.console.append(f"{host.name} # {command}")
        output = proc.stdout + proc.stderr
        if output:
            host.console.append(output.rstrip("\n"))
        if proc.returncode != 0:
            host.console.append(f"[exit status {proc.returncode}]")

    def _wait_for_exit(self) -> None:
        for host in self.hosts.values():
            if host.process is None:  # started by ipsec start: ipsec stop waited for it
                pid_file = host.rundir / "pluto.pid"
                if pid_file.exists():
                    raise AssertionError(f"{host.name}: pluto still running after the script "
                                         "(the script must end with ipsec stop)")
                left = sorted(p.name for p in host.rundir.iterdir())
                if left:
                    raise AssertionError(f"{host.name}: files left in the rundir: {left}")
                continue
            try:
                code = host.process.wait(timeout=COMMAND_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise AssertionError(f"{host.name}: pluto still running after the script "
                                     "(the script must end with whack --shutdown)") from None
            if code != 0:
                raise AssertionError(f"{host.name}: pluto exited {code}")
            left = sorted(p.name for p in host.rundir.iterdir())
            if left:
                raise AssertionError(f"{host.name}: files left in the rundir: {left}")

    def _stop_leftovers(self) -> None:
        """On failure, stop (by PID) the plutos this run started; never anything else."""
        for host in self.hosts.values():
            _stop_daemon(host)
            if host.process is not None and host.process.poll() is None:
                host.process.send_signal(signal.SIGTERM)
                try:
                    host.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    host.process.kill()
                    host.process.wait()
            if host.process is not None and host.process.stdout is not None:
                host.process.stdout.close()


def _stop_daemon(host: Host) -> None:
    """A pluto that ``ipsec start`` forked: SIGTERM the PID its lock file names."""
    pid_file = host.rundir / "pluto.pid"
    if host.config is None or not pid_file.exists():
        return
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, signal.SIGTERM)
    except (ValueError, IndexError, OSError):
        return
    deadline = time.monotonic() + 10
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def tracebacks(outputs: dict[str, str]) -> list[str]:
    return [name for name, text in outputs.items() if "Traceback (most recent call last)" in text]
