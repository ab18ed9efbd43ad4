"""The pluto command line (pluto(8)), parsed into :class:`PlutoOptions`.

Debug and impair options go through :mod:`pluto.debug_options`, shared with whack. Every
other option is one of the manual's; a bad one raises :class:`OptionsError` whose message
names it, and pluto exits 1.

``--config FILE`` reads ipsec.conf: its ``config setup`` gives defaults for the options
(pluto/config/setup.py maps each keyword to an option; the command line wins), and at start-up
pluto adds the conns with auto=add, route or start (pluto/config/startup.py).

Ports: ``--ikeport N`` (default 500) moves only the IKE port. The NAT-T port is separate, as in
libreswan: ``--natikeport N`` (also spelt ``--natt-port``; default 4500); ``--natikeport 0``
opens no NAT-T sockets, which lets several plutos share one address on different IKE ports.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from typing import Any

from pluto.connections.virtual_private import VirtualPrivateError, parse_virtual_private
from pluto.debug_options import DebugImpairOptions, OptionError, extract
from pluto.engine.host import Endpoint, IPAddress

DEFAULT_RUNDIR = "/run/pluto"
DEFAULT_SECRETS = "/etc/ipsec.secrets"
DEFAULT_CERTDIR = "/etc/ipsec.d"  # cacerts/ certs/ private/ crls/ (pluto/certs/store.py)
DEFAULT_IKE_PORT = 500
DEFAULT_NAT_IKE_PORT = 4500


class OptionsError(ValueError):
    """A bad pluto command line; the message names the option."""


@dataclass
class PlutoOptions:
    nofork: bool = False
    stderrlog: bool = False
    logfile: str | None = None
    rundir: str = DEFAULT_RUNDIR
    ctlbase: str | None = None
    secretsfile: str = DEFAULT_SECRETS
    certdir: str = DEFAULT_CERTDIR
    crl_strict: bool = False
    ikeport: int = DEFAULT_IKE_PORT
    natikeport: int = DEFAULT_NAT_IKE_PORT  # 0: no NAT-T sockets
    interfaces: list[str] = field(default_factory=list)
    listen: list[IPAddress] = field(default_factory=list)
    uniqueids: bool = False
    force_busy: bool = False
    noklips: bool = False
    nhelpers: int = -1  # -1: as many as there are CPUs less one (libreswan's default)
    ikev1_policy: str = "drop"  # libreswan's ikev1-policy: accept, reject or drop
    keep_alive: int = 20  # seconds between NAT-T keepalives from behind a NAT; 0: none
    force_keepalive: bool = False  # send them whenever ESP is encapsulated
    virtual_private: str = ""  # --virtual-private: %v4:NET,%v4:!NET,... as written
    # Denial of service (pluto/engine/ddos.py), with libreswan's names and defaults.
    ddos_mode: str = "auto"
    ddos_ike_threshold: int = 25_000
    max_halfopen_ike: int = 50_000
    max_halfopen_ike_per_peer: int = 16  # 0: no limit
    debug_impair: DebugImpairOptions = field(default_factory=DebugImpairOptions)
    wants_help: bool = False
    wants_version: bool = False
    config: str | None = None  # --config FILE
    conf: Any = None  # the loaded IpsecConf (pluto/config/ipsec_conf.py)
    logappend: bool = True  # config setup's logappend=no empties the log file first
    setup_notes: list[str] = field(default_factory=list)  # to log at start-up

    @property
    def ctl_path(self) -> str:
        """The whack socket: ``<ctlbase>.ctl`` or ``<rundir>/pluto.ctl``."""
        if self.ctlbase is not None:
            return self.ctlbase + ".ctl"
        return os.path.join(self.rundir, "pluto.ctl")

    @property
    def pid_path(self) -> str:
        """The lock file: ``<ctlbase>.pid`` or ``<rundir>/pluto.pid``."""
        if self.ctlbase is not None:
            return self.ctlbase + ".pid"
        return os.path.join(self.rundir, "pluto.pid")

    def make_paths_absolute(self) -> None:
        """Before the daemon changes directory to /, relative paths must be resolved."""
        self.rundir = os.path.abspath(self.rundir)
        if self.ctlbase is not None:
            self.ctlbase = os.path.abspath(self.ctlbase)
        if self.logfile is not None:
            self.logfile = os.path.abspath(self.logfile)
        self.secretsfile = os.path.abspath(self.secretsfile)
        self.certdir = os.path.abspath(self.certdir)
        if self.config is not None:
            self.config = os.path.abspath(self.config)


@dataclass(frozen=True)
class CoreOptions:
    """What the protocol core needs to know of the command line (``Pluto(options=...)``).

    ``listen`` holds the IKE endpoints (address, --ikeport): a connection end is ours when its
    (host, ikeport) is one of them. ``nat_listen`` holds the NAT-T endpoints.
    """

    uniqueids: bool = False
    force_busy: bool = False
    nhelpers: int = 0
    listen: tuple[Endpoint, ...] = ()
    nat_listen: tuple[Endpoint, ...] = ()
    ikeport: int = DEFAULT_IKE_PORT
    natikeport: int = DEFAULT_NAT_IKE_PORT
    ikev1_policy: str = "drop"
    keep_alive: int = 20
    force_keepalive: bool = False
    virtual_private: str = ""
    certdir: str | None = None
    crl_strict: bool = False
    ddos_mode: str = "auto"
    ddos_ike_threshold: int = 25_000
    max_halfopen_ike: int = 50_000
    max_halfopen_ike_per_peer: int = 16


# Options that take a value, and the attribute each sets.
_VALUED = {
    "--logfile": "logfile",
    "--rundir": "rundir",
    "--ctlbase": "ctlbase",
    "--secretsfile": "secretsfile",
    "--certdir": "certdir",
    "--ikeport": "ikeport",
    "--natikeport": "natikeport",
    "--natt-port": "natikeport",
    "--interface": "interfaces",
    "--listen": "listen",
    "--nhelpers": "nhelpers",
    "--ikev1-policy": "ikev1_policy",
    "--keep-alive": "keep_alive",
    "--virtual-private": "virtual_private",
    "--ddos-mode": "ddos_mode",
    "--ddos-ike-threshold": "ddos_ike_threshold",
    "--max-halfopen-ike": "max_halfopen_ike",
    "--max-halfopen-ike-per-peer": "max_halfopen_ike_per_peer",
}
_FLAGS = {
    "--nofork": "nofork",
    "--stderrlog": "stderrlog",
    "--uniqueids": "uniqueids",
    "--force-busy": "force_busy",
    "--noklips": "noklips",
    "--force-keepalive": "force_keepalive",
    "--crl-strict": "crl_strict",
    "--help": "wants_help",
    "-h": "wants_help",
    "--version": "wants_version",
}


def parse_options(argv: list[str]) -> PlutoOptions:
    """Parse pluto's arguments; OptionsError names the first bad one."""
    config_path, argv = _take_config(argv)
    opts = PlutoOptions()
    if config_path is not None:
        _apply_config(opts, config_path)
    try:
        _, rest = extract(argv, opts.debug_impair)
    except OptionError as err:
        raise OptionsError(str(err)) from None
    seen: set[str] = set()
    _apply_arguments(opts, rest, seen)
    if opts.ctlbase is not None and "--rundir" in seen:
        raise OptionsError("--ctlbase and --rundir both say where the control files go; "
                           "give one of them")
    if opts.natikeport == opts.ikeport:
        raise OptionsError(f"--natikeport {opts.natikeport}: the NAT-T port must differ from "
                           f"the IKE port (--ikeport)")
    return opts


