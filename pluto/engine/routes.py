"""``--route`` and ``--unroute``: trap policies that make the kernel ask for an SA.

A routed connection has an outbound policy for its selectors even while no Child SA exists.
Its template names the connection's reqid and no SA matches it, so the first packet makes the
kernel send an ACQUIRE (pluto/engine/kernel_events.py), and pluto initiates. When a Child SA
comes up it shares that policy (same reqid); when the last one goes the policy goes back to
being a trap instead of being deleted.

Ownership, as pluto(8) ("Pluto's Internal State", the --route and --unroute forms) states it.
A *route* is for the peer's client subnet through one interface (our host address) and gateway
(our --nexthop, else the peer); an *eroute* is the outbound policy of one pair of clients.

- Route conflict: two connections route the same peer client subnet through a different
  interface or gateway. If the other connection has no IPsec SA its route is taken down (it is
  unrouted) and ours goes in; if it has one, --route is refused (rules_route_conflict).
- Shared route: same peer client subnet, same interface and gateway. Both are routed; the
  updown's prepare/route runs only for the first and unroute only for the last, so unrouting
  one leaves the route the other still uses in place.
- Eroute conflict: identical local and remote clients. Two traps cannot share one kernel policy:
  a second --route is refused; an eroute in use by another connection's IPsec SA refuses both
  --route and that connection's Child SA (pluto/engine/child_sas.py).
- A trap is not an IPsec SA's eroute: a Child SA of another connection for the same clients
  takes the policy over, and the trap comes back when that Child SA goes.
- Not done: pluto(8)'s responder exception (a responder deletes the SAs of a conflicting
  route "to make room"). Like libreswan today, a responder refuses such a Child SA
  (TS_UNACCEPTABLE); a road warrior's new instance takes over its old instance's policies
  (child_sas.py), which covers the case the exception was written for.
Every decision is logged, naming the owner ("route ... owned by ...").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pluto.connections.connection import Connection, Kind
from pluto.engine.states import ChildSa
from pluto.kernel.ops import KernelError, PolicySpec

if TYPE_CHECKING:
    from pluto.engine.core import Pluto


@dataclass
class Route:
    conn: Connection
    policy: PolicySpec  # the outbound policy: a trap, or the Child SA's that it turned into
    installed: bool  # we added the trap (False: it was a Child SA's policy already)


def base(conn: Connection) -> Connection:
    """Instances of one template count as one connection."""
    return conn.template if conn.template is not None else conn


def _key(policy: PolicySpec) -> tuple:
    return (policy.direction, policy.src_selector, policy.dst_selector)


def trap_policy(conn: Connection, reqid: int) -> PolicySpec:
    mode = "tunnel" if conn.policy.tunnel else "transport"
    policy = conn.policy
    # the template names the protocols the Child SA will have (AH and ESP+AH are IKEv1's)
    proto = ("esp+ah" if policy.encrypt and policy.authenticate
             else "ah" if policy.authenticate else "esp")
    return PolicySpec("out", conn.this.selector(), conn.that.selector(), conn.this.host,
                      conn.that.host, mode, proto, reqid)


def route_owning(core: Pluto, policy: PolicySpec) -> Route | None:
    """The route whose outbound policy has ``policy``'s direction and selectors."""
    key = _key(policy)
    for route in core.routes.values():
        if _key(route.policy) == key:
            return route
    return None


def child_owning(core: Pluto, policy: PolicySpec) -> ChildSa | None:
    """The Child SA whose policies include one with ``policy``'s direction and selectors."""
    key = _key(policy)
    for state in core.states:
        if isinstance(state, ChildSa) and any(_key(p) == key for p in state.policies):
            return state
    return None


def gateway(conn: Connection):
    """(interface, gateway) of ``conn``'s route: our host address and our next hop, else the
    peer itself (pluto(8) --nexthop: "the default is the peer's IP address")."""
    return conn.this.host, conn.this.nexthop or conn.that.host


def route_conflict(a: Connection, b: Connection) -> bool:
    """pluto(8): "Two connections may not be simultaneously routed if they are for the same
    peer's client subnet but use different interfaces or gateways"."""
    return (base(a) is not base(b) and a.that.selector() == b.that.selector()
            and gateway(a) != gateway(b))


def shares_route(a: Connection, b: Connection) -> bool:
    return (base(a) is not base(b) and a.that.selector() == b.that.selector()
            and gateway(a) == gateway(b))


def ipsec_sa_of(core: Pluto, conn: Connection) -> ChildSa | None:
    """A Child SA instantiating ``conn`` (an IPsec SA using its route), if any."""
    return next((state for state in core.states
                 if isinstance(state, ChildSa) and state.conn is conn and state.sas), None)


