"""``virtual-private`` and virtual subnets: what a peer behind a NAT may claim as its client.

A road warrior behind a NAT protects addresses the responder cannot know in advance (its
inside address, a home LAN). ipsec.conf(5) lets the operator say which ones are acceptable:

- ``config setup`` ``virtual-private=%v4:198.18.0.0/15,%v4:!198.18.2.0/24,%v6:2001:db8::/32``:
  the allowed networks (``%v4:NET``, ``%v6:NET``) minus the excluded ones (``%v4:!NET``),
  typically the responder's own subnets, which a peer must never be able to claim;
- a conn end's ``rightsubnet=vhost:%no,%priv`` or ``vnet:%priv``: ``vhost:`` accepts a single
  host, ``vnet:`` a whole network; among the items, ``%no`` is the peer's own (public)
  address, ``%priv`` anything virtual-private allows, ``%all`` anything, and a network
  anything inside it.

This module only decides; the responder's narrowing (pluto/ikev2/ts.py) asks it whether a
proposed client selector is acceptable for a connection end declared virtual.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_FAMILIES = {"%v4": 4, "%v6": 6}
_VIRTUAL_WORDS = ("%no", "%priv", "%all")


class VirtualPrivateError(ValueError):
    """A bad virtual-private or vhost:/vnet: value; the message names the bad item."""


@dataclass(frozen=True)
class VirtualPrivate:
    """The networks of ``virtual-private``: allowed ones minus excluded ones."""

    allowed: tuple[IPNetwork, ...] = ()
    excluded: tuple[IPNetwork, ...] = ()

    def allows(self, network: IPNetwork) -> bool:
        """Whether all of ``network`` lies in an allowed network and none of it is excluded."""
        inside = any(network.version == a.version and network.subnet_of(a)
                     for a in self.allowed)
        return inside and not any(network.version == e.version and network.overlaps(e)
                                  for e in self.excluded)

    def __str__(self) -> str:
        items = [f"%v{n.version}:{n}" for n in self.allowed]
        items += [f"%v{n.version}:!{n}" for n in self.excluded]
        return ",".join(items)


def parse_virtual_private(text: str) -> VirtualPrivate:
    """``%v4:NET,%v4:!NET,%v6:NET ...`` (commas or spaces between items)."""
    allowed: list[IPNetwork] = []
    excluded: list[IPNetwork] = []
    for item in (w for w in re.split(r"[\s,]+", text) if w):
        family, _, rest = item.partition(":")
        exclude = rest.startswith("!")
        network = _network(rest.removeprefix("!"))
        if family not in _FAMILIES or network is None or network.version != _FAMILIES[family]:
            raise VirtualPrivateError(f"'{item}' is not %v4:NET, %v6:NET or %vN:!NET")
        (excluded if exclude else allowed).append(network)
    return VirtualPrivate(tuple(allowed), tuple(excluded))


def _network(text: str) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError:
        return None


@dataclass(frozen=True)
class VirtualSubnet:
    """A ``vhost:`` or ``vnet:`` subnet value of a conn end."""

    host_only: bool  # vhost: a single address; vnet: a network
    own_address: bool = False  # %no
    private: bool = False  # %priv
    anything: bool = False  # %all
    networks: tuple[IPNetwork, ...] = field(default_factory=tuple)

    def accepts(self, proposed: IPNetwork, peer: IPAddress | None,
                virtual_private: VirtualPrivate) -> bool:
        """Whether the peer at ``peer`` may have ``proposed`` as its client."""
        if self.host_only and proposed.num_addresses != 1:
            return False
        if self.own_address and peer is not None and proposed.num_addresses == 1 \
                and proposed.network_address == peer:
            return True
        if self.anything:
            return True
        if self.private and virtual_private.allows(proposed):
            return True
        return any(proposed.version == n.version and proposed.subnet_of(n)
                   for n in self.networks)


def is_virtual(text: str) -> bool:
    return text.startswith(("vhost:", "vnet:"))


def parse_virtual_subnet(text: str) -> VirtualSubnet:
    """``vhost:%no,%priv``, ``vnet:%priv,198.18.0.0/16``, ``vnet:%all`` ..."""
    kind, _, rest = text.partition(":")
    if kind not in ("vhost", "vnet"):
        raise VirtualPrivateError(f"'{text}' is not vhost:ITEMS or vnet:ITEMS")
    words = [w for w in rest.split(",") if w]
    if not words:
        raise VirtualPrivateError(f"'{text}' names nothing after '{kind}:'")
    networks = []
    for word in words:
        if word in _VIRTUAL_WORDS:
            continue
        network = _network(word)
        if network is None:
            raise VirtualPrivateError(f"'{word}' in '{text}' is not %no, %priv, %all or a "
                                      "subnet")
        networks.append(network)
    return VirtualSubnet(host_only=kind == "vhost", own_address="%no" in words,
                         private="%priv" in words, anything="%all" in words,
                         networks=tuple(networks))


def choose_client(virtual: VirtualSubnet, proposed: list[IPNetwork], peer: IPAddress | None,
                  virtual_private: VirtualPrivate) -> IPNetwork | None:
    """The responder's pick among the peer's proposed client networks (TSi as CIDR blocks,
    in the order proposed): the first that ``virtual`` accepts, else None (answer
    TS_UNACCEPTABLE). Unlike a configured subnet nothing is narrowed: a virtual end takes
    the peer's claim whole or not at all."""
    return next((n for n in proposed if virtual.accepts(n, peer, virtual_private)), None)