def _take_config(argv: list[str]) -> tuple[str | None, list[str]]:
    """--config FILE (or --config=FILE) taken out of the arguments."""
    rest: list[str] = []
    path: str | None = None
    i = 0
    while i < len(argv):
        name, eq, inline = argv[i].partition("=")
        if name == "--config":
            if path is not None:
                raise OptionsError("--config given twice")
            if eq:
                path = inline
            elif i + 1 < len(argv):
                i += 1
                path = argv[i]
            else:
                raise OptionsError("--config needs a value")
            if not path:
                raise OptionsError("--config: the path is empty")
        else:
            rest.append(argv[i])
        i += 1
    return path, rest


def _apply_config(opts: PlutoOptions, path: str) -> None:
    """config setup's options first; the command line then overrides them."""
    from pluto.config.ipsec_conf import load
    from pluto.config.lexer import ConfigError
    from pluto.config.setup import setup_of

    try:
        conf = load(path)
        setup = setup_of(conf)
    except ConfigError as err:
        raise OptionsError(f"--config: {err}") from None
    opts.config, opts.conf = path, conf
    opts.logappend = setup.logappend
    opts.setup_notes = [*conf.warnings, *setup.notes]
    try:
        _, rest = extract(setup.arguments, opts.debug_impair)
    except OptionError as err:
        raise OptionsError(f"--config {path}: {err}") from None
    _apply_arguments(opts, rest, set())


