"""Traffic selectors: networks to TSi/TSr entries and back, and responder narrowing (§2.9).

A configured end protects a subnet (or a single host) for every protocol and port; a
TrafficSelector is an address range with a protocol and a port range. :func:`narrow` is the
responder's choice: the intersection of what it is configured with and what the initiator
proposed, taking the proposed selector that leaves the most of it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

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
