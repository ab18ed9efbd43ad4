"""`python -m labs`: the lab command line.

    python -m labs up [--prefix P] [--hosts west,east,nic] [--nat MODE] [--capture DIR]
    python -m labs status
    python -m labs exec [--prefix P] HOST -- CMD...
    python -m labs down [--prefix P]
    python -m labs netns-tests [PYTEST ARGS]   every netns scenario (testing/pluto, testing/impair)
    python -m labs demo [--verbose]             the default east-west lab with pluto: IKEv2,
                                                traffic through the tunnel, teardown
    python -m labs bench [ARGS]                 the benchmark: python -m testing.bench ARGS

A lab brought up with ``up`` stays until ``down``; its description is kept in
/tmp/pluto-labs/PREFIX.json. Ctrl-C or SIGTERM while it is being built tears it down.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from labs.hosts import HOSTS, NAT_MODES
from labs.kernel_probe import esp_probe
from labs.shell import LabError, in_netns
from labs.topology import DEFAULT_HOSTS, Lab

STATE_DIR = Path("/tmp/pluto-labs")
DEFAULT_PREFIX = "lab"
REPO = Path(__file__).resolve().parent.parent

NOT_YET: dict[str, str] = {}  # commands announced but not built yet: name -> why


def _state_file(prefix: str) -> Path:
    return STATE_DIR / f"{prefix}.json"


def _load(prefix: str) -> tuple[Lab, dict]:
    path = _state_file(prefix)
    if not path.is_file():
        raise LabError(f"no lab with prefix {prefix!r} (python -m labs status lists them)")
    state = json.loads(path.read_text())
    lab = Lab(prefix, state["hosts"], nat=state["nat"])
    lab.capture_pids = state["capture_pids"]
    return lab, state


def _terminate_as_interrupt(signum, frame):
    raise KeyboardInterrupt


def cmd_up(args) -> int:
    hosts = args.hosts.split(",") if args.hosts else list(DEFAULT_HOSTS)
    capture = Path(args.capture).resolve() if args.capture else None
    lab = Lab(args.prefix, hosts, nat=args.nat, capture_dir=capture)
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    lab.up()  # tears down what it built on failure or Ctrl-C
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    _state_file(args.prefix).write_text(json.dumps(
        {"hosts": hosts, "nat": args.nat, "capture_pids": lab.capture_pids,
         "captures": {lan: str(p) for lan, p in lab.captures().items()}}))
    esp, why = esp_probe()
    print(f"lab {args.prefix!r} up: {', '.join(f'{h}={lab.netns(h)}' for h in hosts)}; "
          f"nat={args.nat}")
    for lan, pcap in lab.captures().items():
        print(f"capturing {lan} into {pcap}")
    print(f"{why}{'' if esp else ': ESP scenarios run inside User-Mode-Linux'}")
    return 0


def cmd_down(args) -> int:
    lab, _ = _load(args.prefix)
    left = lab.down()
    _state_file(args.prefix).unlink()
    if left:
        print(f"could not delete {left}", file=sys.stderr)
        return 1
    print(f"lab {args.prefix!r} down")
    return 0


def cmd_status(args) -> int:
    files = sorted(STATE_DIR.glob("*.json")) if STATE_DIR.is_dir() else []
    if not files:
        print("no labs up")
    for path in files:
        lab, state = _load(path.stem)
        from labs.shell import namespaces

        present = set(namespaces())
        hosts = " ".join(f"{h.name}{'' if lab.netns(h.name) in present else '(gone)'}"
                         for h in lab.hosts)
        print(f"{path.stem}: {hosts}; nat={state['nat']}; captures={state['captures'] or '-'}")
    return 0


def cmd_exec(args) -> int:
    command = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not command:
        print("python -m labs exec HOST -- CMD...", file=sys.stderr)
        return 2
    lab, _ = _load(args.prefix)
    return subprocess.call(in_netns(lab.netns(args.host), command))


def cmd_netns_tests(args) -> int:
    argv = [sys.executable, "-m", "pytest", "-q", "-n", "auto", "-m", "root",
            "testing/pluto", "testing/impair", *args.pytest_args]
    status = subprocess.call(argv, cwd=REPO)
    return 0 if status == 5 else status  # 5: nothing collected


def cmd_demo(args) -> int:
    from labs.demo import run_demo

    return run_demo(verbose=args.verbose)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labs", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="build a lab and leave it running")
    up.add_argument("--prefix", default=DEFAULT_PREFIX)
    up.add_argument("--hosts", help=f"comma-separated subset of {','.join(HOSTS)}")
    up.add_argument("--nat", choices=NAT_MODES, default="none")
    up.add_argument("--capture", metavar="DIR", help="write a pcap per LAN into DIR")
    down = sub.add_parser("down", help="tear a lab down")
    down.add_argument("--prefix", default=DEFAULT_PREFIX)
    sub.add_parser("status", help="list the labs that are up")
    run = sub.add_parser("exec", help="run a command on a lab host")
    run.add_argument("--prefix", default=DEFAULT_PREFIX)
    run.add_argument("host", choices=sorted(HOSTS))
    run.add_argument("argv", nargs=argparse.REMAINDER, help="-- CMD...")
    tests = sub.add_parser("netns-tests", help="run every netns scenario with pytest")
    tests.add_argument("pytest_args", nargs=argparse.REMAINDER)
    demo = sub.add_parser("demo", help="the default east-west lab with pluto: IKEv2, traffic "
                                       "through the tunnel, whack --trafficstatus, teardown")
    demo.add_argument("--verbose", "-v", action="store_true",
                      help="print each host's whole console, not only the highlights")
    bench = sub.add_parser("bench", help="the benchmark against strongSwan and libreswan "
                                         "(python -m testing.bench; --quick for a short run)")
    bench.add_argument("args", nargs=argparse.REMAINDER)
    for name, text in NOT_YET.items():
        later = sub.add_parser(name, help=text.split(";")[0])
        later.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command in NOT_YET:
        print(f"labs {args.command}: not implemented yet: {NOT_YET[args.command]}.",
              file=sys.stderr)
        return 2
    if args.command == "bench":  # the benchmark has its own command line
        return subprocess.call([sys.executable, "-m", "testing.bench", *args.args], cwd=REPO)
    handlers = {"up": cmd_up, "down": cmd_down, "status": cmd_status, "exec": cmd_exec,
                "netns-tests": cmd_netns_tests, "demo": cmd_demo}
    if os.geteuid() != 0 and args.command != "status":
        print("labs: needs root (network namespaces)", file=sys.stderr)
        return 1
    try:
        return handlers[args.command](args)
    except LabError as e:
        print(f"labs {args.command}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"labs {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
