"""One soak run on a kernel that carries ESP (the host's, or inside User-Mode-Linux).

    python -m testing.soak.inside WORKDIR PREFIX --minutes M --tunnels N [...]

Builds the west/east lab, adds the tunnels' client addresses, starts our pluto on both ends
with N short-lived connections (west initiates all), waits for them, then runs UDP traffic on
a sample of tunnels while sampling each pluto's RSS and open fds; at the end shuts both
plutos down and reads what is left in the kernels. Writes WORKDIR/soak.json (raw figures
for testing.soak.verdict) and always tears the lab down.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

from labs.shell import in_netns, run
from labs.topology import CLIENT_IF, Lab
from testing.soak import plan, procstat, traffic

ESTABLISHED = re.compile(r'"(soak\d+)" #\d+: initiator established Child SA')
TRAFFIC_PORT = 9  # discard: nothing else listens there in the lab
SAMPLE_EVERY = 3.0


def _start_pluto(lab: Lab, host: str, hostdir: Path, items: list[plan.Tunnel],
                 life: plan.Lifetimes, east_rekeys: bool, debug: str = "") -> int:
    hostdir.mkdir(parents=True, exist_ok=True)
    rundir = hostdir / "run"
    rundir.mkdir(exist_ok=True)
    secrets = hostdir / "ipsec.secrets"
    secrets.write_text(plan.secrets_file(items))
    secrets.chmod(0o600)
    conf = hostdir / "ipsec.conf"
    conf.write_text(plan.ipsec_conf(host, items, life, str(rundir), str(hostdir / "pluto.log"),
                                    str(secrets), east_rekeys))
    stderr = open(hostdir / "pluto.stderr", "w")
    proc = subprocess.Popen(
        in_netns(lab.netns(host), [sys.executable, "-m", "pluto", "--nofork", "--config",
                                   str(conf),
                                   *(["--debug", debug] if debug else [])]),
        stdout=stderr, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    pid_file = rundir / "pluto.pid"
    while time.monotonic() < deadline:
        if pid_file.is_file() and pid_file.read_text().strip().isdigit():
            return int(pid_file.read_text().strip())
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"{host}: pluto did not start:\n{(hostdir / 'pluto.stderr').read_text()}")


def _add_clients(lab: Lab, items: list[plan.Tunnel]) -> None:
    for host, attr in (("west", "west_client"), ("east", "east_client")):
        batch = "".join(f"addr add {getattr(t, attr)}/32 dev {CLIENT_IF}\n" for t in items)
        run(["ip", "-n", lab.netns(host), "-batch", "-"], input_text=batch, timeout=120)


def _wait_established(log: Path, count: int, timeout: float) -> int:
    """How many connections have an established Child SA, waiting up to ``timeout``.

    All N start at once from one peer: the responder's per-peer half-open limit drops some
    IKE_SA_INITs, and those attempts time out and are revived; so this can take minutes."""
    deadline = time.monotonic() + timeout
    seen = 0
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.is_file() else ""
        seen = len(set(ESTABLISHED.findall(text)))
        if seen >= count:
            break
        time.sleep(1.0)
    return seen


def _xfrm_count(lab: Lab, host: str) -> int:
    out = run(["ip", "-n", lab.netns(host), "xfrm", "state", "count"], check=False).stdout
    digits = [w for w in out.split() if w.isdigit()]
    return int(digits[-1]) if digits else -1


def soak(workdir: Path, prefix: str, minutes: float, count: int, traffic_tunnels: int,
         rate: float, life: plan.Lifetimes, east_rekeys: bool = True,
         debug: str = "") -> dict:
    items = plan.tunnels(count)
    carriers = plan.sample(items, traffic_tunnels)
    seconds = minutes * 60
    report: dict = {"tunnels": count, "traffic_tunnels": len(carriers), "seconds": seconds,
                    "rate": rate, "lifetimes": vars(life), "east_rekeys": east_rekeys,
                    "problems": []}
    lab = Lab(prefix, hosts=["west", "east"])
    lab.up()
    started = time.time()
    try:
        _add_clients(lab, items)
        pids = {host: _start_pluto(lab, host, workdir / host, items, life, east_rekeys,
                                   debug)
                for host in ("east", "west")}
        report["pids"] = pids
        established = _wait_established(workdir / "west" / "pluto.log", count,
                                        timeout=90 + count * 2.0)
        report["established_at_start"] = established
        report["setup_seconds"] = time.time() - started
        if established < count:
            report["problems"].append(f"only {established} of {count} tunnels came up")
        pairs = [f"{t.index}:{t.west_client}:{t.east_client}" for t in carriers]
        sink = subprocess.Popen(in_netns(lab.netns("east"), [
            sys.executable, "-m", "testing.soak.traffic", "sink", str(TRAFFIC_PORT),
            str(workdir / "sink.json"), "--seconds", str(seconds + 5)]),
            stderr=open(workdir / "sink.stderr", "w"))
        if not traffic.wait_ready(str(workdir / "sink.json"), timeout=60):
            report["problems"].append("the traffic sink did not start within 60 s")
        report["traffic_started"] = time.time()
        source = subprocess.Popen(in_netns(lab.netns("west"), [
            sys.executable, "-m", "testing.soak.traffic", "source", str(TRAFFIC_PORT),
            str(workdir / "source.json"), "--seconds", str(seconds), "--rate", str(rate),
            *pairs]), stderr=open(workdir / "source.stderr", "w"))
        t0 = time.monotonic()
        samples: dict[str, list] = {"west": [], "east": []}
        sa_counts: list[tuple[float, int, int]] = []
        while source.poll() is None:
            now = time.monotonic() - t0
            for host, pid in pids.items():
                rss, fds = procstat.rss_kib(pid), procstat.open_fds(pid)
                if rss is not None and fds is not None:
                    samples[host].append((now, rss, fds))
            sa_counts.append((now, _xfrm_count(lab, "west"), _xfrm_count(lab, "east")))
            time.sleep(SAMPLE_EVERY)
        sink.terminate()
        sink.wait(timeout=30)
        for name, proc in (("source", source), ("sink", sink)):
            if proc.returncode != 0:
                error = (workdir / f"{name}.stderr").read_text(errors="replace")[-500:]
                report["problems"].append(f"traffic {name} exited with {proc.returncode}: "
                                          f"{error}")
        report["samples"] = samples
        report["sa_counts"] = sa_counts
        for host, pid in pids.items():
            if procstat.rss_kib(pid) is None:
                report["problems"].append(f"{host}: pluto (pid {pid}) died during the run")
        for host in ("west", "east"):
            run(in_netns(lab.netns(host), [sys.executable, "-m", "whack", "--rundir",
                                           str(workdir / host / "run"), "--shutdown"]),
                check=False, timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(
                procstat.rss_kib(pid) is not None for pid in pids.values()):
            time.sleep(0.3)
        report["left_in_kernel"] = lab.kernel_state()
        report["leftover_processes"] = {h: [p[1] for p in ps]
                                        for h, ps in lab.leftover_processes().items()}
    finally:
        lab.down()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testing.soak.inside")
    parser.add_argument("workdir", type=Path)
    parser.add_argument("prefix")
    parser.add_argument("--minutes", type=float, required=True)
    parser.add_argument("--tunnels", type=int, required=True)
    parser.add_argument("--traffic-tunnels", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--salifetime", type=int, required=True)
    parser.add_argument("--ikelifetime", type=int, required=True)
    parser.add_argument("--rekeymargin", type=int, required=True)
    parser.add_argument("--rekeyfuzz", type=int, required=True)
    parser.add_argument("--east-rekey", choices=("yes", "no"), default="yes")
    parser.add_argument("--pluto-debug", default="")
    args = parser.parse_args(argv)
    life = plan.Lifetimes(args.salifetime, args.ikelifetime, args.rekeymargin, args.rekeyfuzz)
    args.workdir.mkdir(parents=True, exist_ok=True)
    try:
        report = soak(args.workdir, args.prefix, args.minutes, args.tunnels,
                      args.traffic_tunnels, args.rate, life, args.east_rekey == "yes",
                      args.pluto_debug)
    except Exception as e:  # the host side reports it; the lab is already down
        report = {"problems": [f"the soak run broke: {e!r}"]}
    (args.workdir / "soak.json").write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
