"""From a connection description (whack's connection form) to a checked :class:`Connection`.

The description is the dict documented in :mod:`pluto.whack_protocol`. Everything is checked
here, once, so the rest of pluto can trust a Connection: every problem is reported as a
:class:`ConnectionError` whose message starts with the whack option to fix (``--client: ...``).

Limits follow libreswan 4.x (connections.c, pluto_constants.h) and pluto(8):

- ``--ikelifetime`` and ``--ipseclifetime`` above one day are clamped to 86400 s with a warning
  ("IKE lifetime limited to the maximum allowed 86400s"), as libreswan does;
- a ``--rekeymargin`` not smaller than a lifetime is cut to half that lifetime, with a warning
  (libreswan checks the IPsec SA lifetime; the margin applies to the IKE SA too, so both);
- ``--rekeyfuzz`` is a percentage of the margin, 0 or more (pluto(8): "may be much larger than
  100"); margin and fuzz together must not overflow a 32-bit signed number of seconds, as whack
  checks.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable
from typing import Any

from pluto.certs.config import CertConfigError, end_ca, end_sendcert
from pluto.connections.connection import (
    AUTO,
    DPD_ACTIONS,
    SHUNTS,
    AuthBy,
    Connection,
    Dpd,
    End,
    IPAddress,
    IPNetwork,
    Kind,
    Lifetimes,
    Policy,
)
from pluto.connections.ids import Identity, IdentityError, parse_identity
from pluto.connections.virtual_private import (
    VirtualPrivateError,
    VirtualSubnet,
    is_virtual,
    parse_virtual_subnet,
)
from pluto.connections.xauth_modecfg import END_KEYS as XAUTH_MODECFG_KEYS
from pluto.connections.xauth_modecfg import XauthModecfg
from pluto.connections.xauth_modecfg import end_options as xauth_end_options
from pluto.crypto.hostkey import HostKeyError, parse_public_key
from pluto.crypto.proposals import ProposalError, parse_ah, parse_esp, parse_ike
from pluto.kernel.volume_limits import MAX_OPERATIONS

IKE_LIFETIME_MAXIMUM = 86400  # libreswan: IKE_SA_LIFETIME_MAXIMUM, one day
IPSEC_LIFETIME_MAXIMUM = 86400  # libreswan: IPSEC_SA_LIFETIME_MAXIMUM, one day
_INT_MAX = 2**31 - 1  # whack's overflow check for margin * (100 + fuzz)
MAX_NAME_LENGTH = 128

Warn = Callable[[str], None]

_TOP_KEYS = frozenset({
    "name", "left", "right", "auth", "encrypt", "authenticate", "tunnel", "pfs", "compress",
    "disablearrivalcheck", "ikev2", "ike", "esp", "ikelifetime", "ipseclifetime", "rekeymargin",
    "rekeyfuzz", "keyingtries", "rekey", "host_family", "client_family",
    "ipsec_max_bytes", "ipsec_max_packets",
    # issue 4: keys only ipsec.conf sets (whack's connection form has no options for them)
    "shunt", "dpddelay", "dpdtimeout", "dpdaction", "encapsulation", "narrowing", "auto",
    "aggressive",  # issue 8: IKEv1 Aggressive Mode (whack --aggressive, aggressive=yes)
    "modecfgpull",  # issue 8: an IKEv1 Mode Config client asks for its address
})
_END_KEYS = frozenset({"host", "id", "ikeport", "nexthop", "client", "updown",
                       "sourceip", "protoport", "cert", "rsasigkey", "auth", "ca", "sendcert",
                       *XAUTH_MODECFG_KEYS})

# The whack option that sets each key, for messages.
_OPTION = {
    "name": "--name", "auth": "--psk/--rsasig", "encrypt": "--encrypt",
    "authenticate": "--authenticate", "tunnel": "--tunnel", "pfs": "--pfs",
    "compress": "--compress", "disablearrivalcheck": "--disablearrivalcheck",
    "ikev2": "--ikev2/--ikev1", "ike": "--ike", "esp": "--esp", "aggressive": "--aggressive",
    "ikelifetime": "--ikelifetime", "ipseclifetime": "--ipseclifetime",
    "rekeymargin": "--rekeymargin", "rekeyfuzz": "--rekeyfuzz", "keyingtries": "--keyingtries",
    "rekey": "--dontrekey", "host_family": "--ipv4/--ipv6",
    "ipsec_max_bytes": "--ipsec-max-bytes", "ipsec_max_packets": "--ipsec-max-packets",
    "client_family": "--tunnelipv4/--tunnelipv6",
    "host": "--host", "id": "--id", "ikeport": "--ikeport", "nexthop": "--nexthop",
    "client": "--client", "updown": "--updown",
    # Keys without a whack option are named by their ipsec.conf keyword.
    "shunt": "type", "dpddelay": "dpddelay", "dpdtimeout": "dpdtimeout",
    "dpdaction": "dpdaction", "encapsulation": "encapsulation", "narrowing": "narrowing",
    "auto": "auto", "modecfgpull": "modecfgpull",
}

# authby= methods ipsec.conf knows that the daemon cannot use yet.
_LATER_AUTH = {"ecdsa": "ECDSA signatures", "null": "NULL authentication (RFC 7619)",
               "never": "authby=never", "eaponly": "EAP"}
# Where the missing pieces are planned; shown in "not implemented yet (...)" messages.
LATER_CERTS = "issue 9: certificates"
LATER_KERNEL = "issue 5: the kernel back end"

# Spellings of "any address" for --host; the value is the family they imply, if any.
_ANY_HOSTS = {"%any": None, "%any6": 6}

# Names are printable ASCII without spaces, quotes, backslashes or brackets (which would be
# confused with the instance label "conn"[1]), and start with neither '%' (pluto's keywords,
# %default) nor '-' (whack options).
_NAME_FORBIDDEN = frozenset('"\\[]')


class ConnectionError(ValueError):  # the interface's name; it shadows the OSError builtin
    """A connection description that cannot be used; the message names the whack option."""


def build_connection(desc: dict[str, Any], *, warn: Warn | None = None) -> Connection:
    """Check a connection description and build the Connection it describes.

    ``warn`` receives the messages about values that were adjusted (clamped lifetimes, a
    reduced rekey margin); they are not errors. Raises ConnectionError naming the option.
    The result is not oriented yet (see :mod:`pluto.connections.orient`).

    A description that asks for something the daemon cannot do yet (certificates, raw RSA
    keys, shunts, dead peer detection, ...) is refused with a "not implemented yet" message
    rather than quietly built into a connection that would behave otherwise.
    """
    conn = _Builder(desc, warn or (lambda _text: None)).build()
    missing = not_implemented(conn)
    if missing:
        raise ConnectionError(missing[0])
    return conn


def not_implemented(conn: Connection) -> list[str]:
    """What ``conn`` asks for that the daemon cannot do yet, one message each.

    RSA authentication and AH, which whack's form could always ask for, are listed last:
    ``build_connection`` refuses only the features a description could not hold before
    issue 4; the add action may refuse the rest (see the report of issue 4).
    """
    problems: list[str] = []
    for side, end in (("left", conn.left), ("right", conn.right)):
        if end.rsasigkey is not None and end.rsasigkey.startswith("%") \
                and not (end.rsasigkey == "%cert" and end.cert is not None):
            problems.append(f"{side}rsasigkey={end.rsasigkey}: keys from certificates or DNS "
                            f"are not implemented yet ({LATER_CERTS})")
        if end.auth is not None and end.auth != conn.policy.auth.value:
            problems.append(f"{side}auth={end.auth}: authentication that differs from the "
                            f"connection's ({conn.policy.auth.value}) is not implemented yet")
        if end.protoport is not None:
            problems.append(f"{side}protoport: protocol and port selectors are not "
                            "implemented yet (traffic selectors cover every protocol)")
    if conn.shunt is not None:
        problems.append(f"type={conn.shunt}: shunt connections are kernel policies, not "
                        f"implemented yet ({LATER_KERNEL})")
    if conn.narrowing is False:
        problems.append("narrowing=no: the responder always narrows traffic selectors; "
                        "refusing to narrow is not implemented yet")
    return problems


def legacy_not_implemented(conn: Connection) -> list[str]:
    """AH: whack accepts it, only IKEv1's Quick Mode can do it so far (issue 8).
    (RSA signatures work: issue 9.)"""
    problems = []
    if conn.policy.authenticate and conn.policy.ikev2:
        problems.append("phase2=ah (--authenticate): AH with IKEv2 is not implemented yet "
                        "(IKEv1, ikev2=no, negotiates it)")
    return problems


class _Builder:
    def __init__(self, desc: Any, warn: Warn) -> None:
        if not isinstance(desc, dict):
            raise ConnectionError("connection description is not an object")
        self.desc = desc
        self.warn = warn
        self.any_families: dict[str, int] = {}  # side -> family a %any6-like host implies

    def build(self) -> Connection:
        desc = self.desc
        unknown = sorted(str(key) for key in desc if key not in _TOP_KEYS)
        if unknown:
            raise ConnectionError(f"unknown connection option '{unknown[0]}'")
        name = self.name()
        host_family = self.family("host_family")
        client_family = self.family("client_family")
        left = self.end(desc.get("left"), "left")
        right = self.end(desc.get("right"), "right")
        self.check_hosts(left, right, host_family)
        self.check_clients(left, right, client_family)
        policy = self.policy()
        self.check_transport(policy, left, right)
        ike, esp = self.proposals(policy)
        lifetimes = self.lifetimes()
        kind = Kind.TEMPLATE if left.host_is_any or right.host_is_any else Kind.PERMANENT
        return Connection(name=name, left=left, right=right, policy=policy,
                          lifetimes=lifetimes, ike=ike, esp=esp, kind=kind,
                          shunt=self.choice("shunt", SHUNTS), dpd=self.dpd(),
                          encapsulation=self.choice("encapsulation", ("auto", "yes", "no"))
                          or "auto",
                          narrowing=self.optional_flag("narrowing"),
                          auto=self.choice("auto", AUTO),
                          modecfgpull=self.flag("modecfgpull", False))

    # -- name and ends ------------------------------------------------------------------

    def name(self) -> str:
        name = self.desc.get("name")
        if name is None:
            raise ConnectionError("--name: a connection needs a name")
        if not isinstance(name, str):
            raise ConnectionError("--name: the name must be a string")
        if not name:
            raise ConnectionError("--name: the name is empty")
        if len(name) > MAX_NAME_LENGTH:
            raise ConnectionError(f"--name: the name is longer than {MAX_NAME_LENGTH} "
                                  "characters")
        if not _usable_name(name):
            raise ConnectionError(f"--name: {name!r} is not a usable connection name (use "
                                  "letters, digits and punctuation other than quotes, "
                                  "brackets and backslash; no spaces; not starting with "
                                  "'%' or '-')")
        return name

    def end(self, raw: Any, side: str) -> End:
        if raw is None:
            raise ConnectionError(f"--host: the {side} end is missing")
        if not isinstance(raw, dict):
            raise ConnectionError(f"--host: the {side} end is not an object")
        unknown = sorted(str(key) for key in raw if key not in _END_KEYS)
        if unknown:
            raise ConnectionError(f"unknown option '{unknown[0]}' for the {side} end")
        host, any_family = _host(raw.get("host"), side)
        nexthop_text = raw.get("nexthop")
        default_route = isinstance(nexthop_text, str) and nexthop_text.strip() == "%defaultroute"
        virtual = _virtual(raw.get("client"))
        end = End(host=host, id=_identity(raw.get("id")),
                  ikeport=500 if raw.get("ikeport") is None else _port(raw["ikeport"]),
                  nexthop=None if default_route else _nexthop(nexthop_text),
                  client=None if virtual else _client(raw.get("client")),
                  updown=_updown(raw.get("updown")),
                  sourceip=_sourceip(raw.get("sourceip"), side),
                  protoport=_protoport(raw.get("protoport"), side),
                  cert=_end_text(raw.get("cert"), side, "cert"),
                  ca=_cert_keyword(end_ca, raw.get("ca"), side),
                  sendcert=_cert_keyword(end_sendcert, raw.get("sendcert"), side),
                  rsasigkey=_rsasigkey(raw.get("rsasigkey"), side),
                  auth=_end_auth(raw.get("auth"), side),
                  nexthop_default_route=default_route,
                  v1cfg=_v1cfg(raw, side), virtual=virtual)
        if any_family is not None:
            self.any_families[side] = any_family
        return end

    def family(self, key: str) -> int | None:
        value = self.desc.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or value not in (4, 6):
            raise ConnectionError(f"{_OPTION[key]}: address family must be 4 or 6, "
                                  f"not {value!r}")
        return value

    def check_hosts(self, left: End, right: End, host_family: int | None) -> None:
        if left.host_is_any and right.host_is_any:
            raise ConnectionError("--host: both ends are %any; at least one end must be an "
                                  "address of this host")
        families = {end.host.version for end in (left, right) if end.host is not None}
        families |= set(self.any_families.values())
        if len(families) > 1:
            raise ConnectionError(f"--host: {self.describe_host(left, 'left')} and "
                                  f"{self.describe_host(right, 'right')} are not of the same "
                                  "address family")
        if host_family is not None and families and families != {host_family}:
            family = families.pop()
            raise ConnectionError(f"--host: IPv{family} address given with "
                                  f"{'--ipv4' if host_family == 4 else '--ipv6'}")
        for end in (left, right):
            if end.nexthop is not None and end.host is not None \
                    and end.nexthop.version != end.host.version:
                raise ConnectionError(f"--nexthop: {end.nexthop} is not of the family of "
                                      f"--host {end.host}")
        if left.host is not None and (left.host, left.ikeport) == (right.host, right.ikeport):
            raise ConnectionError(f"--host: both ends are {left.host} port {left.ikeport}")

    def describe_host(self, end: End, side: str) -> str:
        if end.host is not None:
            return str(end.host)
        return {None: "%any", 4: "0.0.0.0", 6: "%any6"}[self.any_families.get(side)]

    def check_clients(self, left: End, right: End, client_family: int | None) -> None:
        clients = [end.client for end in (left, right) if end.client is not None]
        if client_family is not None:
            for client in clients:
                if client.version != client_family:
                    raise ConnectionError(
                        f"--client: '{client}' is not IPv{client_family} as "
                        f"{'--tunnelipv4' if client_family == 4 else '--tunnelipv6'} says")
        # What each end protects (its client, else its host) must be of one family.
        selectors = [(end, end.selector()) for end in (left, right)]
        known = [(end, sel) for end, sel in selectors if sel is not None]
        if len(known) == 2 and known[0][1].version != known[1][1].version:
            raise ConnectionError(f"--client: the ends protect {_describe_traffic(*known[0])} "
                                  f"and {_describe_traffic(*known[1])}, which are not of the "
                                  "same address family")

    # -- policy and proposals -----------------------------------------------------------

    def flag(self, key: str, default: bool) -> bool:
        value = self.desc.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ConnectionError(f"{_OPTION[key]}: expected true or false, not {value!r}")
        return value

    def policy(self) -> Policy:
        defaults = Policy()
        auth_text = self.desc.get("auth")
        if auth_text is None:
            auth_text = defaults.auth.value
        if auth_text in _LATER_AUTH:
            raise ConnectionError(f"authby={auth_text}: {_LATER_AUTH[auth_text]} is not "
                                  "implemented yet")
        try:
            auth = AuthBy(auth_text)
        except ValueError:
            raise ConnectionError(f"--psk/--rsasig: unknown authentication {auth_text!r} "
                                  "(psk or rsasig)") from None
        authenticate = self.flag("authenticate", defaults.authenticate)
        # --authenticate alone asks for AH: ESP is then off unless asked for explicitly.
        encrypt = self.flag("encrypt", defaults.encrypt and not authenticate)
        ikev2 = self.flag("ikev2", defaults.ikev2)
        if encrypt and authenticate and ikev2:
            # IKEv2 has no bundles (RFC 7296 §3.3); IKEv1 negotiates ESP+AH (issue 8)
            raise ConnectionError("--encrypt/--authenticate: choose ESP (--encrypt) or AH "
                                  "(--authenticate), not both (ESP+AH needs IKEv1, --ikev1)")
        if not encrypt and not authenticate:
            raise ConnectionError("--encrypt/--authenticate: the connection needs ESP "
                                  "(--encrypt) or AH (--authenticate)")
        return Policy(auth=auth, encrypt=encrypt, authenticate=authenticate,
                      tunnel=self.flag("tunnel", defaults.tunnel),
                      pfs=self.flag("pfs", defaults.pfs),
                      compress=self.flag("compress", defaults.compress),
                      disablearrivalcheck=self.flag("disablearrivalcheck",
                                                    defaults.disablearrivalcheck),
                      ikev2=ikev2,
                      aggressive=self.flag("aggressive", defaults.aggressive))

    def check_transport(self, policy: Policy, left: End, right: End) -> None:
        if policy.tunnel:
            return
        for end in (left, right):
            if end.client is not None and not (
                    end.host is not None and end.client == ipaddress.ip_network(end.host)):
                raise ConnectionError(f"--client: '{end.client}' needs --tunnel (transport "
                                      "mode protects only the hosts)")

    def proposals(self, policy: Policy) -> tuple[str | None, str | None]:
        ike = self.proposal_text("ike")
        esp = self.proposal_text("esp")
        try:
            parsed = parse_ike(ike)
        except ProposalError as err:
            raise ConnectionError(f"--ike: {err}") from None
        if policy.aggressive:  # issue 8: one KE payload in AI1, so one group (as libreswan)
            if policy.ikev2:
                raise ConnectionError("--aggressive: Aggressive Mode is IKEv1 only (--ikev1)")
            groups = {k.fqn for p in parsed for k in p.ke if not k.is_none}
            if ike is not None and len(groups) != 1:
                raise ConnectionError(f"--ike: IKEv1 Aggressive Mode needs exactly one DH "
                                      f"group, not {len(groups)} ({'+'.join(sorted(groups))})")
        try:
            if policy.encrypt:
                parse_esp(esp, pfs=policy.pfs)
            else:
                parse_ah(esp, pfs=policy.pfs)
        except ProposalError as err:
            raise ConnectionError(f"--esp: {err}") from None
        return ike, esp

    def proposal_text(self, key: str) -> str | None:
        value = self.desc.get(key)
        if value is not None and not isinstance(value, str):
            raise ConnectionError(f"{_OPTION[key]}: the proposal list must be a string")
        return value

    def optional_flag(self, key: str) -> bool | None:
        value = self.desc.get(key)
        if value is not None and not isinstance(value, bool):
            raise ConnectionError(f"{_OPTION[key]}: expected true or false, not {value!r}")
        return value

    def choice(self, key: str, choices: tuple[str, ...]) -> str | None:
        value = self.desc.get(key)
        if value is not None and value not in choices:
            raise ConnectionError(f"{_OPTION[key]}: {value!r} is not one of "
                                  f"{', '.join(choices)}")
        return value

    def dpd(self) -> Dpd | None:
        action = self.choice("dpdaction", DPD_ACTIONS)
        if self.desc.get("dpddelay") is None:
            if self.desc.get("dpdtimeout") is not None or action is not None:
                raise ConnectionError("dpddelay: dpdtimeout and dpdaction need dpddelay")
            return None
        delay = self.seconds("dpddelay", 0, positive=True)
        timeout = (None if self.desc.get("dpdtimeout") is None
                   else self.seconds("dpdtimeout", 0, positive=True))
        return Dpd(delay=delay, timeout=timeout, action=action or "hold")

    # -- lifetimes ----------------------------------------------------------------------

    def lifetimes(self) -> Lifetimes:
        defaults = Lifetimes()
        ike = self.seconds("ikelifetime", defaults.ike, positive=True)
        ipsec = self.seconds("ipseclifetime", defaults.ipsec, positive=True)
        margin = self.seconds("rekeymargin", defaults.rekeymargin, positive=False)
        fuzz = self.integer("rekeyfuzz", defaults.rekeyfuzz)
        tries = self.integer("keyingtries", defaults.keyingtries)
        rekey = self.flag("rekey", defaults.rekey)
        if fuzz > _INT_MAX - 100 or margin > _INT_MAX // (100 + fuzz):
            raise ConnectionError("--rekeymargin/--rekeyfuzz: values so large that they "
                                  "overflow")
        if ike > IKE_LIFETIME_MAXIMUM:
            self.warn(f"IKE lifetime limited to the maximum allowed {IKE_LIFETIME_MAXIMUM}s")
            ike = float(IKE_LIFETIME_MAXIMUM)
        if ipsec > IPSEC_LIFETIME_MAXIMUM:
            self.warn(f"IPsec lifetime limited to the maximum allowed "
                      f"{IPSEC_LIFETIME_MAXIMUM}s")
            ipsec = float(IPSEC_LIFETIME_MAXIMUM)
        shortest, which = min((ipsec, "ipseclifetime"), (ike, "ikelifetime"))
        if margin >= shortest:
            reduced = shortest / 2
            self.warn(f"rekeymargin ({_secs(margin)}s) >= {which} ({_secs(shortest)}s); "
                      f"reducing rekeymargin to {_secs(reduced)} seconds")
            margin = reduced
        return Lifetimes(ike=ike, ipsec=ipsec, rekeymargin=margin, rekeyfuzz=float(fuzz),
                         keyingtries=tries, rekey=rekey,
                         ipsec_max_bytes=self.volume("ipsec_max_bytes"),
                         ipsec_max_packets=self.volume("ipsec_max_packets"))

    def volume(self, key: str) -> int:
        """A byte or packet limit: 1 to 2^63 (pluto/kernel/volume_limits.py); 0: none."""
        value = self.desc.get(key)
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConnectionError(f"{_OPTION[key]}: expected a whole number, not {value!r}")
        if not 1 <= value <= MAX_OPERATIONS:
            raise ConnectionError(f"{_OPTION[key]}: {value} is not between 1 and 2^63")
        return value

    def seconds(self, key: str, default: float, *, positive: bool) -> float:
        value = self.desc.get(key)
        if value is None:
            return float(default)
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value):
            raise ConnectionError(f"{_OPTION[key]}: expected a number of seconds, "
                                  f"not {value!r}")
        if value < 0 or (positive and value == 0):
            need = "more than 0" if positive else "0 or more"
            raise ConnectionError(f"{_OPTION[key]}: {_secs(value)}s is not {need} seconds")
        return float(value)

    def integer(self, key: str, default: float) -> int:
        value = self.desc.get(key)
        if value is None:
            return int(default)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConnectionError(f"{_OPTION[key]}: expected a whole number, not {value!r}")
        if value < 0:
            raise ConnectionError(f"{_OPTION[key]}: {value} is negative")
        return value


def _usable_name(name: str) -> bool:
    return (all("!" <= char <= "~" and char not in _NAME_FORBIDDEN for char in name)
            and name[0] not in "%-")


# --- one value each ---------------------------------------------------------------------

def _text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise ConnectionError(f"{_OPTION[key]}: expected a string, not {value!r}")
    return value.strip()


def _address(text: str) -> IPAddress | None:
    """An IP address without zone index, or None."""
    if "%" in text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _host(value: Any, side: str) -> tuple[IPAddress | None, int | None]:
    """The host address (None for %any) and, for %any6 and friends, the family implied."""
    if value is None:
        raise ConnectionError(f"--host: the {side} end has no host (an IP address or %any)")
    text = _text(value, "host")
    if text in _ANY_HOSTS:
        return None, _ANY_HOSTS[text]
    if text == "%defaultroute":
        raise ConnectionError(f"--host: %defaultroute (the address of the default route's "
                              f"interface) is not implemented yet ({LATER_KERNEL}); give the "
                              "address")
    address = _address(text)
    if address is None:
        raise ConnectionError(f"--host: '{text}' is not an IP address or %any (names are not "
                              "resolved)")
    if address.is_unspecified:
        return None, address.version  # 0.0.0.0 and :: mean %any, as in libreswan
    if address.is_multicast:
        raise ConnectionError(f"--host: '{text}' is a multicast address")
    return address, None


def _identity(value: Any) -> Identity | None:
    if value is None:
        return None
    text = _text(value, "id")
    try:
        return parse_identity(text)
    except IdentityError as err:
        raise ConnectionError(f"--id: {err}") from None


def _port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ConnectionError(f"--ikeport: {value!r} is not a port number (1..65535)")
    return value


def _nexthop(value: Any) -> IPAddress | None:
    if value is None:
        return None
    text = _text(value, "nexthop")
    if text == "%direct":
        return None  # the peer is on the link: no next hop
    address = _address(text)
    if address is None or address.is_unspecified:
        raise ConnectionError(f"--nexthop: '{text}' is not an IP address or %direct")
    return address


def _client(value: Any) -> IPNetwork | None:
    if value is None:
        return None
    text = _text(value, "client")
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError:
        pass
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ConnectionError(f"--client: '{text}' is not a subnet") from None
    raise ConnectionError(f"--client: '{text}' has host bits set; did you mean {network}?")


def _virtual(value: Any) -> VirtualSubnet | None:
    """A ``vhost:``/``vnet:`` client (the peer's claim behind a NAT), else None."""
    if not isinstance(value, str) or not is_virtual(value.strip()):
        return None
    try:
        return parse_virtual_subnet(value.strip())
    except VirtualPrivateError as err:
        raise ConnectionError(f"--client: {err}") from None


def _updown(value: Any) -> str | None:
    if value is None:
        return None
    text = _text(value, "updown")
    if not text:
        raise ConnectionError("--updown: the command is empty")
    return text


def _sourceip(value: Any, side: str) -> IPAddress | None:
    if value is None:
        return None
    text = _end_text(value, side, "sourceip")
    address = _address(text)
    if address is None or address.is_unspecified or address.is_multicast:
        raise ConnectionError(f"{side}sourceip: '{text}' is not a unicast IP address")
    return address


# Protocol names ipsec.conf's leftprotoport knows besides numbers.
_PROTOCOLS = {"icmp": 1, "tcp": 6, "udp": 17, "gre": 47, "icmpv6": 58, "ipv6-icmp": 58,
              "sctp": 132}


def _protoport(value: Any, side: str) -> tuple[int, int] | None:
    """``tcp``, ``tcp/22``, ``17/1701``, ``udp/%any``: (protocol, port; 0 any port)."""
    if value is None:
        return None
    text = _end_text(value, side, "protoport")
    proto_text, _, port_text = text.partition("/")
    proto = _PROTOCOLS.get(proto_text.lower())
    if proto is None:
        if not proto_text.isdigit() or not 0 <= int(proto_text) <= 255:
            raise ConnectionError(f"{side}protoport: '{text}': the protocol is a name (tcp, "
                                  "udp, icmp, ...) or a number 0-255")
        proto = int(proto_text)
    if port_text in ("", "%any", "0"):
        port = 0
    elif port_text.isdigit() and 1 <= int(port_text) <= 65535:
        port = int(port_text)
    else:
        raise ConnectionError(f"{side}protoport: '{text}': the port is 1-65535 or %any")
    if proto == 0:
        if port:
            raise ConnectionError(f"{side}protoport: '{text}': a port needs a protocol")
        return None  # 0/0: every protocol, the default
    return proto, port


def _cert_keyword(check: Callable[[Any, str], Any], value: Any, side: str) -> Any:
    """leftca/leftsendcert, checked by pluto/certs/config.py."""
    try:
        return check(value, side)
    except CertConfigError as err:
        raise ConnectionError(str(err)) from None


def _end_text(value: Any, side: str, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConnectionError(f"{side}{key}: expected a non-empty string, not {value!r}")
    return value.strip()


def _v1cfg(raw: dict, side: str) -> XauthModecfg:
    try:
        return xauth_end_options(raw, side)
    except ValueError as err:
        raise ConnectionError(str(err)) from None


def _rsasigkey(value: Any, side: str) -> str | None:
    """leftrsasigkey: a public key (0s/0x RFC 3110 or PEM), checked here; %cert and the DNS
    spellings are kept for not_implemented() to refuse."""
    text = _end_text(value, side, "rsasigkey")
    if text is None or text.startswith("%"):
        return text
    try:
        parse_public_key(text)
    except HostKeyError as err:
        raise ConnectionError(f"{side}rsasigkey: {err}") from None
    return text


def _end_auth(value: Any, side: str) -> str | None:
    text = _end_text(value, side, "auth")
    if text is not None and text not in ("psk", "rsasig", *_LATER_AUTH):
        raise ConnectionError(f"{side}auth: {text!r} is not one of psk, rsasig, "
                              f"{', '.join(_LATER_AUTH)}")
    return text


def _describe_traffic(end: End, selector: IPNetwork) -> str:
    return f"'{selector}'" if end.client is not None else f"host {end.host}"


def _secs(value: float) -> str:
    """Seconds as libreswan prints them: whole numbers without a fraction."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
