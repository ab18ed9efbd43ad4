"""The live fuzzer against a running pluto (--noklips) in a lab namespace.

west and east run pluto with an IKEv2 and an IKEv1 tunnel up between them; the fuzzer sends
from west's address to east, in every state: before IKE_SA_INIT, half-open, established and
while both kinds of rekey run, on ports 500 and 4500. Afterwards east still answers
``whack --status``, both tunnels are still up, a fresh one comes up, and neither log holds
a traceback or an internal error. CI: about 10^3 messages; ``--long``: 10^5.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ADDRESS = {"west": "198.51.100.45", "east": "198.51.100.23"}
# name -> (west client, east client, IKE version option)
TUNNELS = {
    "v2": ("198.18.1.0/24", "198.18.2.0/24", "--ikev2"),
    "v1": ("198.18.11.0/24", "198.18.12.0/24", "--ikev1"),
    "fresh": ("198.18.21.0/24", "198.18.22.0/24", "--ikev2"),
}
SECRETS = '@west @east : PSK "live-fuzz-shared-secret"\n'


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "the live fuzzer needs root (network namespaces)"
    if shutil.which("ip") is None:
        return "the live fuzzer needs ip (Debian iproute2)"
    return None


class LivePluto:
    """One pluto process in a lab namespace, and whack to talk to it."""

    def __init__(self, lab, host: str, workdir: Path, debug: str) -> None:
        from labs.shell import in_netns

        self.host = host
        self.dir = workdir / host
        self.rundir = self.dir / "run"
        self.rundir.mkdir(parents=True)
        secrets = self.dir / "ipsec.secrets"
        secrets.write_text(SECRETS)
        secrets.chmod(0o600)
        self.log = self.dir / "pluto.log"
        argv = [sys.executable, "-m", "pluto", "--nofork", "--stderrlog", "--noklips",
                "--rundir", str(self.rundir), "--listen", ADDRESS[host],
                "--secretsfile", str(secrets), "--ikev1-policy", "accept",
                "--impair", "revival", "--debug", debug,
                # The fuzzer has one address: half-open SAs from it must not be capped.
                "--max-halfopen-ike-per-peer", "0"]
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(in_netns(lab.netns(host), argv), stdout=out,
                                            stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 15
        while not (self.rundir / "pluto.ctl").exists():
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "pluto did not create its control socket"
            time.sleep(0.05)

    def whack(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "whack", "--rundir", str(self.rundir),
                               *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)

    def add(self, name: str) -> None:
        west_client, east_client, version = TUNNELS[name]
        done = self.whack("--name", name, "--id", "@west", "--host", ADDRESS["west"],
                          "--client", west_client, "--to", "--id", "@east",
                          "--host", ADDRESS["east"], "--client", east_client,
                          "--psk", "--encrypt", "--tunnel", "--pfs", version)
        assert done.returncode == 0, done.stdout + done.stderr

    def states(self) -> list[dict]:
        done = self.whack("--showstates", "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.whack("--shutdown", timeout=10)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _ike_spis(states: list[dict]) -> list[str]:
    """ISPI:RSPI of the established IKEv2 SAs and IKEv1 ISAKMP SAs."""
    return [f"{s['spi_i']}:{s['spi_r']}" for s in states
            if (s.get("type") == "IKE" and "ESTABLISHED" in s.get("state", ""))
            or s.get("state", "") in ("STATE_MAIN_R3", "STATE_MAIN_I4")]


def _established(states: list[dict], name: str) -> bool:
    wanted = {"STATE_V2_ESTABLISHED_CHILD_SA", "STATE_QUICK_R2", "STATE_QUICK_I2"}
    return any(s.get("connection", "").startswith(f'"{name}"') or s.get("connection") == name
               for s in states if s.get("state") in wanted)


@pytest.mark.root
def test_live_fuzzer(tmp_path: Path, fuzz_long: bool) -> None:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from recorder import write_corpus

    from labs.shell import in_netns
    from labs.topology import Lab

    count = 100_000 if fuzz_long else 1_000
    corpus = tmp_path / "corpus"
    write_corpus(str(corpus))
    lab = Lab(f"fz{os.getpid()}", hosts=["west", "east"])
    plutos: list[LivePluto] = []
    with lab:
        try:
            # debug all runs every field printer on the mutated input (not for 10^5).
            east = LivePluto(lab, "east", tmp_path, "none" if fuzz_long else "all")
            west = LivePluto(lab, "west", tmp_path, "none")
            plutos += [east, west]
            for host in plutos:
                for name in ("v2", "v1"):
                    host.add(name)
            for name in ("v2", "v1"):
                up = west.whack("--name", name, "--initiate")
                assert up.returncode == 0, up.stdout + up.stderr

            def fuzz(phase: str, n: int, seed: int, spis: list[str] = ()) -> subprocess.Popen:
                argv = [sys.executable, str(HERE / "live.py"), "--corpus", str(corpus),
                        "--target", ADDRESS["east"], "--bind", ADDRESS["west"],
                        "--phase", phase, "--count", str(n), "--seed", str(seed)]
                for pair in spis:
                    argv += ["--spis", pair]
                return subprocess.Popen(in_netns(lab.netns("west"), argv),
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)

            def finish(proc: subprocess.Popen) -> dict:
                out, err = proc.communicate(timeout=600)
                assert proc.returncode == 0, err
                return json.loads(out.splitlines()[-1])

            quarter = count // 4
            reports = [finish(fuzz("before-init", quarter, 1)),
                       finish(fuzz("half-open", quarter, 2))]
            spis = _ike_spis(east.states())
            assert len(spis) >= 2, east.states()
            reports.append(finish(fuzz("established", quarter, 3, spis)))
            # During a rekey: the fuzzer runs while west rekeys both SAs of the v2 tunnel.
            running = fuzz("established", quarter, 4, spis)
            for action in ("--rekey-child", "--rekey-ike"):
                done = west.whack("--name", "v2", action)
                assert done.returncode == 0, done.stdout + done.stderr
            reports.append(finish(running))

            sent = sum(r.get("sent", 0) for r in reports)
            assert sent >= count * 0.95, reports
            assert all(r.get("sent-4500", 0) > 0 and r.get("sent-500", 0) > 0 for r in reports)
            assert reports[1].get("half-open-ikev2", 0) > 0, reports[1]
            assert reports[1].get("half-open-ikev1", 0) > 0, reports[1]

            # Still answering, tunnels still up, a fresh one comes up.
            status = east.whack("--status")
            assert status.returncode == 0 and '"v2"' in status.stdout, status.stdout
            states = east.states()
            assert _established(states, "v2") and _established(states, "v1"), states
            for host in plutos:
                host.add("fresh")
            fresh = west.whack("--name", "fresh", "--initiate")
            assert fresh.returncode == 0, fresh.stdout + fresh.stderr
            assert _established(east.states(), "fresh")
        finally:
            for host in plutos:
                host.stop()
    for host in plutos:
        log = host.log.read_text(errors="replace")
        assert "Traceback" not in log and "internal error" not in log, host.log
        assert host.process.returncode == 0, log[-3000:]
