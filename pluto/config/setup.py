"""``config setup`` -> pluto's command-line options.

Each keyword becomes the pluto(8) option that does the same thing, so ``pluto --config FILE``
and ``ipsec start`` behave as if those options had been typed (options given on pluto's own
command line win). The keywords whose feature does not exist yet are checked and kept, and
:attr:`Setup.notes` says so, for pluto to log at start-up:

==================  =======================================================================
plutodebug          ``--debug`` (classes separated by spaces or commas; ``none``, ``all``)
uniqueids           ``--uniqueids`` for yes, libreswan's default for ipsec.conf
listen              ``--listen ADDR``
interfaces          ``--interface DEV`` for each ``DEV`` or ``ipsecN=DEV``; ``%defaultroute``
                    listens everywhere
nhelpers            ``--nhelpers N``
protostack          ``none`` is ``--noklips`` (this pluto's in-memory back end);
                    ``xfrm``/``netkey``/``auto`` the kernel (issue 5)
logfile, logappend  ``--logfile FILE``; logappend=no empties the file at start
rundir, secretsfile ``--rundir DIR``, ``--secretsfile FILE``
ikeport, nat-ikeport ``--ikeport N``, ``--natikeport N`` (libreswan 4 keywords)
ikev1-policy        --ikev1-policy: accept, drop (the default) or reject IKEv1
virtual-private     ``--virtual-private``: what vhost:%priv/vnet:%priv ends accept
keep-alive          --keep-alive: seconds between NAT-T keepalives
certdir             ``--certdir DIR``: the certificate store (pluto/certs/store.py)
crl-strict          ``--crl-strict`` for yes
ddos-mode           ``--ddos-mode``: auto (cookies past the threshold), busy, unlimited
ddos-ike-threshold  ``--ddos-ike-threshold N``: half-open IKE SAs before cookies (auto)
max-halfopen-ike    ``--max-halfopen-ike N``: half-open IKE SAs answered at all
==================  =======================================================================
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from pluto.config.ipsec_conf import IpsecConf
from pluto.config.lexer import ConfigError, Setting
from pluto.connections.virtual_private import VirtualPrivateError, parse_virtual_private
from pluto.debug_options import OptionError, extract

_TRUE = ("yes", "y", "true", "on")
_FALSE = ("no", "n", "false", "off")


@dataclass
class Setup:
    arguments: list[str] = field(default_factory=list)  # pluto options
    logappend: bool = True
    ikev1_policy: str = "drop"
    virtual_private: list[str] = field(default_factory=list)
    keep_alive: int | None = None
    notes: list[str] = field(default_factory=list)  # to log at start-up


def setup_of(conf: IpsecConf) -> Setup:
    """The pluto options and stored values of ``conf``'s config setup."""
    values = conf.setup
    setup = Setup()
    args = setup.arguments

    def get(key: str) -> Setting | None:
        return values.get(key)

    if (debug := get("plutodebug")) is not None:
        classes = ",".join(w for w in re.split(r"[\s,]+", debug.value) if w)
        try:
            extract(["--debug", classes])
        except OptionError as err:
            raise _bad(debug, str(err)) from None
        args += ["--debug", classes]
    uniqueids = get("uniqueids")
    if uniqueids is None or _flag(uniqueids):
        args.append("--uniqueids")
    if (listen := get("listen")) is not None:
        try:
            address = ipaddress.ip_address(listen.value)
        except ValueError:
            raise _bad(listen, "not an IP address") from None
        args += ["--listen", str(address)]
    if (interfaces := get("interfaces")) is not None:
        for word in interfaces.value.split():
            if word == "%defaultroute":
                continue
            if word == "%none":
                raise _bad(interfaces, "%none (no interfaces at all) is not implemented yet")
            device = word.partition("=")[2] if "=" in word else word
            if not device or "/" in device or len(device) > 15:
                raise _bad(interfaces, f"'{word}' is not an interface name (DEV or ipsecN=DEV)")
            args += ["--interface", device]
    if (helpers := get("nhelpers")) is not None:
        args += ["--nhelpers", str(_number(helpers, -1, 1024))]
    if (stack := get("protostack")) is not None:
        word = stack.value.lower()
        if word == "none":
            args.append("--noklips")
        elif word not in ("xfrm", "netkey", "auto"):
            raise _bad(stack, "expected none (in memory), xfrm, netkey or auto")
    for key, option in (("logfile", "--logfile"), ("rundir", "--rundir"),
                        ("secretsfile", "--secretsfile"), ("certdir", "--certdir")):
        if (setting := get(key)) is not None:
            args += [option, setting.value]
    if (strict := get("crl-strict")) is not None and _flag(strict):
        args.append("--crl-strict")
    if (appending := get("logappend")) is not None:
        setup.logappend = _flag(appending)
    if (port := get("ikeport")) is not None:
        args += ["--ikeport", str(_number(port, 1, 65535))]
    if (nat_port := get("nat-ikeport")) is not None:
        args += ["--natikeport", str(_number(nat_port, 0, 65535))]
    if (policy := get("ikev1-policy")) is not None:
        if policy.value.lower() not in ("accept", "drop", "reject"):
            raise _bad(policy, "expected accept, drop or reject")
        setup.ikev1_policy = policy.value.lower()
        args += ["--ikev1-policy", setup.ikev1_policy]
    if (private := get("virtual-private")) is not None:
        setup.virtual_private = _virtual_private(private)
        args += ["--virtual-private", ",".join(setup.virtual_private)]
    if (keep_alive := get("keep-alive")) is not None:
        setup.keep_alive = _number(keep_alive, 1, 86400)
        args += ["--keep-alive", str(setup.keep_alive)]
    if (ddos := get("ddos-mode")) is not None:
        if ddos.value.lower() not in ("auto", "busy", "unlimited"):
            raise _bad(ddos, "expected auto, busy or unlimited")
        args += ["--ddos-mode", ddos.value.lower()]
    for key in ("ddos-ike-threshold", "max-halfopen-ike"):
        if (limit := get(key)) is not None:
            args += [f"--{key}", str(_number(limit, 1, 10**9))]
    return setup


def _virtual_private(setting: Setting) -> list[str]:
    """``%v4:198.18.0.0/15,%v4:!198.18.1.0/24,%v6:...``: each checked, kept as written."""
    try:
        parse_virtual_private(setting.value)
    except VirtualPrivateError as err:
        raise _bad(setting, str(err)) from None
    return [w for w in re.split(r"[\s,]+", setting.value) if w]


def _flag(setting: Setting) -> bool:
    if setting.value.lower() in _TRUE:
        return True
    if setting.value.lower() in _FALSE:
        return False
    raise _bad(setting, "expected yes or no")


def _number(setting: Setting, low: int, high: int) -> int:
    try:
        value = int(setting.value, 10)
    except ValueError:
        raise _bad(setting, "not a number") from None
    if not low <= value <= high:
        raise _bad(setting, f"out of range ({low}-{high})")
    return value


def _bad(setting: Setting, reason: str) -> ConfigError:
    return ConfigError(f"{setting.where}: {setting}: {reason}")
