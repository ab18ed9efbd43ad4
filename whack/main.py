"""The `whack` command.

whack talks to a running pluto over its control socket; that channel arrives with issue 3.
What works now: ``--help``, ``--version``, ``--debug help``, ``--impair help`` and the
validation of debug and impair arguments (a bad one is named, exit status 1 as whack(8) says
for whack's own problems).
"""

from __future__ import annotations

import sys

from pluto import __version__, impair
from pluto.debug_options import OptionError, extract
from pluto.log import debug_help

USAGE = """\
usage: whack [--name NAME ...connection form...] [--initiate|--terminate|--route|...]
             [--status] [--showstates] [--trafficstatus] [--shutdown]
             [--debug CLASS] [--no-debug CLASS] [--impair NAME[:VALUE]] [--no-impair NAME]
             [--help] [--version]

  --debug help     list the debug classes
  --impair help    list the impairs
"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts, rest = extract(argv)
    except OptionError as err:
        print(f"whack: {err}", file=sys.stderr)
        return 1
    if "--help" in rest or "-h" in rest:
        print(USAGE, end="")
        return 0
    if "--version" in rest:
        print(f"whack {__version__} (Python)")
        return 0
    if opts.wants_debug_help:
        print(debug_help())
        return 0
    if opts.wants_impair_help:
        print(impair.help_text())
        return 0
    print("whack: talking to pluto is not implemented yet (issue 3: the control channel)",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
