"""``python -m testing.soak [--minutes M] [--tunnels N]``: the soak test of issue 12.

Runs on the host kernel when it carries ESP, else inside User-Mode-Linux (as the netns
scenarios do; PLUTO_LAB_RUNNER=host|uml forces it). Prints the figures and exits 1 with the
reasons when anything failed, 2 when the soak cannot run here.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from labs import uml
from labs.kernel_probe import choose_runner
from labs.runner import LAB_MODULES
from testing.soak import inside, plan
from testing.soak.judge import judge

REPO = Path(__file__).resolve().parent.parent.parent


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m testing.soak", description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=10.0, help="traffic time (default 10)")
    p.add_argument("--tunnels", type=int, default=200, help="connections (default 200)")
    p.add_argument("--traffic-tunnels", type=int, default=20,
                   help="tunnels that carry UDP traffic (default 20)")
    p.add_argument("--rate", type=float, default=5.0, help="datagrams/s per tunnel (default 5)")
    # 200 tunnels: a Child rekey every 60-90 s each, about 3 a second in all
    p.add_argument("--salifetime", type=int, default=120)
    p.add_argument("--ikelifetime", type=int, default=180)
    p.add_argument("--rekeymargin", type=int, default=30)
    p.add_argument("--rekeyfuzz", type=int, default=100, help="percent of the margin")
    p.add_argument("--east-rekey", choices=("yes", "no"), default="yes",
                   help="no: east gets rekey=no, only west starts rekeys (default yes)")
    p.add_argument("--pluto-debug", default="", metavar="CLASSES",
                   help="pluto --debug classes for both daemons (e.g. base), to chase a failure")
    p.add_argument("--keep", type=Path, help="keep the run's files (logs, counts) here")
    args = p.parse_args(argv)
    try:
        plan.tunnels(args.tunnels)
        plan.Lifetimes(args.salifetime, args.ikelifetime, args.rekeymargin,
                       args.rekeyfuzz).validate()
    except ValueError as e:
        p.error(str(e))
    if args.minutes <= 0 or args.rate <= 0 or args.traffic_tunnels < 1:
        p.error("--minutes, --rate and --traffic-tunnels must be positive")
    return args


def skip_reason() -> str | None:
    """Why the soak cannot run on this machine, or None."""
    if os.geteuid() != 0:
        return "the soak needs root (network namespaces, XFRM)"
    runner, why = choose_runner(True)
    if runner == "uml":
        reason = uml.unavailable_reason()
        if reason:
            return f"{why}, and User-Mode-Linux cannot run: {reason}"
    return None


def run(args: argparse.Namespace, workdir: Path, announce=print) -> tuple[list[str], list[str]]:
    """Run the soak into ``workdir``; (report lines, problems)."""
    prefix = f"soak{os.getpid()}"
    inner = [sys.executable, "-m", "testing.soak.inside", str(workdir), prefix,
             "--minutes", str(args.minutes), "--tunnels", str(args.tunnels),
             "--traffic-tunnels", str(args.traffic_tunnels), "--rate", str(args.rate),
             "--salifetime", str(args.salifetime), "--ikelifetime", str(args.ikelifetime),
             "--rekeymargin", str(args.rekeymargin), "--rekeyfuzz", str(args.rekeyfuzz),
             "--east-rekey", args.east_rekey, "--pluto-debug", args.pluto_debug]
    runner, why = choose_runner(True)
    announce(f"soak: running on the {'host kernel' if runner == 'host' else 'User-Mode-Linux kernel'} ({why})")
    if runner == "host":
        inside.main(inner[3:])
    else:
        budget = args.minutes * 60 + 120 + args.tunnels * 3
        guest = uml.run_in_uml(inner, modules=LAB_MODULES, timeout=budget, memory="512M",
                               workdir=str(REPO), prefix=f"pluto-{prefix}")
        if not (workdir / "soak.json").is_file():
            return [], [f"the UML guest did not produce a result:\n{guest.describe()}"]
    return judge(workdir)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    reason = skip_reason()
    if reason:
        print(f"soak: cannot run here: {reason}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="pluto-soak-"))
    try:
        lines, problems = run(args, workdir)
        print("\n".join(lines))
        if args.keep:
            shutil.copytree(workdir, args.keep, dirs_exist_ok=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if problems:
        print("SOAK FAILED:\n  " + "\n  ".join(problems))
        return 1
    print("SOAK PASSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
