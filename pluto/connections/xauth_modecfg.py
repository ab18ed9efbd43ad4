"""One end's XAUTH and Mode Config roles (IKEv1), libreswan's keywords:

    leftxauthserver=yes     this end asks the other for a username and password
    leftxauthclient=yes     this end answers with them (whack --xauthuser/--xauthpass or a prompt)
    leftxauthusername=NAME  the client's username (else whack gives it)
    leftmodecfgserver=yes   this end hands out an internal address
    leftmodecfgclient=yes   this end takes one and uses it as its client subnet
    leftaddresspool=LOW-HIGH  (on the client's end, as in rightaddresspool=) the addresses the
                            server hands out to that end

Values come as the connection description gives them: booleans or "yes"/"no" strings.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

END_KEYS = ("xauthserver", "xauthclient", "xauthusername", "modecfgserver", "modecfgclient",
            "addresspool")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class XauthModecfg:
    xauthserver: bool = False
    xauthclient: bool = False
    xauthusername: str | None = None
    modecfgserver: bool = False
    modecfgclient: bool = False
    addresspool: tuple[IPAddress, IPAddress] | None = None

    @property
    def any(self) -> bool:
        return self != XauthModecfg()


def _flag(value: Any, option: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("yes", "no"):
        return value.strip().lower() == "yes"
    raise ValueError(f"{option}: expected yes or no, not {value!r}")


def parse_pool(text: Any, option: str) -> tuple[IPAddress, IPAddress]:
    """``LOW-HIGH`` (IPv4, LOW <= HIGH), or a CIDR block whose addresses are all used."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{option}: expected an address range LOW-HIGH")
    text = text.strip()
    try:
        if "/" in text:
            net = ipaddress.ip_network(text, strict=False)
            return net[0], net[-1]
        low_text, sep, high_text = text.partition("-")
        if not sep:
            raise ValueError("no '-'")
        low, high = ipaddress.ip_address(low_text.strip()), ipaddress.ip_address(high_text.strip())
    except ValueError as err:
        raise ValueError(f"{option}: '{text}' is not an address range LOW-HIGH ({err})") from None
    if low.version != 4 or high.version != 4:
        raise ValueError(f"{option}: '{text}': IPv6 address pools are not implemented yet")
    if int(low) > int(high):
        raise ValueError(f"{option}: '{text}' must go from a lower to a higher address")
    return low, high


def end_options(raw: dict, side: str) -> XauthModecfg:
    """The end's XAUTH/Mode Config keys; ValueError naming the option when one is bad."""
    values: dict[str, Any] = {}
    for key in ("xauthserver", "xauthclient", "modecfgserver", "modecfgclient"):
        if raw.get(key) is not None:
            values[key] = _flag(raw[key], f"{side}{key}")
    name = raw.get("xauthusername")
    if name is not None:
        if not isinstance(name, str) or not name or any(c.isspace() for c in name):
            raise ValueError(f"{side}xauthusername: expected a name without spaces")
        values["xauthusername"] = name
    if raw.get("addresspool") is not None:
        values["addresspool"] = parse_pool(raw["addresspool"], f"{side}addresspool")
    config = XauthModecfg(**values)
    if config.xauthserver and config.xauthclient:
        raise ValueError(f"{side}xauthserver and {side}xauthclient: an end is one or the other")
    if config.modecfgserver and config.modecfgclient:
        raise ValueError(f"{side}modecfgserver and {side}modecfgclient: an end is one or the "
                         "other")
    return config