def _apply_arguments(opts: PlutoOptions, rest: list[str], seen: set[str]) -> None:
    i = 0
    while i < len(rest):
        arg = rest[i]
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in _FLAGS:
            if eq:
                raise OptionsError(f"{name} takes no value")
            setattr(opts, _FLAGS[name], True)
        elif name in _VALUED:
            if eq:
                value = inline
            elif i + 1 < len(rest):
                i += 1
                value = rest[i]
            else:
                raise OptionsError(f"{name} needs a value")
            _set_valued(opts, name, value, seen)
        elif arg.startswith("-"):
            raise OptionsError(f"unknown option '{arg}' (try --help)")
        else:
            raise OptionsError(f"unexpected argument '{arg}': pluto takes only options")
        i += 1


def _set_valued(opts: PlutoOptions, name: str, value: str, seen: set[str]) -> None:
    attr = _VALUED[name]
    repeatable = attr in ("interfaces", "listen")
    if not repeatable and attr in seen:
        raise OptionsError(f"{name} given twice")
    if repeatable and attr not in seen:
        getattr(opts, attr).clear()  # the command line replaces what --config said
    seen.add(attr)
    seen.add(name)
    if attr in ("logfile", "rundir", "ctlbase", "secretsfile", "certdir"):
        if not value:
            raise OptionsError(f"{name}: the path is empty")
        setattr(opts, attr, value)
    elif attr == "ikeport":
        opts.ikeport = _number(name, value, 1, 65535)
    elif attr == "natikeport":
        opts.natikeport = _number(name, value, 0, 65535)
    elif attr == "nhelpers":
        opts.nhelpers = _number(name, value, -1, 1024)
    elif attr == "keep_alive":
        opts.keep_alive = _number(name, value, 0, 86400)
    elif attr == "virtual_private":
        try:
            parse_virtual_private(value)
        except VirtualPrivateError as err:
            raise OptionsError(f"{name}: {err}") from None
        opts.virtual_private = value
    elif attr in ("ddos_ike_threshold", "max_halfopen_ike", "max_halfopen_ike_per_peer"):
        setattr(opts, attr, _number(name, value, 0, 10_000_000))
    elif attr == "ddos_mode":
        if value.lower() not in ("auto", "busy", "unlimited"):
            raise OptionsError(f"{name} {value}: expected auto, busy or unlimited")
        opts.ddos_mode = value.lower()
    elif attr == "ikev1_policy":
        if value.lower() not in ("accept", "reject", "drop"):
            raise OptionsError(f"{name} {value}: expected accept, reject or drop")
        opts.ikev1_policy = value.lower()
    elif attr == "interfaces":
        if not value or "/" in value or len(value) > 15:
            raise OptionsError(f"{name}: '{value}' is not an interface name")
        opts.interfaces.append(value)
    elif attr == "listen":
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            raise OptionsError(f"{name}: '{value}' is not an IP address") from None
        if address.is_unspecified or address.is_multicast:
            raise OptionsError(f"{name}: '{value}' is not a unicast address of this host")
        if address not in opts.listen:
            opts.listen.append(address)


