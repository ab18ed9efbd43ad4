"""Traffic selectors: networks to TSi/TSr entries and back, and responder narrowing (§2.9).

A configured end protects a subnet (or a single host) for every protocol and port; a
TrafficSelector is an address range with a protocol and a port range. :func:`narrow` is the
responder's choice: the intersection of what it is configured with and what the initiator
proposed, taking the proposed selector that leaves the most of it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import replace

from pluto.connections.connection import Connection, End, Kind
from pluto.connections.virtual_private import VirtualPrivate, choose_client
from pluto.packet.ikev2_ts import RawTrafficSelector, TrafficSelector
from pluto.packet.ikev2_types import TsType

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALL_PORTS = (0, 65535)
_TS_TYPE = {4: TsType.TS_IPV4_ADDR_RANGE, 6: TsType.TS_IPV6_ADDR_RANGE}


def selectors_for(network: IPNetwork | str) -> TrafficSelector:
    """The selector of a whole subnet (or /32, /128 host): every protocol, every port."""
    net = ipaddress.ip_network(network)
    return TrafficSelector(_TS_TYPE[net.version], net.network_address, net.broadcast_address,
                           0, *ALL_PORTS)


def network_of(ts: TrafficSelector | RawTrafficSelector) -> IPNetwork | None:
    """The subnet a selector's address range is exactly, or None (not a CIDR block, not IP).

    The protocol and ports are not looked at: see :func:`is_whole` for that.
    """
    if not isinstance(ts, TrafficSelector) or ts.start_address.version != \
            ts.end_address.version or ts.start_address > ts.end_address:
        return None
    blocks = list(ipaddress.summarize_address_range(ts.start_address, ts.end_address))
    return blocks[0] if len(blocks) == 1 else None


def is_whole(ts: TrafficSelector) -> bool:
    """Whether the selector covers every protocol and port."""
    return ts.ip_protocol == 0 and (ts.start_port, ts.end_port) == ALL_PORTS


def within(ts: TrafficSelector | RawTrafficSelector, network: IPNetwork) -> bool:
    """Whether every address of ``ts`` lies in ``network`` (the initiator's check of an
    answer: the responder may only narrow)."""
    return (isinstance(ts, TrafficSelector) and ts.start_address.version == network.version
            and ts.start_address <= ts.end_address
            and network.network_address <= ts.start_address
            and ts.end_address <= network.broadcast_address)


def intersect(ours: IPNetwork, ts: TrafficSelector | RawTrafficSelector
              ) -> TrafficSelector | None:
    """``ts`` cut down to ``ours`` (its protocol and ports kept), or None if nothing is left."""
    if not isinstance(ts, TrafficSelector) or ts.start_address.version != ours.version \
            or ts.end_address.version != ours.version:
        return None
    start = max(ts.start_address, ours.network_address)
    end = min(ts.end_address, ours.broadcast_address)
    if start > end:
        return None
    return TrafficSelector(ts.ts_type, start, end, ts.ip_protocol, ts.start_port, ts.end_port)


def _breadth(ts: TrafficSelector) -> tuple[int, int, int]:
    addresses = int(ts.end_address) - int(ts.start_address)
    ports = max(ts.end_port - ts.start_port, -1)
    return addresses, ports, ts.ip_protocol == 0


def narrow(ours: IPNetwork, proposed: Iterable[TrafficSelector | RawTrafficSelector]
           ) -> TrafficSelector | None:
    """The responder's selector for one side: ``ours`` narrowed by the proposal (§2.9).

    Each proposed selector is intersected with ``ours``; the widest result wins (the first on
    a tie), so a proposal of "this host, then this subnet" gets the whole configured subnet.
    None when nothing proposed overlaps (answer TS_UNACCEPTABLE).
    """
    best: TrafficSelector | None = None
    for ts in proposed:
        cut = intersect(ours, ts)
        if cut is not None and (best is None or _breadth(cut) > _breadth(best)):
            best = cut
    return best


def narrow_peer(end: End, proposed: Iterable[TrafficSelector | RawTrafficSelector],
                virtual_private: VirtualPrivate) -> TrafficSelector | None:
    """The responder's selector for the peer's side (TSi) of a connection whose peer end is
    ``end``.

    A configured end narrows as :func:`narrow` does. A virtual end (``vhost:``/``vnet:``, a
    road warrior behind a NAT claiming its inside address) takes the first proposed selector
    that is a whole CIDR block its virtual subnet accepts: inside virtual-private and not
    excluded, or the peer's own address for ``%no``. Once an instance has accepted a claim,
    its client is that claim and later Child SAs narrow to it.
    """
    if end.virtual is None or end.client is not None:
        selector = end.selector()
        return None if selector is None else narrow(selector, proposed)
    candidates = [(network_of(ts), ts) for ts in proposed]
    claims = [net for net, _ts in candidates if net is not None]
    chosen = choose_client(end.virtual, claims, end.host, virtual_private)
    return next((ts for net, ts in candidates if net == chosen), None) if chosen else None


def narrow_instance(conn: Connection, client: IPNetwork) -> None:
    """Make a road warrior's instance protect what its first Child SA negotiated, as
    libreswan's instances do: status shows the peer's narrowed client (its /32, the claim a
    virtual end accepted) rather than the template's 0.0.0.0/0, and later Child SAs (rekeys)
    narrow to it. Templates and permanent connections are left alone."""
    if conn.kind is not Kind.INSTANCE:
        return
    current = conn.that.client
    if current is None and conn.that.virtual is None:
        return  # the peer's host alone: already as narrow as it gets
    if current is not None and (client == current or client.version != current.version
                                or not client.subnet_of(current)):
        return
    that = replace(conn.that, client=client)
    if conn.this_is_left:
        conn.right = that
    else:
        conn.left = that
