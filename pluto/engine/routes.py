"""``--route`` and ``--unroute``: trap policies that make the kernel ask for an SA.

A routed connection has an outbound policy for its selectors even while no Child SA exists.
Its template names the connection's reqid and no SA matches it, so the first packet makes the
kernel send an ACQUIRE (pluto/engine/kernel_events.py), and pluto initiates. When a Child SA
comes up it shares that policy (same reqid); when the last one goes the policy goes back to
being a trap instead of being deleted.

Conflicts, kept simple (pluto(8), "Pluto's Internal State"): a connection may only route
selectors that no other connection's route or Child SA owns; otherwise ``--route`` is refused
and names the owner.
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
    return PolicySpec("out", conn.this.selector(), conn.that.selector(), conn.this.host,
                      conn.that.host, mode, "esp", reqid)


def route_owning(core: Pluto, policy: PolicySpec) -> Route | None:
    """The route whose outbound policy has ``policy``'s direction and selectors."""
    key = _key(policy)
    for route in core.routes.values():
        if _key(route.policy) == key:
            return route
    return None


def _child_owning(core: Pluto, policy: PolicySpec) -> ChildSa | None:
    key = _key(policy)
    for state in core.states:
        if isinstance(state, ChildSa) and any(_key(p) == key for p in state.policies):
            return state
    return None


def route(core: Pluto, conn: Connection) -> str | None:
    """Install ``conn``'s trap policy; the reason when it cannot be routed, else None."""
    if conn.name in core.routes:
        return None
    if conn.kind is Kind.TEMPLATE or conn.that.host is None:
        return f"{conn.label}: cannot route a connection whose peer is %any"
    wanted = trap_policy(conn, 0)
    other = route_owning(core, wanted)
    if other is not None:
        return (f"{conn.label}: cannot route: {wanted.src_selector}==={wanted.dst_selector} "
                f"is already routed for {other.conn.label}")
    child = _child_owning(core, wanted)
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

    failure = updown_calls.call(core, conn, ["prepare", "route"], _conn_logger(core, conn),
                                reqid=trap.reqid)
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
    if _child_owning(core, route.policy) is not None:
        return  # the Child SA's own policy now; it is removed with the Child SA
    _delete_policy(core, route.policy)
    from pluto.engine import updown_calls

    updown_calls.call(core, conn, ["unroute"], _conn_logger(core, conn),
                      reqid=route.policy.reqid)


def _delete_policy(core: Pluto, policy: PolicySpec) -> None:
    try:
        core.kernel.delete_policy(policy)
    except KernelError as err:
        core.logger.log(f"kernel: {err}")


def _conn_logger(core: Pluto, conn: Connection):
    return core.logger.with_prefix(f"{conn.label}: ")
