"""The `whack` command: tell a running pluto what to do, print what it says.

``--help``, ``--version``, ``--debug help`` and ``--impair help`` are answered here without
pluto. Exit status as whack(8) says: 1 for whack's own problems (bad options, no pluto),
otherwise what the return codes from pluto add up to (pluto/whack_protocol.exit_status).
"""

from __future__ import annotations

import os
import sys

from pluto import __version__, impair
from pluto.log import debug_help
from whack.client import OutputClosed, WhackClientError, send_request
from whack.options import (
    DEFAULT_RUNDIR,
    WhackUsageError,
    load_daemon_impairs,
    parse_command_line,
)

USAGE = f"""\
usage: whack [options]   (each may also be written --option=value)

add a connection:
  whack --name NAME [--id ID] --host ADDR|%any [--ikeport N] [--nexthop ADDR]
                    [--client SUBNET] [--updown CMD]
              --to  [--id ID] --host ADDR|%any [--ikeport N] [--nexthop ADDR]
                    [--client SUBNET] [--updown CMD]
        [--psk | --rsasig] [--encrypt] [--authenticate] [--tunnel] [--pfs] [--compress]
        [--cert NICKNAME] [--ca DN|%same] [--sendcert always|sendifasked|never]
        (--cert, --ca and --sendcert apply to the end they follow, like --id)
        [--aggressive (IKEv1)] [--xauthuser NAME] [--xauthpass PASS]
        [--disablearrivalcheck] [--ikev2 | --ikev1] [--ike PROPOSALS] [--esp PROPOSALS]
        [--ipv4 | --ipv6] [--tunnelipv4 | --tunnelipv6]
        [--ikelifetime T] [--ipseclifetime T] [--rekeymargin T] [--rekeyfuzz PERCENT]
        [--ipsec-max-bytes N[KiB..EiB]] [--ipsec-max-packets N]
        [--keyingtries N|%forever] [--dontrekey] [--delete (replace it)]
    durations T: seconds, or 30s, 5m, 2h, 1d

act on a connection:
  whack --name NAME --initiate | --terminate | --route | --unroute | --delete
                    | --rekey-ike | --rekey-child   [--asynchronous]
  whack --deletestate N

pluto as a whole:
  whack --listen | --unlisten | --rereadsecrets | --myid ID | --shutdown
  whack --rereadcerts | --rereadall | --listcerts | --listcacerts | --listcrls
  whack --keyid ID --pubkeyrsa KEY [--addkey]
  whack --status | --showstates | --trafficstatus | --globalstatus   [--json]
  whack --debug CLASS[,CLASS] | --no-debug CLASS | --debug-NAME | --debug help
  whack --impair NAME[:VALUE] | --no-impair NAME | --impair none|list|help

common options:
  --rundir DIR       pluto's run directory; the socket is DIR/pluto.ctl
                     (default {DEFAULT_RUNDIR})
  --ctlbase PATH     the old form: the socket is PATH.ctl
  --optionsfrom FILE read more options from FILE (whitespace separated, # comments)
  --label TEXT       put TEXT in front of whack's own error messages
  --help, --version
"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        command = parse_command_line(argv)
    except WhackUsageError as err:
        return _fail(str(err), err.label)
    if command.wants_help:
        print(USAGE, end="")
        return 0
    if command.wants_version:
        print(f"whack {__version__} (Python)")
        return 0
    if command.wants_debug_help or command.wants_impair_help:
        if command.wants_debug_help:
            print(debug_help())
        if command.wants_impair_help:
            load_daemon_impairs()
            print(impair.help_text())
        return 0
    try:
        return send_request(command.socket_path, command.actions, sys.stdout)
    except WhackClientError as err:
        return _fail(str(err), command.label)
    except OutputClosed:
        # whack --status | head: stop quietly; point stdout elsewhere so that Python's own
        # flush at exit does not complain about the closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:  # before the request went out
        return _fail("interrupted", command.label)


def _fail(message: str, label: str | None) -> int:
    prefix = f"whack: {label}: " if label else "whack: "
    print(prefix + message, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
