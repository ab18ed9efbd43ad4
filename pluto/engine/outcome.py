"""How negotiations end: success, failure (with keyingtries), and deleting states.

whack's reply for a sync ``--initiate`` closes here: RC_SUCCESS when the Child SA (or a
childless IKE SA) is up, RC_NOTIFICATION + the notify type when the negotiation fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluto.engine.states import ChildSa, IkeSa, State, StateKind
from pluto.impair import REGISTRY, ImpairSpec, Kind, register
from pluto.whack_protocol import RC_NOTIFICATION, RC_SUCCESS

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

if "revival" not in REGISTRY:
    register(ImpairSpec("revival", Kind.BOOLEAN,
                        "do not revive a connection or start another keying attempt after a "
                        "failure (tests)"))

# A failure we noticed ourselves, with no notify to name (a timeout): whack still needs a
# non-zero code.
RC_TIMEOUT = RC_NOTIFICATION


def release_whack(core: Pluto, state: State, rc: int, text: str | None = None) -> None:
    """Close the whack stream following ``state``'s negotiation, if there is one."""
    ike = state if isinstance(state, IkeSa) else core.states.ike(getattr(state, "ike_serial", 0))
    reply = state.whack or (ike.whack if ike is not None else None)
    if reply is None:
        return
    state.whack = None
    if ike is not None:
        ike.whack = None
    if text is not None:
        reply.line(rc, text)
    reply.done(0 if rc == RC_SUCCESS else rc)


def succeeded(core: Pluto, state: State, line: str) -> None:
    """The negotiation whack follows is done: its last line carries RC_SUCCESS."""
    from pluto.engine import revival

    revival.negotiated(state.conn)  # a revival's back-off starts over
    core.logger.sink(state.logger.prefix + line)
    release_whack(core, state, RC_SUCCESS, state.logger.prefix + line)


def fail(core: Pluto, ike: IkeSa, notify_type: int | None, reason: str) -> None:
    """An IKE SA negotiation failed: tell whack, delete the state, maybe try again."""
    core.logger.sink(ike.logger.prefix + reason)
    rc = RC_NOTIFICATION + notify_type if notify_type is not None else RC_TIMEOUT
    release_whack(core, ike, rc, f"{ike.logger.prefix}{reason}")
    ike.failure_notify = notify_type
    conn, tries = ike.conn, ike.keying_try
    initiator = ike.initiator and not ike.kind.established
    delete_state(core, ike)
    if initiator:
        retry(core, conn, tries, ike.logger)


def retry(core: Pluto, conn, tries: int, logger) -> None:
    limit = conn.lifetimes.keyingtries
    if limit and tries >= limit:
        logger.log(f"giving up after {tries} keying attempt{'s' if tries > 1 else ''}")
        return
    if core.impairs.get("revival"):
        logger.impair("revival: skipping another keying attempt")
        return
    if core.connections.get(conn.name) is None:
        return
    of = f"at most {limit}" if limit else "an unlimited number"
    logger.log(f"starting keying attempt {tries + 1} of {of}")
    if conn.policy.ikev2:
        from pluto.ikev2 import ike_sa_init

        ike_sa_init.initiate(core, conn, keying_try=tries + 1)
    else:
        from pluto.ikev1 import main_mode

        main_mode.initiate(core, conn, keying_try=tries + 1)


def exchange_timed_out(core: Pluto, ike: IkeSa, exchange: int) -> None:
    if not ike.kind.established:
        fail(core, ike, None, "negotiation failed: the peer did not respond")
        return
    ike.logger.log("peer is not responding; deleting IKE SA and its Child SAs")
    conn = ike.conn
    delete_state(core, ike)
    action = conn.dpd.action if getattr(conn, "dpd", None) is not None else "restart"
    if action != "restart":
        # dpdaction=clear forgets the peer; hold leaves it to the route (a trap, if routed)
        # to start again when traffic comes.
        ike.logger.log(f"dpdaction={action}: not reviving the connection")
        return
    revive(core, conn, ike)


def revive(core: Pluto, conn, ike: IkeSa) -> None:
    """An established connection went down without being told to: bring it back."""
    if core.impairs.get("revival"):
        ike.logger.impair("revival: skipping the revival of the connection")
        return
    if conn.kind.value == "instance" or core.connections.get(conn.name) is None:
        return
    if not conn.that.host:
        return
    ike.logger.log("reviving connection")
    if not conn.policy.ikev2:  # an IKEv1 connection starts again with phase 1
        from pluto.ikev1 import rekey

        rekey.phase1_initiate(core, conn)
        return
    from pluto.ikev2 import ike_sa_init

    ike_sa_init.initiate(core, conn)


def discard_half_open(core: Pluto, ike: IkeSa) -> None:
    if ike.kind is StateKind.STATE_V2_IKE_SA_INIT_R:
        ike.logger.debug("base", f"#{ike.serial}: discarding half-open IKE SA")
        delete_state(core, ike)


def delete_state(core: Pluto, state: State) -> None:
    """Forget ``state`` (and, for an IKE SA, its Child SAs), removing kernel SAs. Silent,
    except to a whack still following the state's negotiation: its stream is closed."""
    if state.whack is not None:
        reply, state.whack = state.whack, None
        text = f"{state.logger.prefix}deleted before its negotiation finished"
        reply.line(RC_TIMEOUT, text)
        reply.done(RC_TIMEOUT)
    if isinstance(state, IkeSa):
        for child in core.states.children_of(state):
            delete_state(core, child)
        # a rekey of this IKE SA still under way dies with it
        for other in core.states.rekeys_of(state.serial):  # indexed: no scan of all states
            if not other.kind.established:
                delete_state(core, other)
        state.outstanding = None
        state.queued.clear()
    if isinstance(state, ChildSa):
        from pluto.engine import child_sas

        child_sas.uninstall(core, state)
        ike = core.states.ike(state.ike_serial)
        if ike is not None and state.serial in ike.children:
            ike.children.remove(state.serial)
    for timer in state.timers.values():
        timer.cancel()
    state.timers.clear()
    core.logger.debug("lifecycle", f"#{state.serial}: deleting state ({state.kind.name})")
    core.states.remove(state)
    conn = state.conn
    if conn.kind.value == "instance" and not core.states.for_connection(conn):
        try:
            core.connections.remove_instance(conn)
        except (KeyError, ValueError):
            pass
