"""The connections pluto knows, and how an incoming IKE SA finds its connection.

Responder matching happens in steps (issue 3): :meth:`ConnectionTable.candidates_for` narrows
by addresses when IKE_SA_INIT arrives, :meth:`ConnectionTable.refine_by_id` picks by the peer's
ID in IKE_AUTH (traffic selectors come last, in the exchange code). A template that wins is
turned into an instance for that peer, ``"conn"[N] ADDR``, by
:meth:`ConnectionTable.instantiate`.

There are few connections and the lookups run once per new IKE SA, not per packet, so they scan
the table instead of keeping an index that orientation would have to invalidate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pluto.connections.builder import ConnectionError
from pluto.connections.connection import Connection, Kind
from pluto.connections.ids import Identity
from pluto.engine.host import Endpoint


class ConnectionTable:
    def __init__(self) -> None:
        self._named: dict[str, Connection] = {}  # permanent and template connections
        self._instances: dict[str, dict[int, Connection]] = {}  # template name -> N -> inst
        self._last_instance: dict[str, int] = {}  # numbers are never reused in a run

    # -- adding, removing, finding by name --------------------------------------------

    def add(self, conn: Connection) -> None:
        if conn.kind is Kind.INSTANCE:
            raise ConnectionError(f"{conn.label}: instances are made by instantiate(), "
                                  "not added")
        if conn.name in self._named:
            raise ConnectionError(f'attempt to redefine connection "{conn.name}"')
        self._named[conn.name] = conn

    def delete(self, name: str) -> Connection:
        """Remove a connection (a template with its instances) and return it."""
        conn = self._named.pop(name, None)
        if conn is None:
            raise ConnectionError(f'no connection named "{name}"')
        self._instances.pop(name, None)
        return conn

    def get(self, name: str) -> Connection | None:
        return self._named.get(name)

    def get_instance(self, name: str, number: int) -> Connection | None:
        return self._instances.get(name, {}).get(number)

    def lookup(self, text: str) -> Connection | None:
        """A connection as whack names it: ``NAME``, or an instance as logs show it,
        ``"NAME"[N]`` or ``NAME[N]`` (what follows, such as the peer's address, is ignored
        when it is that instance's)."""
        found = self._named.get(text)
        if found is not None:
            return found
        match = _INSTANCE_NAME.fullmatch(text.strip())
        if match is None:
            return None
        name = match["quoted"] if match["quoted"] is not None else match["bare"]
        instance = self.get_instance(name, int(match["number"]))
        if instance is None or match["peer"] and match["peer"] != str(instance.that.host):
            return None
        return instance

    def instances_of(self, template: Connection) -> list[Connection]:
        return list(self._instances.get(template.name, {}).values())

    def __contains__(self, name: object) -> bool:
        return name in self._named

    def __len__(self) -> int:
        return len(self._named) + sum(len(found) for found in self._instances.values())

    def __iter__(self) -> Iterator[Connection]:
        """Every connection, sorted by name, each template followed by its instances."""
        for name in sorted(self._named):
            yield self._named[name]
            instances = self._instances.get(name, {})
            for number in sorted(instances):
                yield instances[number]

    # -- matching an incoming IKE SA ----------------------------------------------------

    def candidates_for(self, local: Endpoint, remote: Endpoint) -> list[Connection]:
        """Connections that could answer a peer at ``remote`` talking to us at ``local``.

        First the permanent connections whose host pair matches (this end's address and IKE
        port are ``local``, that end's address is ``remote``'s; the peer's port is not
        compared, NAT may change it), then the templates whose local end matches. Each group
        keeps the order the connections were added in. Instances are not candidates: each new
        IKE SA from a road warrior gets an instance of its own (two peers behind one NAT share
        an address, not a connection).
        """
        permanent: list[Connection] = []
        templates: list[Connection] = []
        for conn in self._named.values():
            if not conn.oriented or (conn.this.host, conn.this.ikeport) != local:
                continue
            if conn.kind is Kind.TEMPLATE:
                templates.append(conn)
            elif conn.that.host == remote[0]:
                permanent.append(conn)
        return permanent + templates

    def refine_by_id(self, candidates: list[Connection], peer_id: Identity
                     ) -> Connection | None:
        """The candidate whose peer ID accepts ``peer_id``, or None.

        A connection naming that exact ID beats one that accepts any ID (%any, or a template
        without --id); among equals a permanent connection or an instance beats a template;
        then the order of ``candidates``.
        """
        best: Connection | None = None
        best_rank: tuple[int, int] | None = None
        for conn in candidates:
            wanted = _peer_id(conn)
            if wanted is None or wanted.is_any:
                id_rank = 1
            elif wanted.matches(peer_id):
                id_rank = 0
            else:
                continue
            rank = (id_rank, 1 if conn.kind is Kind.TEMPLATE else 0)
            if best_rank is None or rank < best_rank:
                best, best_rank = conn, rank
        return best

    # -- instances --------------------------------------------------------------------

    def instantiate(self, template: Connection, remote: Endpoint) -> Connection:
        """A new instance of ``template`` for the peer at ``remote``, numbered [1], [2], ..."""
        if self._named.get(template.name) is not template:
            raise ConnectionError(f'connection "{template.name}" is not in the table')
        if template.kind is not Kind.TEMPLATE:
            raise ConnectionError(f'connection "{template.name}" is not a template')
        if not template.oriented:
            raise ConnectionError(f'connection "{template.name}" is not oriented')
        address, port = remote
        ours = template.this.host
        if ours is not None and ours.version != address.version:
            raise ConnectionError(f'connection "{template.name}": peer {address} is not of '
                                  f"the family of {ours}")
        number = self._last_instance.get(template.name, 0) + 1
        self._last_instance[template.name] = number
        instance = template.instantiate(number, address, port)
        self._instances.setdefault(template.name, {})[number] = instance
        return instance

    def remove_instance(self, conn: Connection) -> None:
        instances = self._instances.get(conn.name, {})
        if instances.get(conn.instance_number) is not conn:
            raise ConnectionError(f"{conn.label}: no such instance")
        del instances[conn.instance_number]
        if not instances:
            del self._instances[conn.name]


# "road"[1], road[1], "road"[1] 203.0.113.209
_INSTANCE_NAME = re.compile(r'(?:"(?P<quoted>[^"]+)"|(?P<bare>[^"\s\[\]]+))'
                            r"\[(?P<number>[0-9]{1,9})\](?:\s+(?P<peer>\S+))?")


def _peer_id(conn: Connection) -> Identity | None:
    """The ID a connection wants from its peer; None: any (an instance of an ID-less template
    takes whatever ID its peer proves, not its address)."""
    if conn.kind is Kind.INSTANCE and conn.that.id is None:
        return None
    return conn.that.identity()
