"""The `pluto` command.

The daemon itself (sockets, the whack control channel, IKEv2 exchanges) arrives with issue 3.
What works now is the part of the command line that the foundation provides: ``--help``,
``--version``, and the debug and impair registries (``--debug help``, ``--impair help``,
``--impair list``, and validation of any ``--debug``/``--impair`` argument).
"""

from __future__ import annotations

import sys

from pluto import __version__, impair
from pluto.debug_options import OptionError, extract
from pluto.log import debug_help

USAGE = """\
usage: pluto [--nofork] [--stderrlog] [--logfile FILE] [--rundir DIR] [--ctlbase PATH]
             [--secretsfile FILE] [--ikeport N] [--interface NAME] [--listen ADDR]
             [--uniqueids] [--force-busy] [--noklips] [--nhelpers N]
             [--debug CLASS[,CLASS...]] [--no-debug CLASS] [--debug-NAME]
             [--impair NAME[:VALUE]] [--no-impair NAME]
             [--help] [--version]

  --debug help     list the debug classes
  --impair help    list the impairs; --impair list shows what is set
"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts, rest = extract(argv)
    except OptionError as err:
        print(f"pluto: {err}", file=sys.stderr)
        return 1
    if "--help" in rest or "-h" in rest:
        print(USAGE, end="")
        return 0
    if "--version" in rest:
        print(f"pluto {__version__} (Python)")
        return 0
    if opts.wants_debug_help:
        print(debug_help())
        return 0
    if opts.wants_impair_help:
        print(impair.help_text())
        return 0
    if opts.wants_impair_list:
        print("\n".join(opts.impairs.list_lines()))
        return 0
    print("pluto: the daemon is not implemented yet (issue 3); this build only answers "
          "--help, --version, --debug help and --impair help|list", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
