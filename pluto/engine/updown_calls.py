"""When the core runs the updown command, and with what (pluto/kernel/updown.py runs it).

A Child SA coming up on a connection that is not routed runs ``prepare``, ``route`` and
``up``; on a routed one only ``up``. Going down runs ``down``, then ``unroute`` unless the
connection stays routed. ``--route`` runs ``prepare`` and ``route``; ``--unroute``
``unroute``. With the nostack back end only a configured command runs: the built-in default
changes the host's routing table, which a pluto without a kernel must not touch.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from pluto.connections.connection import Connection
from pluto.engine.states import ChildSa
from pluto.kernel import updown
from pluto.log import Logger

if TYPE_CHECKING:
    from pluto.engine.core import Pluto


def command_for(core: Pluto, conn: Connection) -> str | None:
    if conn.this.updown is not None:
        return conn.this.updown
    return updown.DEFAULT_UPDOWN if getattr(core.kernel, "name", "") == "xfrm" else None


def context(core: Pluto, conn: Connection, child: ChildSa | None = None,
            reqid: int = 0) -> updown.UpdownContext:
    ike = core.states.ike(child.ike_serial) if child is not None else None
    me = ike.local[0] if ike is not None and ike.local else conn.this.host
    peer = ike.remote[0] if ike is not None and ike.remote else conn.that.host
    my_client = child.local_ts if child is not None and child.local_ts else conn.this.selector()
    peer_client = (child.remote_ts if child is not None and child.remote_ts
                   else conn.that.selector())
    if my_client is None:
        my_client = ipaddress.ip_network(me)
    if peer_client is None:
        peer_client = ipaddress.ip_network(peer)
    peer_id = ike.peer_id if ike is not None and ike.peer_id is not None \
        else conn.that.identity()
    my_id = conn.this.identity()
    mine, theirs = conn.this.protoport or (0, 0), conn.that.protoport or (0, 0)
    interface = updown.interface_of(me) if me is not None else ""
    next_hop = conn.this.nexthop
    if next_hop is None and peer is not None:
        # No leftnexthop (or %defaultroute): the gateway the kernel uses to reach the peer,
        # the peer itself when it is on the link, as libreswan's PLUTO_NEXT_HOP.
        route = updown.route_to(peer)
        next_hop = route.gateway if route is not None and route.gateway else peer
        interface = interface or (route.interface if route is not None else "")
    return updown.UpdownContext(
        connection=conn.name, me=me, peer=peer, my_client=my_client, peer_client=peer_client,
        next_hop=next_hop, my_id="" if my_id is None else str(my_id),
        peer_id="" if peer_id is None else str(peer_id), my_protocol=mine[0],
        peer_protocol=theirs[0], my_port=mine[1], peer_port=theirs[1],
        interface=interface, reqid=child.reqid if child is not None else reqid)


def call(core: Pluto, conn: Connection, verbs: list[str], logger: Logger,
         child: ChildSa | None = None, reqid: int = 0) -> str | None:
    """Run the command once per base verb, in order; the first failure's text, or None."""
    command = command_for(core, conn)
    if command is None:
        return None
    ctx = context(core, conn, child, reqid)
    for base in verbs:
        full_verb = updown.verb(base, ctx)
        shown = "the default updown" if command is updown.DEFAULT_UPDOWN else f'"{command}"'
        logger.debug("kernel", f"running updown {shown} for {full_verb}")
        result = updown.run(command, full_verb, ctx)
        for line in result.output:
            logger.log(f"updown: {line}")
        if not result.ok:
            why = result.error or f"exit status {result.returncode}"
            text = f"updown {shown} failed for {full_verb}: {why}"
            logger.log(text)
            return text
    return None


def bring_up(core: Pluto, child: ChildSa) -> str | None:
    routed = child.conn.name in core.routes
    return call(core, child.conn, ["up"] if routed else ["prepare", "route", "up"],
                child.logger, child)


def take_down(core: Pluto, child: ChildSa) -> None:
    routed = child.conn.name in core.routes
    call(core, child.conn, ["down"] if routed else ["down", "unroute"], child.logger, child)
