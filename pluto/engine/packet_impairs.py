"""Impairs on whole datagrams, inbound and outbound: drop, duplicate or block the Nth one.

Messages are counted from 1 per direction over the life of one pluto. ``drop-*:N`` loses
message N, ``duplicate-*:N`` delivers it twice, ``block-*:N`` loses N and everything after.
Each impair that fires logs an ``IMPAIR:`` line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluto.engine.host import Endpoint, format_endpoint
from pluto.impair import REGISTRY, ImpairSpec, Kind, register

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

for _direction in ("inbound", "outbound"):
    for _verb, _help in (("drop", "drop the Nth {} message"),
                         ("duplicate", "send the Nth {} message twice"),
                         ("block", "drop the Nth {} message and every one after it")):
        _name = f"{_verb}-{_direction}"
        if _name not in REGISTRY:
            register(ImpairSpec(_name, Kind.UNSIGNED, _help.format(_direction)))


def _copies(core: Pluto, direction: str, where: str) -> int:
    """How many copies of the next message in ``direction`` go through (0, 1 or 2)."""
    counters = core.__dict__.setdefault("_packet_counters", {"inbound": 0, "outbound": 0})
    counters[direction] += 1
    n = counters[direction]
    impairs = core.impairs
    if not impairs.values:
        return 1
    block = impairs.get(f"block-{direction}")
    if block and n >= block:
        core.logger.impair(f"block {direction} message #{n} {where}")
        return 0
    if impairs.get(f"drop-{direction}") == n:
        core.logger.impair(f"drop {direction} message #{n} {where}")
        return 0
    if impairs.get(f"duplicate-{direction}") == n:
        core.logger.impair(f"duplicate {direction} message #{n} {where}")
        return 2
    return 1


def send(core: Pluto, datagram: bytes, local: Endpoint, remote: Endpoint) -> None:
    for _ in range(_copies(core, "outbound", f"to {format_endpoint(remote)}")):
        core.logger.debug("raw", f"sending {len(datagram)} bytes to {format_endpoint(remote)}")
        core.transport.send(datagram, local, remote)


def inbound_copies(core: Pluto, remote: Endpoint) -> int:
    return _copies(core, "inbound", f"from {format_endpoint(remote)}")