def _number(name: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise OptionsError(f"{name}: '{text}' is not a number") from None
    if not low <= value <= high:
        raise OptionsError(f"{name}: {value} is out of range ({low}-{high})")
    return value


def effective_helpers(requested: int) -> int:
    """``--nhelpers -1`` (the default) means one helper per CPU less one, as in libreswan."""
    if requested >= 0:
        return requested
    return max((os.cpu_count() or 1) - 1, 0)


USAGE = """\
usage: pluto [--config FILE] [--nofork] [--stderrlog] [--logfile FILE] [--rundir DIR] [--ctlbase PATH]
             [--secretsfile FILE] [--certdir DIR] [--crl-strict] [--ikeport N] [--natikeport N] [--interface NAME]
             [--listen ADDR] [--uniqueids] [--force-busy] [--noklips] [--nhelpers N]
             [--ikev1-policy accept|reject|drop] [--keep-alive N] [--force-keepalive]
             [--virtual-private %v4:NET,%v4:!NET,...]
             [--debug CLASS[,CLASS...]] [--no-debug CLASS] [--debug-NAME]
             [--impair NAME[:VALUE]] [--no-impair NAME]
             [--help] [--version]

  --config FILE      ipsec.conf: config setup gives defaults; conns with auto=add,
                     route or start are added at start-up (start also initiates)
  --nofork           stay in the foreground; print "Pluto initialized" when ready
  --stderrlog        log to stderr (default: syslog, facility authpriv)
  --logfile FILE     append the log to FILE, with timestamps
  --rundir DIR       where pluto.ctl (whack's socket) and pluto.pid go (default /run/pluto)
  --ctlbase PATH     the old form: PATH.ctl and PATH.pid
  --secretsfile FILE the secrets file, globbed (default /etc/ipsec.secrets)
  --certdir DIR      the certificate store: cacerts/ certs/ private/ crls/ (default
                     /etc/ipsec.d)
  --crl-strict       refuse a peer certificate whose issuer has no current CRL
  --ikeport N        the IKE port (default 500)
  --natikeport N     the NAT-T port (default 4500; 0: none); also --natt-port
  --interface NAME   listen on NAME's addresses (repeatable)
  --listen ADDR      listen on ADDR (repeatable); default: every address of the host
  --uniqueids        a new IKE SA for a peer ID replaces the older ones
  --force-busy       act as if under attack: ask every initiator for a COOKIE
  --noklips          record SAs in memory instead of the kernel (nostack)
  --nhelpers N       crypto helper count (-1: one per CPU less one)
  --keep-alive N     seconds between NAT-T keepalives sent from behind a NAT (default
                     20; 0: none); --force-keepalive sends them whenever ESP is in UDP
  --virtual-private LIST  what a peer behind a NAT may claim as its client for a
                     vhost:%priv/vnet:%priv end (%v4:NET, %v6:NET; %vN:!NET excludes)
  --ikev1-policy P   IKEv1 messages: accept, reject (answer INVALID_MAJOR_VERSION) or
                     drop (the default, as libreswan's ikev1-policy)
  --ddos-mode M      auto (default: COOKIEs once --ddos-ike-threshold half-open IKE SAs
                     exist), busy (always; also --force-busy) or unlimited (never)
  --ddos-ike-threshold N   half-open IKE SAs that switch COOKIEs on (default 25000)
  --max-halfopen-ike N     half-open IKE SAs beyond which new ones are dropped (50000)
  --max-halfopen-ike-per-peer N   the same for one peer address (default 16; 0: none)
  --debug help       list the debug classes
  --impair help      list the impairs; --impair list shows what is set
"""
