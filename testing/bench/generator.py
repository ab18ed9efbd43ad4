"""The load generator: strongSwan 5.9.8's charon with the load-tester plugin (built by
build_loadtester.sh), started in the generator namespace on CPU 1.

It initiates ``count`` IKE SAs, each with its own initiator ID (``load-N.bench``), against the
responder's PSK connection, and logs each initiation and establishment with millisecond
timestamps; ``parse_log`` turns that log into the times the figures are computed from.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from labs.peers.daemon import PeerError, is_running, start_daemon, stop_daemon
from labs.shell import in_netns

from .topology import GENERATOR_ADDR, RESPONDER_ADDR

CACHE = Path("/var/cache/pypluto-bench")
CHARON = CACHE / "prefix/libexec/ipsec/charon"
PSK = "bench secret, not for production"
RESPONDER_ID = "responder.bench"
PLUGINS = "random nonce openssl hmac kdf curve25519 gmp pem pkcs1 x509 pubkey kernel-netlink " \
          "socket-default load-tester"
# Initiation pacing: each of INITIATORS threads sleeps 1 ms between initiations, and all of
# them wait while more than INIT_LIMIT IKE SAs are half-open, so a slow responder is fed a
# steady pipeline instead of a burst that only fills its socket buffer. All SAs come from one
# address: the threads may pass the check together, so up to INIT_LIMIT + INITIATORS - 1 = 14
# are half-open, under our pluto's per-peer half-open limit (16, its DoS protection).
INITIATORS = 5
INIT_LIMIT = 10

_TIME = r"^(\d+\.\d+) "
_INITIATING = re.compile(_TIME + r".*initiating IKE_SA load-test\[(\d+)\]")
_ESTABLISHED = re.compile(_TIME + r".*IKE_SA load-test\[(\d+)\] established between")
_RETRANSMIT = re.compile(_TIME + r".*retransmit \d+ of request")


@dataclass(frozen=True)
class Case:
    """One benchmark case: IKE proposal, with or without a Child SA."""

    name: str
    ike: str            # strongSwan proposal string, also what the responders accept
    esp: str
    child: bool

    @property
    def childless(self) -> bool:
        return not self.child


@dataclass
class GeneratorLog:
    initiated: dict[int, float] = field(default_factory=dict)    # SA number -> time
    established: dict[int, float] = field(default_factory=dict)
    retransmits: int = 0


def strongswan_conf(case: Case, count: int, log: Path) -> str:
    """strongswan.conf of the generator: the load-tester section and a timestamped file log."""
    lt = {
        "enable": "yes", "version": "2", "iterations": str(-(-count // INITIATORS)),
        "initiators": str(INITIATORS), "delay": "1", "init_limit": str(INIT_LIMIT),
        "initiator": GENERATOR_ADDR, "responder": RESPONDER_ADDR,
        "proposal": case.ike, "esp": case.esp,
        "initiator_auth": "psk", "responder_auth": "psk",
        "initiator_id": "load-%d.bench", "responder_id": RESPONDER_ID,
        "preshared_key": PSK, "childless": "yes" if case.childless else "no",
        "fake_kernel": "yes", "ike_rekey": "0", "child_rekey": "0", "dpd_delay": "0",
        "shutdown_when_complete": "no", "delete_after_established": "no",
    }
    lines = ["charon {", f"    load = {PLUGINS}", "    threads = 24",
             "    ikesa_table_size = 65536", "    ikesa_table_segments = 16",
             "    install_routes = no",
             "    plugins {", "        load-tester {"]
    lines += [f"            {key} = {value}" for key, value in lt.items()]
    lines += ["        }", "    }",
              "    filelog {", "        bench {", f"            path = {log}",
              "            time_format = %s", "            time_add_ms = yes",
              "            default = 0", "            ike = 1", "            append = no",
              "            flush_line = yes",
              "        }", "    }", "}"]
    return "\n".join(lines) + "\n"


class Generator:
    """One load-tester run in ``directory``, inside namespace ``netns``."""

    def __init__(self, directory: Path, netns: str) -> None:
        self.directory = directory
        self.netns = netns
        self.log = directory / "generator.log"
        self.out = directory / "generator.out"
        self.pid_file = directory / "generator.pid"
        self.conf = directory / "strongswan.conf"

    def start(self, case: Case, count: int) -> int:
        """Start charon; the load test begins as soon as its plugin loads. Its PID."""
        if not CHARON.exists():
            raise PeerError(f"{CHARON}: not built (run testing/bench/build_loadtester.sh)")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(strongswan_conf(case, count, self.log))
        # charon writes /var/run/charon.pid and its control socket: give it a private /run
        # so it never meets another charon of this machine.
        script = "mount -t tmpfs pypluto-bench /run && exec taskset -c 1 " + str(CHARON)
        argv = in_netns(self.netns, ["unshare", "-m", "--propagation", "private",
                                     "sh", "-c", script])
        return start_daemon(argv, self.out, self.pid_file, ready=self.log.exists,
                            env={"STRONGSWAN_CONF": str(self.conf),
                                 "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})

    def wait(self, count: int, timeout: float, idle: float = 15.0) -> GeneratorLog:
        """Wait until ``count`` SAs are established, or nothing new for ``idle`` s."""
        deadline = time.monotonic() + timeout
        last, last_change = -1, time.monotonic()
        established_count = EstablishedCounter(self.log)
        while time.monotonic() < deadline:
            done = established_count()
            if done >= count:
                break
            if done != last:
                last, last_change = done, time.monotonic()
            elif time.monotonic() - last_change > idle:
                break
            if not is_running(int(self.pid_file.read_text().split()[0])):
                break
            time.sleep(0.25)
        return parse_log(self.log.read_text(errors="replace"))

    def stop(self) -> None:
        stop_daemon(self.pid_file, grace=5.0)


class EstablishedCounter:
    """Counts establishments in the growing log, reading only what was appended since the
    last call (the harness shares the machine with the daemons it measures)."""

    MARK = b"] established between"

    def __init__(self, log: Path) -> None:
        self.log = log
        self.offset = 0
        self.count = 0
        self.partial = b""

    def __call__(self) -> int:
        try:
            with open(self.log, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return self.count
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()   # an unfinished last line waits for the next call
        self.count += sum(1 for line in lines if self.MARK in line)
        return self.count


def parse_log(text: str) -> GeneratorLog:
    """Initiation and establishment times per SA number, and the retransmissions."""
    result = GeneratorLog()
    for line in text.splitlines():
        if m := _ESTABLISHED.match(line):
            result.established.setdefault(int(m[2]), float(m[1]))
        elif m := _INITIATING.match(line):
            result.initiated.setdefault(int(m[2]), float(m[1]))
        elif _RETRANSMIT.match(line):
            result.retransmits += 1
    return result
