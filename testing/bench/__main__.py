"""The benchmark: `python -m testing.bench [--quick]` (root), what `tox -e bench` runs.

Our pluto, strongSwan and libreswan as responders to strongSwan's load-tester, one at a time,
interleaved run by run; a Markdown table on stdout, JSON and a PNG plot in --out.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
from pathlib import Path

from labs.peers.daemon import PeerError
from labs.shell import LabError

from . import crypto_floor, report, whack_latency
from .generator import CHARON, INITIATORS, Case
from .responders import RESPONDERS, PlutoResponder
from .runner import measure

HERE = Path(__file__).resolve().parent
CASES = {
    "psk-x25519": Case("psk-x25519", "aes128gcm16-prfsha256-x25519", "aes128gcm16", False),
    "psk-modp2048": Case("psk-modp2048", "aes128-sha256-modp2048", "aes128-sha256", False),
    "psk-x25519-child": Case("psk-x25519-child", "aes128gcm16-prfsha256-x25519", "aes128gcm16",
                             True),
}
FULL_COUNTS = [2000, 10000]
OURS_ALONE = 100000


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m testing.bench", description=__doc__)
    p.add_argument("--quick", action="store_true",
                   help="N=500, one run: checks the harness works, not a speed")
    p.add_argument("--runs", type=int, default=3, help="runs per case and responder (3)")
    p.add_argument("--n", type=int, action="append",
                   help="IKE SA count (repeatable; default 2000 and 10000)")
    p.add_argument("--case", action="append", choices=sorted(CASES),
                   help="only this case (repeatable)")
    p.add_argument("--responder", action="append", choices=sorted(RESPONDERS),
                   help="only this responder (repeatable)")
    p.add_argument("--no-100k", action="store_true",
                   help=f"skip ours alone at N={OURS_ALONE}")
    p.add_argument("--profile", type=Path, metavar="FILE",
                   help="run our pluto under cProfile; FILE gets the last run's statistics")
    p.add_argument("--out", type=Path, default=Path("/tmp/pypluto-bench"),
                   help="where the JSON, the plot and the run directories go")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs: must be at least 1")
    for count in args.n or []:
        if count < INITIATORS or count % INITIATORS:
            p.error(f"--n {count}: must be a positive multiple of {INITIATORS} "
                    "(the generator's initiator threads)")
    return args


def ensure_tools() -> None:
    """The peers (labs/install_peers.sh, idempotent) and the load-tester build, once."""
    subprocess.run(["sh", str(HERE.parent.parent / "labs/install_peers.sh")], check=True,
                   stdout=subprocess.DEVNULL)
    if not CHARON.exists():
        print("building strongSwan's load-tester once (a few minutes)...", file=sys.stderr)
        subprocess.run(["sh", str(HERE / "build_loadtester.sh")], check=True)


def plan(args: argparse.Namespace) -> list[tuple[Case, int, int, list[str]]]:
    """(case, N, run number, responders in this run's order): responders interleaved."""
    counts = [500] if args.quick else (args.n or FULL_COUNTS)
    runs = 1 if args.quick else args.runs
    names = args.responder or ["pluto", "strongswan", "libreswan"]
    steps = []
    for case_name in args.case or list(CASES):
        for count in counts:
            for run in range(runs):
                order = names[run % len(names):] + names[:run % len(names)]
                steps.append((CASES[case_name], count, run, order))
    if not args.quick and not args.no_100k and "pluto" in names:
        steps.append((CASES["psk-x25519"], OURS_ALONE, 0, ["pluto"]))
    return steps


def _interrupted(signum: int, _frame: object) -> None:
    raise SystemExit(f"bench: interrupted by signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # SIGTERM and SIGINT (ignored by default in background jobs) unwind normally, so every
    # run's namespaces and daemons are removed on the way out
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGINT, _interrupted)
    if os.geteuid() != 0:
        print("bench: needs root (network namespaces, taskset, the load-tester build)",
              file=sys.stderr)
        return 2
    try:
        ensure_tools()
    except subprocess.CalledProcessError as e:
        print(f"bench: {' '.join(e.cmd)} failed (exit status {e.returncode})", file=sys.stderr)
        return 2
    if args.profile:
        PlutoResponder.profile_to = args.profile.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    runs = []
    for case, count, run, order in plan(args):
        print(f"{case.name} N={count} run {run + 1}: {', '.join(order)}", file=sys.stderr)
        for name in order:
            try:
                runs.append(measure(name, case, count, args.out / "runs"))
                # each run as it ends, so an interrupted bench keeps what it measured
                with open(args.out / "runs.jsonl", "a") as partial:
                    partial.write(json.dumps(runs[-1].as_dict()) + "\n")
            except (PeerError, LabError) as e:
                print(f"bench: {name} {case.name} N={count}: {e}", file=sys.stderr)
                return 1
    floor = crypto_floor.measure()
    latency = whack_latency.measure(args.out / "whack")
    notes = {name: cls.child_note for name, cls in RESPONDERS.items()}
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.node()}, {platform.machine()}, {os.cpu_count()} CPUs, " \
              f"Linux {platform.release()}, Python {platform.python_version()}"
    print(f"## Benchmark {stamp}\n\n{machine}; command: python -m testing.bench "
          f"{' '.join(sys.argv[1:] if argv is None else argv)}\n")
    print("Cells: min / median / max over the runs (one value when they agree); per-run "
          "lists in run order.\n")
    print(report.markdown(runs, notes))
    print("\nCrypto floor per responder handshake (`cryptography`, µs): "
          + ", ".join(f"{k} {v:.1f}" for k, v in floor.items()))
    print("whack --initiate to established Child SA, two plutos on loopback (ms): "
          + ", ".join(f"{k} {v:.1f}" for k, v in latency.items()))
    json_path = args.out / "bench.json"
    report.write_json(json_path, runs, {"date": stamp, "machine": machine,
                                        "crypto_floor_us": floor, "whack_initiate_ms": latency,
                                        "child_notes": notes})
    print(f"\njson: {json_path}")
    print(report.plot(args.out / "bench.png", runs))
    # --quick checks the harness: it works only if every generated SA came up on both sides
    short = [f"{r.responder} {r.case} N={r.count}: {r.established_gen}/{r.established_resp}"
             for r in runs if min(r.established_gen, r.established_resp) < r.count]
    if args.quick and short:
        print("bench: SAs missing (generator/responder): " + "; ".join(short), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
