"""The `ipsec` front end in the libreswan style.

    ipsec [--config FILE] [--rundir DIR | --ctlbase PATH] COMMAND [ARGS...]

==========================  ==============================================================
start                       start pluto with ipsec.conf (``pluto --config FILE``): config
                            setup gives its options, conns with auto=add/route/start load
stop                        ``whack --shutdown``
restart                     stop (when running), wait for pluto to exit, start
add NAME                    read conn NAME from ipsec.conf and add it (replacing a
                            connection of that name); leftsubnets give NAME/1x1, ...
delete NAME                 ``whack --delete`` (each NAME/NxM of a leftsubnets conn)
up NAME / down NAME         initiate / terminate
route NAME / unroute NAME   route / unroute
status, trafficstatus,      ``whack --status`` ...
showstates
listen, rereadsecrets       ``whack --listen``, ``whack --rereadsecrets``
whack ARGS / pluto ARGS     run whack or pluto with ARGS
_kernel state|policy        ``ip xfrm state`` / ``ip xfrm policy``
==========================  ==============================================================

The global options may also follow the command (``ipsec add --config FILE NAME``). pluto is
found through ``--rundir``/``--ctlbase``, else the ``rundir`` of config setup, else /run/pluto.
Exit status: whack's for the commands that talk to pluto, 1 for the front end's own problems
(a bad configuration, no pluto), 2 for a bad command line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from pluto import __version__

DEFAULT_CONFIG = "/etc/ipsec.conf"
STOP_TIMEOUT = 20.0

USAGE = """\
usage: ipsec [--config FILE] [--rundir DIR | --ctlbase PATH] COMMAND [ARGS...]

commands:
  start | stop | restart             start pluto with ipsec.conf, shut it down, both
  add NAME | delete NAME             load conn NAME from ipsec.conf / remove it
  up NAME | down NAME                initiate / terminate
  route NAME | unroute NAME          route / unroute
  status | trafficstatus | showstates | listen | rereadsecrets
  rereadcerts | rereadall            reload the certificate store / secrets and certificates
  listcerts | listcacerts | listcrls list the certificate store's contents
  whack ARGS... | pluto ARGS...      run whack or pluto
  _kernel state | _kernel policy     show the kernel's IPsec SAs / policies (ip xfrm)
  --version | --help