def _take_down_conflicts(core: Pluto, conn: Connection) -> str | None:
    """Unroute the connections whose route conflicts with ``conn``'s, unless one has an IPsec
    SA: then the reason ``conn`` cannot be routed."""
    conflicting = [route for route in core.routes.values() if route_conflict(conn, route.conn)]
    for route in conflicting:
        child = ipsec_sa_of(core, route.conn)
        if child is not None:
            return (f"{conn.label}: cannot route: route to {conn.that.selector()} is owned by "
                    f"{route.conn.label}, in use by {child.label}")
    for route in conflicting:
        core.logger.log(f"{conn.label}: route to {conn.that.selector()} owned by "
                        f"{route.conn.label} (no IPsec SA, different gateway); unrouting "
                        f"{route.conn.label}")
        unroute(core, route.conn)
    return None


def _sharing(core: Pluto, conn: Connection) -> Route | None:
    return next((route for route in core.routes.values()
                 if route.conn is not conn and shares_route(conn, route.conn)), None)


def route(core: Pluto, conn: Connection) -> str | None:
    """Install ``conn``'s trap policy; the reason when it cannot be routed, else None."""
    if conn.name in core.routes:
        return None
    if conn.kind is Kind.TEMPLATE or conn.that.host is None:
        return f"{conn.label}: cannot route a connection whose peer is %any"
    wanted = trap_policy(conn, 0)
    if route_owning(core, wanted) is None and child_owning(core, wanted) is None:
        failure = _take_down_conflicts(core, conn)
        if failure is not None:
            return failure
    other = route_owning(core, wanted)
    if other is not None:
        return (f"{conn.label}: cannot route: {wanted.src_selector}==={wanted.dst_selector} "
                f"is already routed for {other.conn.label}")
    child = child_owning(core, wanted)
    if child is not None and base(child.conn) is not base(conn):
        return (f"{conn.label}: cannot route: {wanted.src_selector}==={wanted.dst_selector} "
                f"is in use by {child.label}")
    if child is not None:
        # Up already: its policy becomes the route's and stays when the Child SA goes.
        own = next(p for p in child.policies if _key(p) == _key(wanted))
        core.routes[conn.name] = Route(conn, own, installed=False)
        core.logger.log(f"{conn.label}: route is the policy of {child.label}")
        return None
    trap = trap_policy(conn, core.next_reqid())
    try:
        core.kernel.add_policy(trap)
    except KernelError as err:
        return f"{conn.label}: cannot route: kernel: {err}"
    core.routes[conn.name] = Route(conn, trap, installed=True)
    from pluto.engine import updown_calls

    shared = _sharing(core, conn)
    if shared is not None:
        # the updown's route-client runs "for a new peer client subnet" only
        core.logger.log(f"{conn.label}: route to {conn.that.selector()} owned by "
                        f"{shared.conn.label} too (same gateway); sharing it")
    failure = None if shared is not None else updown_calls.call(
        core, conn, ["prepare", "route"], _conn_logger(core, conn), reqid=trap.reqid)
    if failure is not None:
        del core.routes[conn.name]
        _delete_policy(core, trap)
        return f"{conn.label}: cannot route: {failure}"
    core.logger.debug("kernel", f"{conn.label}: trap policy {trap.src_selector}==="
                                f"{trap.dst_selector} reqid {trap.reqid} installed")
    return None


def unroute(core: Pluto, conn: Connection) -> None:
    """Remove ``conn``'s trap policy; a Child SA using it keeps it until it goes."""
    route = core.routes.pop(conn.name, None)
    if route is None:
        return
    if child_owning(core, route.policy) is not None:
        return  # the Child SA's own policy now; it is removed with the Child SA
    _delete_policy(core, route.policy)
    from pluto.engine import updown_calls

    shared = _sharing(core, conn)
    if shared is not None:
        # pluto(8) --unroute: "If another connection is sharing the same routing, it will be
        # left in place."
        core.logger.log(f"{conn.label}: route to {conn.that.selector()} is shared with "
                        f"{shared.conn.label}; left in place")
        return
    updown_calls.call(core, conn, ["unroute"], _conn_logger(core, conn),
                      reqid=route.policy.reqid)


def _delete_policy(core: Pluto, policy: PolicySpec) -> None:
    try:
        core.kernel.delete_policy(policy)
    except KernelError as err:
        core.logger.log(f"kernel: {err}")


def _conn_logger(core: Pluto, conn: Connection):
    return core.logger.with_prefix(f"{conn.label}: ")
