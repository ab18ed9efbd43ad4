"""Reviving a connection that is meant to be up after the peer deleted its SAs.

A connection is "up" once whack --initiate (ipsec up, auto=start) asked for it, until
--terminate/--down/--delete or a whack --deletestate takes it down (``Connection.up``). When
the peer's Delete takes away its IKE SA, or the last Child SA it carries traffic with, the
connection is started again, as libreswan does: the first attempt at once, each later one
5 s later than the one before, at most 300 s; the back-off starts over once a negotiation we
started succeeds. ``--impair revival`` stops it. Connections only ever answered here (never
initiated, not auto=start) are not revived: their peer is the one to start again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pluto.connections.connection import Connection, Kind
from pluto.engine.states import ChildSa, IkeSa, State
from pluto.engine.timers import Timer

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

DELAY_STEP = 5.0  # seconds added per attempt (libreswan's REVIVE_CONN_DELAY)
DELAY_MAX = 300.0  # no attempt waits longer (REVIVE_CONN_DELAY_MAX)
WHY_DELETE = "received Delete/Notify"


@dataclass
class Revival:
    """One connection's back-off: how many attempts, the next one's delay, its timer."""

    attempt: int = 0
    delay: float = 0.0
    timer: Timer | None = None


def _of(conn: Connection) -> Revival:
    if not isinstance(conn.revival, Revival):
        conn.revival = Revival()
    return conn.revival  # type: ignore[return-value]


def set_up(conn: Connection, up: bool) -> None:
    """whack marks a connection up (initiate) or down (terminate, delete, deletestate); a
    pending revival goes either way (an initiate starts the negotiation itself)."""
    conn.up = up
    cancel(conn)


def cancel(conn: Connection) -> None:
    revival = conn.revival
    if isinstance(revival, Revival) and revival.timer is not None:
        revival.timer.cancel()
        revival.timer = None


def negotiated(conn: Connection) -> None:
    """A negotiation we started succeeded: the next revival starts from no delay again."""
    if isinstance(conn.revival, Revival):
        conn.revival.attempt = 0
        conn.revival.delay = 0.0


def after_peer_delete(core: Pluto, deleted: State) -> None:
    """The peer's Delete removed ``deleted`` (already gone from the table): revive its
    connection if it is meant to be up and nothing of it carries traffic any more."""
    conn = deleted.conn
    if not conn.up or conn.kind is Kind.INSTANCE or core.connections.get(conn.name) is not conn:
        return
    left = core.states.for_connection(conn)
    if any(isinstance(s, ChildSa) for s in left):
        return  # another Child SA (or one being negotiated) still serves the connection
    if isinstance(deleted, IkeSa) and any(isinstance(s, IkeSa) for s in left):
        return  # the IKE SA a rekey replaced: its successor carries on
    revival = _of(conn)
    if revival.timer is not None and not revival.timer.cancelled:
        return  # already scheduled (an IKEv1 peer deletes the IPsec and ISAKMP SAs apart)
    delay = revival.delay
    revival.delay = min(delay + DELAY_STEP, DELAY_MAX)
    revival.attempt += 1
    deleted.logger.log(f"connection is supposed to remain up; revival attempt "
                       f"{revival.attempt} scheduled in {delay:g} seconds")
    if core.impairs.get("revival"):
        deleted.logger.impair("revival: skipping the revival of the connection")
        return
    core.logger.debug("base", f"{conn.label}: revival timer in {delay:g}s")
    revival.timer = core.timers.schedule(core.clock.now() + delay, "revival",
                                         lambda: _revive(core, conn, WHY_DELETE))


def _revive(core: Pluto, conn: Connection, why: str) -> None:
    revival = _of(conn)
    revival.timer = None
    if not conn.up or core.connections.get(conn.name) is not conn:
        return
    if any(isinstance(s, ChildSa) for s in core.states.for_connection(conn)):
        core.logger.debug("base", f"{conn.label}: revival not needed, a Child SA is back")
        return
    core.logger.log(f"{conn.label}: reviving connection which {why} but must remain up per "
                    "local policy")
    if conn.policy.ikev2:
        from pluto.ikev2 import create_child_sa, ike_sa_init

        ike = create_child_sa.usable_ike_sa(core, conn)
        if ike is not None:  # only the Child SA went: CREATE_CHILD_SA on the IKE SA left
            create_child_sa.initiate_child(core, ike, conn)
        else:
            ike_sa_init.initiate(core, conn)
        return
    from pluto.ikev1 import quick_mode, rekey
    from pluto.ikev1.states import IsakmpSa

    isakmp = next((s for s in core.states.for_connection(conn)
                   if isinstance(s, IsakmpSa) and s.kind.established), None)
    if isakmp is not None:
        quick_mode.initiate(core, isakmp, conn)
    else:
        rekey.phase1_initiate(core, conn)
