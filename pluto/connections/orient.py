"""Orientation: which end of a connection is this host.

An end is ours when its (host, ikeport) is one of the endpoints pluto listens on. A %any end
is never ours: it is the peer of a template. pluto orients a connection when it is added and
again when the set of listened endpoints changes (``--listen``).
"""

from __future__ import annotations

from collections.abc import Iterable

from pluto.connections.builder import ConnectionError
from pluto.connections.connection import Connection, End
from pluto.engine.host import Endpoint, format_endpoint


def orient(conn: Connection, listening: Iterable[Endpoint]) -> None:
    """Set ``conn.this_is_left``; ConnectionError (and unoriented) if no single end is ours."""
    endpoints = set(listening)
    left_ours = _is_ours(conn.left, endpoints)
    right_ours = _is_ours(conn.right, endpoints)
    if left_ours and right_ours:
        conn.this_is_left = None
        raise ConnectionError(
            f'connection "{conn.name}": both ends ({_where(conn.left)} and '
            f"{_where(conn.right)}) are endpoints of this host; one must be the peer's")
    if not left_ours and not right_ours:
        conn.this_is_left = None
        raise ConnectionError(
            f'connection "{conn.name}": cannot tell which end is ours: neither '
            f"{_where(conn.left)} nor {_where(conn.right)} is an endpoint pluto listens on")
    conn.this_is_left = left_ours


def _is_ours(end: End, endpoints: set[Endpoint]) -> bool:
    return end.host is not None and (end.host, end.ikeport) in endpoints


def _where(end: End) -> str:
    if end.host is None:
        return "%any"
    return format_endpoint((end.host, end.ikeport))
