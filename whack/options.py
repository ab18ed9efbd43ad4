"""whack's command line: whack(8) options in, the action list of pluto/whack_protocol.py out.

The connection form::

    whack --name NAME  [--id ID] --host ADDR|%any [--ikeport N] [--nexthop ADDR]
                       [--client SUBNET] [--updown CMD]
                 --to  [--id ID] --host ADDR|%any [...the same end options...]
                 [--psk|--rsasig] [--encrypt] [--authenticate] [--tunnel] [--pfs]
                 [--compress] [--disablearrivalcheck] [--ikev2|--ikev1] [--aggressive]
                 [--ike S] [--esp S]
                 [--ipv4|--ipv6] [--tunnelipv4|--tunnelipv6] [--ikelifetime T]
                 [--ipseclifetime T] [--rekeymargin T] [--rekeyfuzz P%] [--keyingtries N]
                 [--dontrekey] [--ipsec-max-bytes N[KiB..EiB]] [--ipsec-max-packets N]

Public keys: ``whack --keyid ID --pubkeyrsa KEY [--addkey]`` gives pluto a peer's public key
(``0s`` base64 or ``0x`` hex in the RFC 3110 layout, or PEM); without --addkey it replaces the
ID's keys, and --keyid alone makes pluto forget them.

End options before ``--to`` describe the left end, after it the right end. Connection-wide
options may stand anywhere. As whack(8) describes them, the policy flags --encrypt,
--authenticate, --tunnel, --pfs, --compress and --disablearrivalcheck say what the connection
is, so one not given is sent as false (without --tunnel the connection is transport mode);
with neither --encrypt nor --authenticate it encrypts. Lifetimes and the rest left out take
pluto's defaults.

One command line may ask for several things. They become actions in the order libreswan's
pluto performs a whack message (rcv_whack.c), whatever order they were written in:

    debug, impair, myid, addkey, delete, deletestate, add, listen, unlisten, rereadsecrets,
    rereadcerts (--rereadall: both), route, unroute, initiate, terminate, rekey-ike,
    rekey-child, status, trafficstatus, showstates, listcerts, listcacerts, listcrls, shutdown

so ``--delete`` together with the connection form replaces a connection (the delete then
carries ``"if_exists": true``: a connection that is not there yet is no error), and
``--listen --initiate`` listens first. libreswan runs rekeys before adding; here they run
with initiate and terminate, where a combined command line makes sense. ``--asynchronous``
is accepted with ``--terminate`` (whack(8) lists it there) but the protocol's terminate has
nothing to carry it.

Everything wrong on the command line raises :class:`WhackUsageError`, whose message names
the option; whack prints it as ``whack: MESSAGE`` (``whack: LABEL: MESSAGE`` with --label)
and exits with status 1, as whack(8) says for its own problems.
"""

from __future__ import annotations

import importlib
import ipaddress
import os
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pluto import impair
from pluto.debug_options import DebugImpairOptions, OptionError, extract
from pluto.kernel.volume_limits import LimitError, parse_count

DEFAULT_RUNDIR = "/run/pluto"
CTL_NAME = "pluto.ctl"
MAX_OPTIONSFROM_DEPTH = 10

# Modules of the daemon that register impairs beyond those of the codecs and crypto; whack
# loads them only when it meets an impair name it does not know yet (or prints --impair help).
DAEMON_IMPAIR_MODULES = ("pluto.engine.core",)


class WhackUsageError(ValueError):
    """A bad whack command line; the message names the offending option."""

    def __init__(self, message: str, label: str | None = None) -> None:
        super().__init__(message)
        self.label = label


@dataclass
class WhackCommand:
    """What one whack command line asks for."""

    actions: list[dict[str, Any]]
    socket_path: str
    label: str | None = None
    wants_help: bool = False
    wants_version: bool = False
    wants_debug_help: bool = False
    wants_impair_help: bool = False


