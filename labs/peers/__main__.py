"""Drive the interop peers from scenario scripts (each command runs in the host's namespace).

    python -m labs.peers strongswan start SWANCTL.CONF   charon with its own strongswan.conf
    python -m labs.peers strongswan initiate NAME        the IKE SA only (childless)
    python -m labs.peers strongswan initiate --child NAME   the IKE SA with Child SA NAME
    python -m labs.peers strongswan terminate NAME
    python -m labs.peers strongswan status               swanctl --list-sas, without times
    python -m labs.peers strongswan swanctl ARGS...      any swanctl command
    python -m labs.peers strongswan stop
    python -m labs.peers libreswan start IPSEC.CONF SECRETS [--impair X]...
    python -m labs.peers libreswan whack ARGS...         libreswan's whack
    python -m labs.peers libreswan stop

The instance lives in ``$HOSTDIR/strongswan`` or ``$HOSTDIR/libreswan`` (``--dir`` to
choose). What is printed is stable from run to run, so it can go into golden transcripts; when
a daemon fails, the end of its log is printed with the error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from labs.peers.daemon import PeerError
from labs.peers.libreswan import Libreswan
from labs.peers.strongswan import StrongSwan


def _instance_dir(args: argparse.Namespace, name: str) -> Path:
    if args.dir is not None:
        return args.dir
    hostdir = os.environ.get("HOSTDIR")
    if not hostdir:
        raise PeerError("no --dir and no $HOSTDIR: where does this instance live?")
    return Path(hostdir) / name


def _strongswan(args: argparse.Namespace) -> list[str]:
    peer = StrongSwan(_instance_dir(args, "strongswan"))
    if args.action == "start":
        peer.start()
        report = peer.load(args.file.read_text())
        # swanctl also complains about the credential folders next to the file it loads.
        return ["charon started"] + [line for line in report.splitlines()
                                     if not line.startswith("opening directory")]
    if args.action == "initiate":
        try:
            if args.child:
                peer.initiate_child(args.name)
            else:
                peer.initiate_ike(args.name)
        except PeerError as e:
            # charon's IKE-level story of the attempt, without thread numbers or byte counts
            return [f"initiating {args.name} failed:"] + [
                line for line in str(e).splitlines()
                if line.startswith("[IKE]") or "failed" in line and not line.startswith("swanctl")]
        return [f"initiated {args.name}"]
    if args.action == "terminate":
        peer.swanctl("--terminate", "--ike", args.name, "--loglevel", "-1", "--timeout", "10")
        return [f"terminated {args.name}"]
    if args.action == "status":
        return peer.status() or ["no IKE SAs"]
    if args.action == "swanctl":
        return peer.swanctl(*args.rest, check=False).splitlines()
    return ["charon stopped" if peer.stop() else "charon was not running"]


def _libreswan(args: argparse.Namespace) -> list[str]:
    peer = Libreswan(_instance_dir(args, "libreswan"))
    if args.action == "start":
        peer.start(args.config.read_text(), args.secrets.read_text(), tuple(args.impair or ()))
        return ["libreswan pluto started"]
    if args.action == "whack":
        return peer.whack(*args.rest, check=False).splitlines()
    return ["libreswan pluto stopped" if peer.stop() else "libreswan pluto was not running"]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m labs.peers",
                                  description=__doc__.splitlines()[0])
    top.add_argument("--dir", type=Path, help="the instance directory")
    peers = top.add_subparsers(dest="peer", required=True)

    swan = peers.add_parser("strongswan").add_subparsers(dest="action", required=True)
    swan.add_parser("start").add_argument("file", type=Path, help="swanctl.conf")
    for action in ("initiate", "terminate"):
        swan.add_parser(action).add_argument("name")
    swan.choices["initiate"].add_argument("--child", action="store_true",
                                          help="the Child SA of that name too")
    swan.add_parser("status")
    swan.add_parser("swanctl")
    swan.add_parser("stop")

    libre = peers.add_parser("libreswan").add_subparsers(dest="action", required=True)
    start = libre.add_parser("start")
    start.add_argument("config", type=Path, help="ipsec.conf")
    start.add_argument("secrets", type=Path, help="ipsec.secrets")
    start.add_argument("--impair", action="append", help="a libreswan impair (repeatable)")
    libre.add_parser("whack")
    libre.add_parser("stop")
    return top


PASSTHROUGH = ("swanctl", "whack")  # everything after these words goes to the tool


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = next((i + 1 for i, word in enumerate(argv) if word in PASSTHROUGH), len(argv))
    args = parser().parse_args(argv[:cut])
    args.rest = argv[cut:]
    try:
        lines = _strongswan(args) if args.peer == "strongswan" else _libreswan(args)
    except PeerError as e:
        print(f"{args.peer} {args.action}: {e}")
        return 1
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
