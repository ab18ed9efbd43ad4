"""Impairs on whole datagrams, inbound and outbound: drop, duplicate or block the Nth one.

Messages are counted from 1 per direction over the life of one pluto. ``drop-*:N`` loses
message N, ``duplicate-*:N`` delivers it twice, ``block-*:N`` loses N and everything after,
``drip-*:N`` holds N back and lets it through after the next message (reordering), and
``replay-*:N`` lets N through and then once more after the next message (a late replay).
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
                         ("block", "drop the Nth {} message and every one after it"),
                         ("drip", "hold the Nth {} message back until after the next one"),
                         ("replay", "pass the Nth {} message, then replay it after the next "
                                    "one")):
        _name = f"{_verb}-{_direction}"
        if _name not in REGISTRY:
            register(ImpairSpec(_name, Kind.UNSIGNED, _help.format(_direction)))


def _copies(core: Pluto, direction: str, n: int, where) -> int:
    """How many copies of message ``n`` in ``direction`` go through (0, 1 or 2)."""
    impairs = core.impairs
    block = impairs.get(f"block-{direction}")
    if block and n >= block:
        core.logger.impair(f"block {direction} message #{n} {where()}")
        return 0
    if impairs.get(f"drop-{direction}") == n:
        core.logger.impair(f"drop {direction} message #{n} {where()}")
        return 0
    if impairs.get(f"duplicate-{direction}") == n:
        core.logger.impair(f"duplicate {direction} message #{n} {where()}")
        return 2
    return 1


def _route(core: Pluto, direction: str, where, deliver) -> None:
    """Deliver one message through the impairs: ``deliver()`` passes it on once.

    ``where()`` describes the peer for IMPAIR lines; it is only called when one fires, so
    the unimpaired per-packet path builds no strings.
    """
    core.packet_counters[direction] += 1
    late = core.late_messages[direction]
    if not core.impairs.values and not late:
        deliver()
        return
    n = core.packet_counters[direction]
    copies = _copies(core, direction, n, where) if core.impairs.values else 1
    pending, late[:] = list(late), []
    if copies and core.impairs.values:
        if core.impairs.get(f"drip-{direction}") == n:
            core.logger.impair(f"drip {direction} message #{n} {where()}: holding it back")
            late.append((deliver, n, "releasing held"))
            copies = 0
        elif core.impairs.get(f"replay-{direction}") == n:
            late.append((deliver, n, "replaying"))
    for _ in range(copies):
        deliver()
    for again, number, verb in pending:
        core.logger.impair(f"{verb} {direction} message #{number}")
        again()


def send(core: Pluto, datagram: bytes, local: Endpoint, remote: Endpoint) -> None:
    def deliver() -> None:
        if core.logger.debugging("raw"):
            core.logger.debug("raw", f"sending {len(datagram)} bytes to "
                                     f"{format_endpoint(remote)}")
        core.transport.send(datagram, local, remote)

    _route(core, "outbound", lambda: f"to {format_endpoint(remote)}", deliver)


def receive(core: Pluto, remote: Endpoint, deliver) -> None:
    """An inbound datagram from ``remote``: ``deliver()`` processes it once."""
    _route(core, "inbound", lambda: f"from {format_endpoint(remote)}", deliver)