def socket_path(rundir: str | None = None, ctlbase: str | None = None) -> str:
    """Where pluto's control socket is: ``CTLBASE.ctl``, ``RUNDIR/pluto.ctl`` or the default."""
    if ctlbase is not None:
        return ctlbase + ".ctl"
    return os.path.join(rundir if rundir is not None else DEFAULT_RUNDIR, CTL_NAME)


def parse_command_line(argv: list[str]) -> WhackCommand:
    """Turn whack's arguments into a :class:`WhackCommand`; WhackUsageError on a bad one."""
    parser = _Parser()
    try:
        parser.run(argv)
        return parser.finish()
    except WhackUsageError as err:
        err.label = parser.label if parser.label is not None else _label_in(argv)
        raise


def _label_in(argv: list[str]) -> str | None:
    """The --label of a command line that failed before its --label was read."""
    for i, arg in enumerate(argv):
        if arg == "--label" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--label="):
            return arg.partition("=")[2]
    return None


# --- values -------------------------------------------------------------------------------

_DURATION = re.compile(r"(\d+)([smhd]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(option: str, text: str) -> int:
    """Seconds from the manual's forms: ``3600``, ``30s``, ``5m``, ``2h``, ``1d``."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise WhackUsageError(f"{option} '{text}': not a duration (seconds, or N followed by "
                              "s, m, h or d)")
    return int(match[1]) * _UNIT_SECONDS[match[2]]


def _count(option: str, text: str) -> int:
    if text.strip().lower() == "%forever":
        return 0
    if not text.strip().isdigit():
        raise WhackUsageError(f"{option} '{text}': not a count (a number; 0 or %forever: "
                              "keep trying)")
    return int(text)


def _percent(option: str, text: str) -> int:
    digits = text.strip().removesuffix("%")
    if not digits.isdigit():
        raise WhackUsageError(f"{option} '{text}': not a percentage")
    return int(digits)


def _volume(bytes_: bool) -> Callable[[str, str], int]:
    """--ipsec-max-bytes N[KiB|MiB|...] and --ipsec-max-packets N (volume_limits.py)."""

    def check(option: str, text: str) -> int:
        try:
            return parse_count(text, bytes_=bytes_)
        except LimitError as err:
            raise WhackUsageError(f"{option} {err}") from None

    return check


def _port(option: str, text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 65535:
        raise WhackUsageError(f"{option} '{text}': not a port number (1-65535)")
    return int(text)


def _address(option: str, text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        raise WhackUsageError(f"{option} '{text}': not an IP address (names are not resolved)"
                              ) from None


def _host(option: str, text: str) -> str:
    if text.strip() == "%any":
        return "%any"
    return str(_address(option, text))


def _subnet(option: str, text: str) -> str:
    if text.strip().lower().startswith(("vhost:", "vnet:")):
        return text.strip()  # a virtual subnet (virtual-private): pluto checks it
    try:
        return str(ipaddress.ip_network(text.strip(), strict=True))
    except ValueError:
        raise WhackUsageError(f"{option} '{text}': not a subnet (ADDRESS/PREFIX with no host "
                              "bits set)") from None


def _identity(option: str, text: str) -> str:
    from pluto.connections.ids import IdentityError, parse_identity

    try:
        parse_identity(text)
    except IdentityError as err:
        raise WhackUsageError(f"{option}: {err}") from None
    return text.strip()


def _public_key(option: str, text: str) -> str:
    """A public key as the manual writes it (0s base64, 0x hex, PEM); checked, sent as is."""
    from pluto.crypto.hostkey import HostKeyError, parse_public_key

    try:
        parse_public_key(text)
    except HostKeyError as err:
        raise WhackUsageError(f"{option}: {err}") from None
    return text.strip()


def _updown(option: str, text: str) -> str:
    if not text.strip():
        raise WhackUsageError(f"{option}: empty command")
    return text


def _proposals(protocol: str) -> Callable[[str, str], str]:
    def check(option: str, text: str) -> str:
        # Only the syntax and the algorithm names are checked here; whether a legacy
        # algorithm is allowed is pluto's decision, for the connection as a whole.
        from pluto.crypto.proposals import ProposalError, parse_proposals

        try:
            parse_proposals(protocol, text, allow_legacy=True)
        except ProposalError as err:
            raise WhackUsageError(f"{option} '{text}': {err}") from None
        return text

    return check


def _connection_name(option: str, text: str) -> str:
    # An instance may be named as pluto prints it: "road"[1] (and road[1]).
    instance = re.fullmatch(r'"([^"\s]+)"(\[\d+\])', text or "")
    if instance:
        return instance.group(1) + instance.group(2)
    if not text or any(c.isspace() or c in "\"'" for c in text):
        raise WhackUsageError(f"{option} '{text}': a connection name is not empty and has no "
                              "spaces or quotes")
    return text


def _serial(option: str, text: str) -> int:
    digits = text.strip().removeprefix("#")
    if not digits.isdigit() or int(digits) == 0:
        raise WhackUsageError(f"{option} '{text}': not a state number (1, 2, ... or #1, #2, ...)")
    return int(digits)


# --- the option table ---------------------------------------------------------------------

# End options: key in the END dict and the check that turns the text into its value.
END_OPTIONS: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    "--id": ("id", _identity),
    "--host": ("host", _host),
    "--ikeport": ("ikeport", _port),
    "--nexthop": ("nexthop", lambda o, t: str(_address(o, t))),
    "--client": ("client", _subnet),
    "--updown": ("updown", _updown),
    # certificates (pluto/certs): a store nickname, the CA to chain to, when to send it
    "--cert": ("cert", lambda _o, t: t),
    "--ca": ("ca", lambda _o, t: t),
    "--sendcert": ("sendcert", lambda _o, t: t),
}

# Connection-wide flags: key and value in the connection description.
CONNECTION_FLAGS: dict[str, tuple[str, Any]] = {
    "--psk": ("auth", "psk"),
    "--rsasig": ("auth", "rsasig"),
    "--encrypt": ("encrypt", True),
    "--authenticate": ("authenticate", True),
    "--tunnel": ("tunnel", True),
    "--pfs": ("pfs", True),
    "--compress": ("compress", True),
    "--disablearrivalcheck": ("disablearrivalcheck", True),
    "--dontrekey": ("rekey", False),
    "--ikev2": ("ikev2", True),
    "--ikev1": ("ikev2", False),
    "--aggressive": ("aggressive", True),  # IKEv1 Aggressive Mode (libreswan's --aggressive)
    "--ipv4": ("host_family", 4),
    "--ipv6": ("host_family", 6),
    "--tunnelipv4": ("client_family", 4),
    "--tunnelipv6": ("client_family", 6),
}

# Connection-wide options with a value.
CONNECTION_VALUES: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    "--ikelifetime": ("ikelifetime", parse_duration),
    "--ipseclifetime": ("ipseclifetime", parse_duration),
    "--rekeymargin": ("rekeymargin", parse_duration),
    "--rekeyfuzz": ("rekeyfuzz", _percent),
    "--keyingtries": ("keyingtries", _count),
    "--ipsec-max-bytes": ("ipsec_max_bytes", _volume(bytes_=True)),
    "--ipsec-max-packets": ("ipsec_max_packets", _volume(bytes_=False)),
    "--ike": ("ike", _proposals("ike")),
    "--esp": ("esp", _proposals("esp")),
}

# Operations without a value; the ones that act on a connection need --name.
OPERATIONS = ("--listen", "--unlisten", "--route", "--unroute", "--initiate", "--terminate",
              "--delete", "--rekey-ike", "--rekey-child", "--status", "--showstates",
              "--trafficstatus", "--globalstatus", "--shutdown", "--rereadsecrets",
              "--rereadcerts",
              "--rereadall", "--listcerts", "--listcacerts", "--listcrls")
NAMED_OPERATIONS = ("--route", "--unroute", "--initiate", "--terminate", "--delete",
                    "--rekey-ike", "--rekey-child")
ASYNC_OPERATIONS = ("--initiate", "--terminate", "--rekey-ike", "--rekey-child")
STATUS_OPERATIONS = ("--status", "--trafficstatus", "--showstates", "--globalstatus")
OTHER_FLAGS = ("--asynchronous", "--async", "--json", "--help", "-h", "--version", "--addkey")

# Options with a value that are neither end nor connection options.
OTHER_VALUES = ("--name", "--deletestate", "--myid", "--label", "--ctlbase", "--rundir",
                "--optionsfrom", "--keyid", "--pubkeyrsa",
                "--xauthuser", "--xauthname", "--xauthpass")  # XAUTH client credentials
DEBUG_VALUES = ("--debug", "--no-debug")
IMPAIR_VALUES = ("--impair", "--no-impair")

_VALUED = (set(END_OPTIONS) | set(CONNECTION_VALUES) | set(OTHER_VALUES) | set(DEBUG_VALUES)
           | set(IMPAIR_VALUES))

# Options given at most once: the parser attribute they set and their check.
_SINGLE_VALUES: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    "--deletestate": ("deletestate", _serial),
    "--myid": ("myid", _identity),
    "--keyid": ("keyid", _identity),
    "--pubkeyrsa": ("pubkeyrsa", _public_key),
    "--ctlbase": ("ctlbase", lambda option, text: text),
    "--rundir": ("rundir", lambda option, text: text),
    "--xauthuser": ("xauthuser", lambda option, text: text),
    "--xauthname": ("xauthuser", lambda option, text: text),  # libreswan's spelling
    "--xauthpass": ("xauthpass", lambda option, text: text),
}

_END_NAMES = ("left end", "right end (after --to)")


@dataclass
class _Parser:
    """One pass over the arguments, --optionsfrom files spliced in where they stand."""

    label: str | None = None
    name: str | None = None
    ends: list[dict[str, Any]] = field(default_factory=lambda: [{}, {}])
    end_index: int = 0
    connection: dict[str, Any] = field(default_factory=dict)
    connection_setters: dict[str, str] = field(default_factory=dict)  # key -> option
    first_connection_option: str | None = None
    operations: set[str] = field(default_factory=set)
    flags: set[str] = field(default_factory=set)
    deletestate: int | None = None
    myid: str | None = None
    keyid: str | None = None
    pubkeyrsa: str | None = None
    rundir: str | None = None
    xauthuser: str | None = None
    xauthpass: str | None = None
    ctlbase: str | None = None
    debug_options: list[list[str | None]] = field(default_factory=list)
    impair_arguments: list[list[str]] = field(default_factory=list)
    checked: DebugImpairOptions = field(default_factory=DebugImpairOptions)
    wants_debug_help: bool = False
    wants_impair_help: bool = False
    _sources: list[Iterator[str]] = field(default_factory=list)

    # -- reading arguments

    def run(self, argv: list[str]) -> None:
        self._sources = [iter(argv)]
        while (arg := self._next()) is not None:
            self._one(arg)

    def _next(self) -> str | None:
        while self._sources:
            arg = next(self._sources[-1], None)
            if arg is not None:
                return arg
            self._sources.pop()
        return None

    def _value(self, option: str) -> str:
        value = self._next()
        if value is None:
            raise WhackUsageError(f"{option} needs a value")
        if value.startswith("--"):
            raise WhackUsageError(f"{option} needs a value (found the option {value})")
        return value

    def _one(self, arg: str) -> None:
        option, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if option.startswith("--debug-"):
            if eq:
                raise WhackUsageError(f"{option} takes no value")
            self._debug(option, None)
            return
        if option in _VALUED:
            self._valued(option, inline if eq else self._value(option))
        elif option in CONNECTION_FLAGS or option in OPERATIONS or option in OTHER_FLAGS:
            if eq:
                raise WhackUsageError(f"{option} takes no value")
            self._flag(option)
        elif option == "--to":
            if eq:
                raise WhackUsageError("--to takes no value")
            if self.end_index == 1:
                raise WhackUsageError("--to given twice (the connection form has two ends)")
            self._note_connection_option("--to")
            self.end_index = 1
        elif option.startswith("-"):
            raise WhackUsageError(f"unknown option '{option}' (try --help)")
        else:
            raise WhackUsageError(f"unexpected argument '{arg}' (whack takes only options; "
                                  "try --help)")

    def _valued(self, option: str, value: str) -> None:
        if option in END_OPTIONS:
            key, check = END_OPTIONS[option]
            end = self.ends[self.end_index]
            if key in end:
                hint = "" if self.end_index else " (is --to missing?)"
                raise WhackUsageError(f"{option} given twice for the "
                                      f"{_END_NAMES[self.end_index]}{hint}")
            self._note_connection_option(option)
            end[key] = check(option, value)
        elif option in CONNECTION_VALUES:
            key, check = CONNECTION_VALUES[option]
            if key in self.connection:
                raise WhackUsageError(f"{option} given twice")
            self._note_connection_option(option)
            self.connection[key] = check(option, value)
        elif option in DEBUG_VALUES:
            self._debug(option, value)
        elif option in IMPAIR_VALUES:
            self._impair(option, value)
        elif option == "--name":
            if self.name is not None:
                raise WhackUsageError(f"--name given twice ('{self.name}' and '{value}')")
            self.name = _connection_name(option, value)
        elif option == "--label":
            self.label = value
        elif option in _SINGLE_VALUES:
            attribute, check = _SINGLE_VALUES[option]
            if getattr(self, attribute) is not None:
                raise WhackUsageError(f"{option} given twice")
            setattr(self, attribute, check(option, value))
        elif option == "--optionsfrom":
            self._optionsfrom(value)

    def _flag(self, option: str) -> None:
        if option in CONNECTION_FLAGS:
            key, value = CONNECTION_FLAGS[option]
            earlier = self.connection_setters.get(key)
            if earlier is not None and self.connection[key] != value:
                raise WhackUsageError(f"{option} conflicts with {earlier}")
            self._note_connection_option(option)
            self.connection[key] = value
            self.connection_setters[key] = option
        elif option in OPERATIONS:
            self.operations.add(option)
        else:
            self.flags.add({"--async": "--asynchronous", "-h": "--help"}.get(option, option))

    def _note_connection_option(self, option: str) -> None:
        if self.first_connection_option is None:
            self.first_connection_option = option

    def _optionsfrom(self, path: str) -> None:
        if len(self._sources) > MAX_OPTIONSFROM_DEPTH:
            raise WhackUsageError(f"--optionsfrom {path}: nested more than "
                                  f"{MAX_OPTIONSFROM_DEPTH} deep (does a file include itself?)")
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read()
        except OSError as err:
            raise WhackUsageError(f"--optionsfrom {path}: {err.strerror or err}") from None
        except UnicodeDecodeError:
            raise WhackUsageError(f"--optionsfrom {path}: not UTF-8 text") from None
        try:
            words = shlex.split(text, comments=True)
        except ValueError as err:
            raise WhackUsageError(f"--optionsfrom {path}: {err}") from None
        self._sources.append(iter(words))

    # -- debug and impair: checked here against the registries, passed on as written

    def _debug(self, option: str, value: str | None) -> None:
        if option == "--debug" and value is not None and value.strip().lower() == "help":
            self.wants_debug_help = True
            return
        args = [option] if value is None else [option, value]
        try:
            extract(args, self.checked)
        except OptionError as err:
            raise WhackUsageError(str(err)) from None
        self.debug_options.append([option, value])

    def _impair(self, option: str, value: str) -> None:
        word = value.strip().lower()
        if option == "--impair" and word == "help":
            self.wants_impair_help = True
            return
        if option == "--impair" and word == "list":
            self.impair_arguments.append([option, value])  # pluto answers with its settings
            return
        tokens = [token for token in value.split(",") if token.strip()]
        if not tokens:
            self._check_impair(option, value)  # the registry's own message for an empty list
        for token in tokens:
            name = token.strip().partition(":")[0].lower().replace("_", "-")
            if not _known_impair(name) and load_daemon_impairs() and not _known_impair(name):
                raise WhackUsageError(f"{option} {value}: unknown impair '{name}' "
                                      "(try --impair help)")
            if _known_impair(name):
                self._check_impair(option, token)
            # else the daemon's modules are not importable here: pluto judges the name
        self.impair_arguments.append([option, value])

    def _check_impair(self, option: str, token: str) -> None:
        try:
            extract([option, token], self.checked)
        except OptionError as err:
            raise WhackUsageError(str(err)) from None

    # -- putting it together

    def finish(self) -> WhackCommand:
        if self.ctlbase is not None and self.rundir is not None:
            raise WhackUsageError("--ctlbase and --rundir both say where pluto is; give one")
        actions = self._actions()
        wants_text = self.wants_debug_help or self.wants_impair_help
        if not actions and not wants_text and not self.flags & {"--help", "--version"}:
            raise WhackUsageError("nothing to do (try --help)")
        return WhackCommand(
            actions=actions,
            socket_path=socket_path(self.rundir, self.ctlbase),
            label=self.label,
            wants_help="--help" in self.flags,
            wants_version="--version" in self.flags,
            wants_debug_help=self.wants_debug_help,
            wants_impair_help=self.wants_impair_help,
        )

    def _actions(self) -> list[dict[str, Any]]:
        adding = self.first_connection_option is not None
        description = self._description() if adding else None
        for option in sorted(self.operations & set(NAMED_OPERATIONS)):
            if self.name is None:
                raise WhackUsageError(f"{option} needs --name")
        asynchronous = "--asynchronous" in self.flags
        if asynchronous and not self.operations & set(ASYNC_OPERATIONS):
            raise WhackUsageError("--asynchronous goes with --initiate, --terminate, "
                                  "--rekey-ike or --rekey-child")
        as_json = "--json" in self.flags
        if as_json and not self.operations & set(STATUS_OPERATIONS):
            raise WhackUsageError("--json goes with --status, --showstates, --trafficstatus or --globalstatus")

        def wanted(option: str) -> bool:
            return option in self.operations

        name = self.name
        actions: list[dict[str, Any]] = []
        if self.debug_options:
            actions.append({"action": "debug", "options": self.debug_options})
        if self.impair_arguments:
            actions.append({"action": "impair", "arguments": self.impair_arguments})
        if self.myid is not None:
            actions.append({"action": "myid", "id": self.myid})
        actions += self._key_actions()
        if wanted("--delete"):
            delete: dict[str, Any] = {"action": "delete", "name": name}
            if adding:
                delete["if_exists"] = True  # delete + add is replace
            actions.append(delete)
        if self.deletestate is not None:
            actions.append({"action": "deletestate", "serial": self.deletestate})
        if description is not None:
            actions.append({"action": "add", "connection": description})
        for option in ("--listen", "--unlisten", "--rereadsecrets", "--rereadcerts"):
            if wanted(option) or (wanted("--rereadall") and option.startswith("--reread")):
                actions.append({"action": option[2:]})
        for option in ("--route", "--unroute", "--initiate", "--terminate", "--rekey-ike",
                       "--rekey-child"):
            if wanted(option):
                action: dict[str, Any] = {"action": option[2:], "name": name}
                if option in ("--initiate", "--rekey-ike", "--rekey-child"):
                    action["async"] = asynchronous
                if option == "--initiate":
                    action.update(self._xauth_credentials())
                actions.append(action)
        if not wanted("--initiate") and (self.xauthuser or self.xauthpass) is not None:
            raise WhackUsageError("--xauthuser/--xauthpass go with --initiate")
        for option in STATUS_OPERATIONS:
            if wanted(option):
                actions.append({"action": option[2:], "json": as_json})
        for option in ("--listcerts", "--listcacerts", "--listcrls"):
            if wanted(option):
                actions.append({"action": option[2:]})
        if wanted("--shutdown"):
            actions.append({"action": "shutdown"})
        if self.name is not None and not adding and not self.operations & set(NAMED_OPERATIONS):
            raise WhackUsageError(f"--name {self.name}: nothing to do with it (give the "
                                  "connection form, --initiate, --terminate, --delete, ...)")
        return actions

    def _xauth_credentials(self) -> dict[str, str]:
        """--xauthuser/--xauthpass: what an IKEv1 XAUTH client answers the server with."""
        given = {"xauthuser": self.xauthuser, "xauthpass": self.xauthpass}
        return {key: value for key, value in given.items() if value is not None}

    def _key_actions(self) -> list[dict[str, Any]]:
        """--keyid ID [--pubkeyrsa KEY] [--addkey]: a key for ID (replacing its keys unless
        --addkey), or without --pubkeyrsa, forget ID's keys (whack(8))."""
        if self.keyid is None:
            for option, given in (("--pubkeyrsa", self.pubkeyrsa is not None),
                                  ("--addkey", "--addkey" in self.flags)):
                if given:
                    raise WhackUsageError(f"{option} needs --keyid")
            return []
        if "--addkey" in self.flags and self.pubkeyrsa is None:
            raise WhackUsageError("--addkey needs --pubkeyrsa")
        return [{"action": "addkey", "id": self.keyid, "pubkey": self.pubkeyrsa,
                 "replace": "--addkey" not in self.flags}]

    def _description(self) -> dict[str, Any]:
        first = self.first_connection_option
        if self.name is None:
            raise WhackUsageError(f"{first} needs --name (the connection form is "
                                  "--name NAME [left end] --to [right end] [options])")
        if self.end_index == 0:
            raise WhackUsageError(f"--name {self.name}: the connection form needs --to between "
                                  "the two ends")
        for end, end_name in zip(self.ends, _END_NAMES, strict=True):
            if "host" not in end:
                raise WhackUsageError(f"--name {self.name}: the {end_name} has no --host")
        self._check_families()
        description: dict[str, Any] = {"name": self.name, "left": self.ends[0],
                                       "right": self.ends[1]}
        # whack(8): the policy flags say what the connection is; a flag not given is off.
        # With neither --encrypt nor --authenticate the connection still encrypts (ESP), as
        # an IPsec connection with no protection at all would be meaningless.
        for key in ("authenticate", "tunnel", "pfs", "compress", "disablearrivalcheck"):
            description[key] = False
        description["encrypt"] = "authenticate" not in self.connection
        description.update(self.connection)
        return description

    def _check_families(self) -> None:
        """Hosts (and nexthops) of one family, clients of one family, as --ipvN say."""
        self._check_family("host_family", "--ipv", ("host", "nexthop"))
        self._check_family("client_family", "--tunnelipv", ("client",))

    def _check_family(self, key: str, family_option: str, fields: tuple[str, ...]) -> None:
        declared = self.connection.get(key)
        first: tuple[str, int] | None = None  # (text, version) of the first address seen
        for end in self.ends:
            for field_name in fields:
                text = end.get(field_name)
                if text is None or text == "%any" or text.startswith(("vhost:", "vnet:")):
                    continue  # virtual subnets have no single family
                version = ipaddress.ip_network(text, strict=False).version
                option = f"--{field_name}"
                if declared is not None and version != declared:
                    raise WhackUsageError(f"{option} {text}: not IPv{declared} "
                                          f"({family_option}{declared} given)")
                if first is not None and version != first[1]:
                    raise WhackUsageError(f"{option} {text}: IPv{version}, but {first[0]} is "
                                          f"IPv{first[1]}; one connection uses one family "
                                          f"(see {family_option}4/{family_option}6)")
                first = first or (text, version)


def _known_impair(name: str) -> bool:
    """Registered here, ``none``, or ``no-NAME`` of a registered NAME."""
    registry = impair.REGISTRY
    return name == "none" or name in registry or (name[:3] == "no-" and name[3:] in registry)


_daemon_impairs_loaded: bool | None = None


def load_daemon_impairs() -> bool:
    """Import the daemon modules that register more impairs; False if they are not there."""
    global _daemon_impairs_loaded
    if _daemon_impairs_loaded is None:
        try:
            for module in DAEMON_IMPAIR_MODULES:
                importlib.import_module(module)
            _daemon_impairs_loaded = True
        except ImportError:
            _daemon_impairs_loaded = False
    return _daemon_impairs_loaded
