"""The `ipsec` front end in the libreswan style: `ipsec pluto ...`, `ipsec whack ...`.

The other verbs (start, stop, add, up, down, status, ...) arrive with issue 4 and say so.
"""

from __future__ import annotations

import sys

from pluto import __version__

VERBS_LATER = ("start", "stop", "restart", "add", "delete", "up", "down", "route", "unroute",
               "status", "trafficstatus", "showstates", "listen", "rereadsecrets", "_kernel")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("--help", "-h", "help"):
        print("usage: ipsec pluto|whack [ARGS...] | ipsec --version\n"
              f"coming with issue 4: {' '.join(VERBS_LATER)}")
        return 0 if argv else 2
    verb, rest = argv[0], argv[1:]
    if verb in ("--version", "version"):
        print(f"ipsec (pluto in Python) {__version__}")
        return 0
    if verb == "pluto":
        from pluto.main import main as pluto_main
        return pluto_main(rest)
    if verb == "whack":
        from whack.main import main as whack_main
        return whack_main(rest)
    if verb in VERBS_LATER:
        print(f"ipsec {verb}: not implemented yet (issue 4: configuration files and the "
              "ipsec command)", file=sys.stderr)
        return 1
    print(f"ipsec: unknown command '{verb}' (try ipsec --help)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
