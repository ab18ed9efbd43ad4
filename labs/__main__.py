"""`python -m labs`: the lab command line.

The topology builder, the real-kernel runner and the scenario harness arrive with issue 6, the
benchmark with issue 11. Until then every sub-command says plainly what is missing and fails,
so nobody mistakes an empty run for a passing one.
"""

from __future__ import annotations

import argparse
import sys

MISSING = {
    "demo": "the default east-west lab (IKEv2 negotiation, traffic through the tunnel, "
            "whack --trafficstatus) needs the daemon (issue 3), the XFRM back end (issue 5) "
            "and the lab harness (issue 6)",
    "up": "building lab topologies arrives with issue 6",
    "down": "building lab topologies arrives with issue 6",
    "status": "building lab topologies arrives with issue 6",
    "exec": "building lab topologies arrives with issue 6",
    "netns-tests": "there are no netns scenarios yet: the lab harness and the scenarios in "
                   "testing/pluto and testing/impair arrive with issue 6",
    "bench": "the benchmark (testing/bench, strongSwan load-tester against pluto, strongSwan "
             "and libreswan) arrives with issue 11",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labs", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=sorted(MISSING), help="what to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the command")
    args = parser.parse_args(argv)
    print(f"labs {args.command}: not implemented yet: {MISSING[args.command]}.", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
