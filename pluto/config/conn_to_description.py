"""An ipsec.conf conn -> the connection description whack's connection form sends.

Both go through :func:`pluto.connections.builder.build_connection`, so a conn in ipsec.conf
and the same connection typed as whack options are the same Connection. This module only
translates keywords into description keys (pluto/whack_protocol.py documents them) and
checks the values' syntax, naming the file, line and keyword of a bad one.

Defaults are libreswan's for ipsec.conf, which differ from whack's connection form (where a
policy flag not given is off): ``type=tunnel``, ``pfs=yes``, ESP, ``ikev2=yes``, and
``authby=rsasig`` when neither authby nor leftauth/rightauth say otherwise.

``leftsubnets``/``rightsubnets`` expand, as libreswan's addconn does, into one connection
per pair of subnets, named ``NAME/1x1``, ``NAME/1x2``, ... (left index, then right).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from pluto.config.ipsec_conf import Conn, IpsecConf
from pluto.config.lexer import ConfigError
from pluto.connections.builder import ConnectionError as BadConnection
from pluto.connections.builder import build_connection
from pluto.connections.virtual_private import (
    VirtualPrivateError,
    is_virtual,
    parse_virtual_subnet,
)
from pluto.connections.xauth_modecfg import END_KEYS as XAUTH_MODECFG_KEYS
from pluto.kernel.volume_limits import LimitError, parse_count

_TRUE = ("yes", "y", "true", "on")
_FALSE = ("no", "n", "false", "off")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

_AUTHBY = {"secret": "psk", "psk": "psk", "rsasig": "rsasig", "rsa": "rsasig",
           "rsa-sha1": "rsasig", "rsa-sha2": "rsasig", "rsa-sha2_256": "rsasig",
           "rsa-sha2_384": "rsasig", "rsa-sha2_512": "rsasig", "ecdsa": "ecdsa",
           "null": "null", "never": "never"}
_END_AUTH = {"secret": "psk", "psk": "psk", "rsasig": "rsasig", "rsa": "rsasig",
             "ecdsa": "ecdsa", "null": "null", "eaponly": "eaponly"}
_AUTO = {"ignore": "ignore", "add": "add", "ondemand": "route", "route": "route",
         "start": "start", "up": "start"}


def descriptions(conn: Conn) -> list[dict[str, Any]]:
    """The connection descriptions of ``conn`` (several when it has leftsubnets/rightsubnets)."""
    return _Translator(conn).run()


def auto_of(conn: Conn) -> str:
    """ignore, add, route or start (ondemand counts as route, up as start)."""
    return _Translator(conn).auto()


def checked_descriptions(conf: IpsecConf, name: str) -> list[dict[str, Any]]:
    """The descriptions of conn ``name``, each checked by building it: a problem is a
    ConfigError naming the file and line of the keyword to fix."""
    conn = conf.conn(name)
    result = descriptions(conn)
    for desc in result:
        check_description(conn, desc)
    return result


def check_description(conn: Conn, desc: dict[str, Any]) -> None:
    try:
        build_connection(desc)
    except BadConnection as err:
        raise _located(conn, str(err)) from None


# The whack option a builder message starts with -> the conn keywords it may be about.
_KEYWORDS_OF_OPTION = {
    "--name": ("",), "--host": ("left", "right"), "--id": ("leftid", "rightid"),
    "--ikeport": ("leftikeport", "rightikeport"), "--nexthop": ("leftnexthop", "rightnexthop"),
    "--client": ("leftsubnet", "rightsubnet", "leftsubnets", "rightsubnets", "type"),
    "--updown": ("leftupdown", "rightupdown"), "--psk/--rsasig": ("authby",),
    "--encrypt/--authenticate": ("phase2", "ah"), "--ike": ("ike",),
    "--esp": ("esp", "ah"), "--ikelifetime": ("ikelifetime",),
    "--ipseclifetime": ("salifetime",), "--rekeymargin": ("rekeymargin",),
    "--rekeyfuzz": ("rekeyfuzz",), "--keyingtries": ("keyingtries",),
    "--rekeymargin/--rekeyfuzz": ("rekeymargin", "rekeyfuzz"),
    "--ipsec-max-bytes": ("ipsec-max-bytes",), "--ipsec-max-packets": ("ipsec-max-packets",),
}


def _located(conn: Conn, message: str) -> ConfigError:
    """A builder message, its whack option replaced by the conn keyword and its line."""
    head, _, rest = message.partition(": ")
    head_word = head.split("=")[0]
    keywords = _KEYWORDS_OF_OPTION.get(head_word, (head_word,))
    for keyword in keywords:
        if keyword and keyword in conn.settings:
            setting = conn.settings[keyword]
            return ConfigError(f"{setting.where}: conn {conn.name}: {setting}: {rest or head}")
    named = keywords[0] if head_word.startswith("--") and keywords[0] else head
    text = f"{named}: {rest}" if rest else head
    return ConfigError(f"{conn.where}: conn {conn.name}: {text}")


class _Translator:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    def fail(self, key: str, reason: str) -> ConfigError:
        setting = self.conn.settings.get(key)
        if setting is None:
            return ConfigError(f"{self.conn.where}: conn {self.conn.name}: {key}: {reason}")
        return ConfigError(f"{setting.where}: conn {self.conn.name}: {setting}: {reason}")

    # -- values

    def text(self, key: str) -> str | None:
        return self.conn.get(key)

    def flag(self, key: str) -> bool | None:
        value = self.text(key)
        if value is None:
            return None
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise self.fail(key, "expected yes or no")

    def word(self, key: str, choices: dict[str, str]) -> str | None:
        value = self.text(key)
        if value is None:
            return None
        try:
            return choices[value.lower()]
        except KeyError:
            raise self.fail(key, f"expected one of {', '.join(choices)}") from None

    def duration(self, key: str) -> float | None:
        value = self.text(key)
        if value is None:
            return None
        match = _DURATION.fullmatch(value)
        if match is None:
            raise self.fail(key, "not a duration (seconds, or a number followed by s, m, h "
                                 "or d)")
        seconds = float(match[1]) * _UNIT[match[2]]
        return int(seconds) if seconds.is_integer() else seconds

    def count(self, key: str) -> int | None:
        value = self.text(key)
        if value is None:
            return None
        if value.lower() == "%forever":
            return 0
        if not value.isdigit():
            raise self.fail(key, "not a count (a number; 0 or %forever: keep trying)")
        return int(value)

    def volume(self, key: str, *, bytes_: bool) -> int | None:
        value = self.text(key)
        if value is None:
            return None
        try:
            return parse_count(value, bytes_=bytes_)
        except LimitError as err:
            raise self.fail(key, str(err)) from None

    def percent(self, key: str) -> int | None:
        value = self.text(key)
        if value is None:
            return None
        digits = value.removesuffix("%")
        if not digits.isdigit():
            raise self.fail(key, "not a percentage")
        return int(digits)

    def port(self, key: str) -> int | None:
        value = self.text(key)
        if value is None:
            return None
        if not value.isdigit() or not 1 <= int(value) <= 65535:
            raise self.fail(key, "not a port number (1-65535)")
        return int(value)

    def subnet(self, key: str, text: str) -> str:
        if is_virtual(text):
            if key.endswith("subnets"):
                raise self.fail(key, "virtual subnets (vhost:, vnet:) go in leftsubnet= or "
                                "rightsubnet=, not in a list")
            try:
                parse_virtual_subnet(text)
            except VirtualPrivateError as err:
                raise self.fail(key, str(err)) from None
            return text  # the builder makes it the end's virtual subnet
        if text == "%no" or text == "%priv":
            raise self.fail(key, f"{text} is not implemented yet")
        try:
            return str(ipaddress.ip_network(text, strict=True))
        except ValueError:
            pass
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise self.fail(key, f"'{text}' is not a subnet (ADDRESS/PREFIX)") from None
        raise self.fail(key, f"'{text}' has host bits set; did you mean {network}?")

    def subnets(self, side: str) -> list[str | None]:
        single, many = f"{side}subnet", f"{side}subnets"
        if self.text(many) is None:
            one = self.text(single)
            return [None if one is None else self.subnet(single, one)]
        if self.text(single) is not None:
            raise self.fail(many, f"give {single} or {many}, not both")
        words = [w for w in re.split(r"[\s,]+", self.text(many) or "") if w]
        if not words:
            raise self.fail(many, "no subnets listed")
        return [self.subnet(many, word) for word in words]

    # -- the description

    def auto(self) -> str:
        return self.word("auto", _AUTO) or "ignore"

    def run(self) -> list[dict[str, Any]]:
        base = self.connection()
        left_subnets, right_subnets = self.subnets("left"), self.subnets("right")
        expand = self.text("leftsubnets") is not None or self.text("rightsubnets") is not None
        result = []
        for i, left_client in enumerate(left_subnets, 1):
            for j, right_client in enumerate(right_subnets, 1):
                desc = {**base, "left": dict(base["left"]), "right": dict(base["right"])}
                if expand:
                    desc["name"] = f"{self.conn.name}/{i}x{j}"
                for end, client in ((desc["left"], left_client), (desc["right"], right_client)):
                    if client is not None:
                        end["client"] = client
                result.append(desc)
        return result

    def connection(self) -> dict[str, Any]:
        desc: dict[str, Any] = {"name": self.conn.name, "left": self.end("left"),
                                "right": self.end("right")}
        desc["auth"] = self.authby(desc)
        desc["ikev2"] = self.ike_version()
        self.phase2(desc)
        kind = self.word("type", {w: w for w in ("tunnel", "transport", "passthrough",
                                                 "drop", "reject")}) or "tunnel"
        desc["tunnel"] = kind != "transport"
        if kind in ("passthrough", "drop", "reject"):
            desc["shunt"] = kind
        desc["pfs"] = _default(self.flag("pfs"), True)
        desc["compress"] = _default(self.flag("compress"), False)
        optional = {
            "ike": self.text("ike"),
            "ikelifetime": self.duration("ikelifetime"),
            "ipseclifetime": self.duration("salifetime"),
            "rekeymargin": self.duration("rekeymargin"),
            "rekeyfuzz": self.percent("rekeyfuzz"),
            "keyingtries": self.count("keyingtries"),
            "rekey": self.flag("rekey"),
            "aggressive": self.flag("aggressive"),
            "ipsec_max_bytes": self.volume("ipsec-max-bytes", bytes_=True),
            "ipsec_max_packets": self.volume("ipsec-max-packets", bytes_=False),
            "dpddelay": self.duration("dpddelay"),
            "dpdtimeout": self.duration("dpdtimeout"),
            "dpdaction": self.word("dpdaction", {"hold": "hold", "clear": "clear",
                                                 "restart": "restart",
                                                 "restart_by_peer": "restart"}),
            "encapsulation": self.word("encapsulation", {"yes": "yes", "no": "no",
                                                         "auto": "auto"}),
            "narrowing": self.flag("narrowing"),
            "modecfgpull": self.flag("modecfgpull"),
            "auto": self.auto() if self.text("auto") is not None else None,
        }
        desc.update({key: value for key, value in optional.items() if value is not None})
        return desc

    def end(self, side: str) -> dict[str, Any]:
        host = self.text(side)
        if host is None:
            raise self.fail(side, f"the conn has no {side}= (an IP address or %any)")
        end: dict[str, Any] = {"host": host}
        for key in ("id", "nexthop", "updown", "sourceip", "protoport", "cert", "rsasigkey",
                    "ca", "sendcert", *XAUTH_MODECFG_KEYS):
            value = self.text(side + key)
            if value is not None:
                end[key] = value
        port = self.port(side + "ikeport")
        if port is not None:
            end["ikeport"] = port
        auth = self.word(side + "auth", _END_AUTH)
        if auth is not None:
            end["auth"] = auth
        return end

    def authby(self, desc: dict[str, Any]) -> str:
        text = self.text("authby")
        if text is None:
            ends = {desc["left"].get("auth"), desc["right"].get("auth")}
            ends.discard(None)
            # Without authby, both ends' leftauth/rightauth decide; otherwise libreswan's
            # default, RSA signatures.
            return ends.pop() if len(ends) == 1 else "rsasig"
        methods = [m for m in re.split(r"[\s,|]+", text.lower()) if m]
        unknown = [m for m in methods if m not in _AUTHBY]
        if unknown or not methods:
            raise self.fail("authby", f"expected one of {', '.join(_AUTHBY)}")
        chosen = {_AUTHBY[m] for m in methods}
        if len(chosen) > 1:
            raise self.fail("authby", "several authentication methods in one conn are not "
                                      "implemented yet")
        return chosen.pop()

    def ike_version(self) -> bool:
        ikev2 = self.word("ikev2", {"yes": "yes", "insist": "yes", "propose": "yes",
                                    "permit": "yes", "no": "no", "never": "no"})
        exchange = self.word("keyexchange", {"ike": "ike", "ikev2": "yes", "ikev1": "no"})
        if ikev2 is not None and exchange not in (None, "ike") and ikev2 != exchange:
            raise self.fail("keyexchange", f"conflicts with ikev2={self.text('ikev2')}")
        chosen = ikev2 or (exchange if exchange != "ike" else None) or "yes"
        return chosen == "yes"

    def phase2(self, desc: dict[str, Any]) -> None:
        phase2 = self.word("phase2", {"esp": "esp", "ah": "ah"})
        esp, ah = self.text("esp"), self.text("ah")
        if phase2 is None:
            phase2 = "ah" if ah is not None and esp is None else "esp"
        if phase2 == "esp" and ah is not None:
            raise self.fail("ah", "ah= goes with phase2=ah")
        if phase2 == "ah" and esp is not None:
            raise self.fail("esp", "phase2=ah takes its algorithms from ah=")
        desc["encrypt"] = phase2 == "esp"
        desc["authenticate"] = phase2 == "ah"
        algorithms = esp if phase2 == "esp" else ah
        if algorithms is not None:
            desc["esp"] = algorithms


def _default(value: Any, default: Any) -> Any:
    return default if value is None else value