"""

NAMED = {"add", "delete", "up", "down", "route", "unroute"}
SIMPLE = {"status": "status", "trafficstatus": "trafficstatus", "showstates": "showstates",
          "listen": "listen", "rereadsecrets": "rereadsecrets", "rereadcerts": "rereadcerts",
          "listcerts": "listcerts", "listcacerts": "listcacerts", "listcrls": "listcrls"}
_GLOBAL_VALUED = ("--config", "--rundir", "--ctlbase")


class UsageError(ValueError):
    pass


class FrontEndError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        options, verb, rest = _split(argv)
    except UsageError as err:
        print(f"ipsec: {err}", file=sys.stderr)
        return 2
    if verb in (None, "help", "--help", "-h"):
        print(USAGE, end="")
        return 0 if verb else 2
    if verb in ("--version", "version"):
        print(f"ipsec (pluto in Python) {__version__}")
        return 0
    if verb == "pluto":
        from pluto.main import main as pluto_main
        return pluto_main(_pluto_location(options) + rest)
    if verb == "whack":
        from whack.main import main as whack_main
        return whack_main(_whack_location(options, rest) + rest)
    try:
        return _command(options, verb, rest)
    except UsageError as err:
        print(f"ipsec {verb}: {err}", file=sys.stderr)
        return 2
    except FrontEndError as err:
        print(f"ipsec {verb}: {err}", file=sys.stderr)
        return 1


def _split(argv: list[str]) -> tuple[dict[str, str], str | None, list[str]]:
    """Global options (before or after the command, up to whack/pluto's own arguments),
    the command, and the rest."""
    options: dict[str, str] = {}
    verb: str | None = None
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, inline = arg.partition("=")
        if verb in ("whack", "pluto"):
            rest.append(arg)
        elif name in _GLOBAL_VALUED:
            if name in options:
                raise UsageError(f"{name} given twice")
            if eq:
                options[name] = inline
            elif i + 1 < len(argv):
                i += 1
                options[name] = argv[i]
            else:
                raise UsageError(f"{name} needs a value")
        elif verb is None:
            verb = arg
        else:
            rest.append(arg)
        i += 1
    if "--rundir" in options and "--ctlbase" in options:
        raise UsageError("--ctlbase and --rundir both say where pluto is; give one")
    return options, verb, rest


def _pluto_location(options: dict[str, str]) -> list[str]:
    return [arg for name in ("--config", "--rundir", "--ctlbase") if name in options
            for arg in (name, options[name])]


def _whack_location(options: dict[str, str], rest: list[str]) -> list[str]:
    if any(arg.split("=")[0] in ("--rundir", "--ctlbase") for arg in rest):
        return []
    return [arg for name in ("--rundir", "--ctlbase") if name in options
            for arg in (name, options[name])]


# --- the commands ----------------------------------------------------------------------

def _command(options: dict[str, str], verb: str, rest: list[str]) -> int:
    if verb == "_kernel":
        return _kernel(rest)
    if verb in NAMED:
        if len(rest) != 1:
            raise UsageError(f"expected one connection name (ipsec {verb} NAME)")
        return _named(options, verb, rest[0])
    if rest:
        raise UsageError(f"unexpected argument '{rest[0]}'")
    if verb in SIMPLE:
        return _send(options, [{"action": SIMPLE[verb], **_json_flag(verb)}])
    if verb == "rereadall":  # secrets first: the store may need their passwords
        return _send(options, [{"action": "rereadsecrets"}, {"action": "rereadcerts"}])
    if verb == "start":
        return _start(options)
    if verb == "stop":
        return _stop(options, quiet_if_stopped=False)
    if verb == "restart":
        _stop(options, quiet_if_stopped=True)
        return _start(options)
    raise UsageError("unknown command (try ipsec --help)")


def _json_flag(verb: str) -> dict[str, Any]:
    return {"json": False} if verb in ("status", "trafficstatus", "showstates") else {}


def _named(options: dict[str, str], verb: str, name: str) -> int:
    if verb == "add":
        # ipsec add replaces a connection of the same name, as libreswan's does.
        actions: list[dict[str, Any]] = []
        for desc in _descriptions(options, name):
            actions.append({"action": "delete", "name": desc["name"], "if_exists": True})
            actions.append({"action": "add", "connection": desc})
        return _send(options, actions)
    names = _names(options, name)
    action = {"delete": "delete", "up": "initiate", "down": "terminate", "route": "route",
              "unroute": "unroute"}[verb]
    actions = []
    for each in names:
        request: dict[str, Any] = {"action": action, "name": each}
        if action == "initiate":
            request["async"] = False
        actions.append(request)
    return _send(options, actions)


def _descriptions(options: dict[str, str], name: str) -> list[dict[str, Any]]:
    from pluto.config.conn_to_description import checked_descriptions
    from pluto.config.lexer import ConfigError

    try:
        return checked_descriptions(_conf(options), name)
    except ConfigError as err:
        raise FrontEndError(str(err)) from None


def _names(options: dict[str, str], name: str) -> list[str]:
    """The connections pluto knows conn ``name`` by: NAME/1x1, ... for leftsubnets."""
    from pluto.config.conn_to_description import descriptions
    from pluto.config.lexer import ConfigError

    path = options.get("--config", DEFAULT_CONFIG)
    if not os.path.exists(path):
        return [name]
    try:
        conf = _conf(options)
        if name not in conf.conns:
            return [name]
        return [desc["name"] for desc in descriptions(conf.conns[name])]
    except (ConfigError, FrontEndError):
        return [name]  # pluto knows best what it has


def _conf(options: dict[str, str]):
    from pluto.config.ipsec_conf import load
    from pluto.config.lexer import ConfigError

    path = options.get("--config", DEFAULT_CONFIG)
    try:
        return load(path)
    except ConfigError as err:
        raise FrontEndError(str(err)) from None


def socket_path(options: dict[str, str]) -> str:
    """pluto's control socket: --ctlbase, --rundir, config setup's rundir, the default."""
    from whack.options import socket_path as whack_socket_path

    if "--rundir" in options or "--ctlbase" in options:
        return whack_socket_path(options.get("--rundir"), options.get("--ctlbase"))
    path = options.get("--config", DEFAULT_CONFIG)
    if os.path.exists(path):
        rundir = _conf(options).setup.get("rundir")
        if rundir is not None:
            return whack_socket_path(rundir.value, None)
    return whack_socket_path(None, None)


def _send(options: dict[str, str], actions: list[dict[str, Any]]) -> int:
    from whack.client import WhackClientError, send_request

    try:
        return send_request(socket_path(options), actions, sys.stdout)
    except WhackClientError as err:
        raise FrontEndError(str(err)) from None


def _start(options: dict[str, str]) -> int:
    config = options.get("--config", DEFAULT_CONFIG)
    if not os.path.exists(config):
        raise FrontEndError(f'no configuration file "{config}" (give --config FILE)')
    _conf(options)  # a broken file is reported here, with its line, not by a dying daemon
    argv = [sys.executable, "-m", "pluto", "--config", config,
            *[arg for name in ("--rundir", "--ctlbase") if name in options
              for arg in (name, options[name])]]
    # pluto forks; its parent returns once the daemon is ready (or says why it is not).
    return subprocess.run(argv).returncode


def _stop(options: dict[str, str], *, quiet_if_stopped: bool) -> int:
    from whack.client import PlutoNotRunning, WhackClientError, send_request

    path = socket_path(options)
    try:
        code = send_request(path, [{"action": "shutdown"}], sys.stdout)
    except PlutoNotRunning as err:
        if quiet_if_stopped:
            return 0
        raise FrontEndError(str(err)) from None
    except WhackClientError as err:
        raise FrontEndError(str(err)) from None
    _wait_until_gone(path)
    return code


def _wait_until_gone(ctl_path: str) -> None:
    """pluto removes its control socket, then its lock file, as it exits; wait for both."""
    pid_path = ctl_path.removesuffix(".ctl") + ".pid"
    deadline = time.monotonic() + STOP_TIMEOUT
    while os.path.exists(ctl_path) or os.path.exists(pid_path):
        if time.monotonic() > deadline:
            raise FrontEndError(f'pluto has not exited after {STOP_TIMEOUT:g}s ("{pid_path}" '
                                "is still there)")
        time.sleep(0.05)


def _kernel(rest: list[str]) -> int:
    if len(rest) != 1 or rest[0] not in ("state", "policy"):
        raise UsageError("expected 'state' or 'policy' (ipsec _kernel state|policy)")
    try:
        return subprocess.run(["ip", "xfrm", rest[0]]).returncode
    except FileNotFoundError:
        raise FrontEndError("the 'ip' command (iproute2) is not installed; it shows the "
                            "kernel's IPsec SAs and policies") from None


if __name__ == "__main__":
    sys.exit(main())
