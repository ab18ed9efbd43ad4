"""Which local addresses pluto listens on.

``--listen ADDR`` names addresses; ``--interface NAME`` takes that interface's addresses; with
neither, every address of the host. Link-local addresses are skipped (IKE between gateways
does not use them, and an IPv6 one needs a scope to bind). Addresses are read over rtnetlink
with pyroute2.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from pluto.engine.host import IPAddress


class InterfaceError(Exception):
    """An interface or address that pluto cannot listen on; the message names it."""


def usable(address: IPAddress) -> bool:
    return not (address.is_link_local or address.is_multicast or address.is_unspecified)


def host_addresses(interface: str | None = None) -> list[IPAddress]:
    """The usable addresses of one interface, or of every interface; IPv4 first."""
    try:
        from pyroute2 import IPRoute
    except ImportError as err:  # pragma: no cover - pyroute2 is a dependency
        raise InterfaceError(f"cannot read the host's addresses: {err}") from None
    try:
        with IPRoute() as ipr:
            if interface is None:
                messages = ipr.get_addr()
            else:
                indexes = ipr.link_lookup(ifname=interface)
                if not indexes:
                    raise InterfaceError(f"--interface {interface}: no such interface")
                messages = ipr.get_addr(index=indexes[0])
    except OSError as err:
        raise InterfaceError(f"cannot read the host's addresses: {err.strerror or err}") from None
    found = [ipaddress.ip_address(msg.get_attr("IFA_ADDRESS")) for msg in messages
             if msg.get_attr("IFA_ADDRESS") is not None]
    return order_addresses(a for a in found if usable(a))


def order_addresses(addresses: Iterable[IPAddress]) -> list[IPAddress]:
    """Without duplicates, IPv4 before IPv6, each family in the order given."""
    unique = list(dict.fromkeys(addresses))
    return [a for a in unique if a.version == 4] + [a for a in unique if a.version == 6]


def listen_addresses(listen: list[IPAddress], interfaces: list[str]) -> list[IPAddress]:
    """What the command line asks for: --listen and --interface addresses, else all."""
    chosen: list[IPAddress] = list(listen)
    for name in interfaces:
        addresses = host_addresses(name)
        if not addresses:
            raise InterfaceError(f"--interface {name}: the interface has no usable address")
        chosen += addresses
    if not listen and not interfaces:
        chosen = host_addresses()
        if not chosen:
            raise InterfaceError("this host has no usable address to listen on")
    return order_addresses(chosen)
