"""SA lifetimes: when to rekey and when to replace (expire), as pluto(8) describes.

The initiator rekeys ``rekeymargin`` plus a random part of up to ``rekeyfuzz`` percent of the
margin before the lifetime ends; the responder waits half that margin, so that the original
initiator normally rekeys first. At the end of the lifetime an SA that was not rekeyed is
replaced by a new negotiation (rekey=yes) or expires (--dontrekey).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluto.engine.states import ChildSa, IkeSa, State

if TYPE_CHECKING:
    from pluto.engine.core import Pluto


def rekey_delay(core: Pluto, lifetime: float, margin: float, fuzz_percent: float,
                initiator: bool) -> float:
    fuzz = margin * fuzz_percent / 100.0
    extra = core.rand.randbelow(int(fuzz) + 1) if fuzz >= 1 else 0
    before = margin + extra
    if not initiator:
        before /= 2
    return max(0.0, lifetime - before)


def _schedule(core: Pluto, state: State, lifetime: float, initiator: bool) -> None:
    lt = state.conn.lifetimes
    if lt.rekey:
        delay = rekey_delay(core, lifetime, lt.rekeymargin, lt.rekeyfuzz, initiator)
        core.schedule(state, "rekey", delay, lambda: _rekey_due(core, state))
    core.schedule(state, "replace", lifetime, lambda: _expired(core, state))


def schedule_ike(core: Pluto, ike: IkeSa) -> None:
    from pluto.ikev2 import nat

    _schedule(core, ike, ike.conn.lifetimes.ike, ike.initiator)
    schedule_liveness(core, ike)
    nat.established(core, ike)  # keepalives from behind a NAT


def schedule_child(core: Pluto, child: ChildSa) -> None:
    _schedule(core, child, child.conn.lifetimes.ipsec, child.initiator)


def _rekey_due(core: Pluto, state: State) -> None:
    from pluto.ikev2 import create_child_sa

    if core.states.get(state.serial) is not state:
        return
    state.logger.debug("base", f"#{state.serial}: rekey time reached")
    if isinstance(state, IkeSa):
        create_child_sa.rekey_ike(core, state)
    elif isinstance(state, ChildSa):
        create_child_sa.rekey_child(core, state)


def _dpd(core: Pluto, ike: IkeSa) -> tuple[float, float | None]:
    """(delay, timeout) of liveness checks: the connection's dpddelay/dpdtimeout, else the
    core's options; a delay of 0 means no checks."""
    dpd = getattr(ike.conn, "dpd", None)
    if dpd is not None:
        return dpd.delay, dpd.timeout
    return core.options.dpd_delay, core.options.dpd_timeout or None


def schedule_liveness(core: Pluto, ike: IkeSa) -> None:
    """Probe the peer every dpddelay seconds (off without dpddelay or the core's dpd_delay)."""
    delay, _timeout = _dpd(core, ike)
    if delay > 0:
        core.schedule(ike, "liveness", delay, lambda: _liveness_due(core, ike))


def _liveness_due(core: Pluto, ike: IkeSa) -> None:
    from pluto.ikev2 import informational

    if core.states.get(ike.serial) is not ike or not ike.kind.established or ike.rekeyed_to:
        return
    if ike.outstanding is None:
        # An exchange in progress proves liveness on its own; an unanswered one times out.
        informational.send_liveness(core, ike, timeout=_dpd(core, ike)[1])
    schedule_liveness(core, ike)


def _expired(core: Pluto, state: State) -> None:
    """The lifetime is over. An SA that a rekey already superseded just goes; one that was
    not rekeyed is replaced by a new negotiation when the connection wants to stay up
    (rekey=yes, libreswan's REPLACE), and otherwise expires (--dontrekey)."""
    from pluto.ikev2 import create_child_sa, informational

    if core.states.get(state.serial) is not state:
        return
    if state.conn.lifetimes.rekey and not _superseded(core, state) \
            and create_child_sa.can_replace(core, state):
        state.logger.log(f"{state.kind.name}: lifetime expired before the SA was rekeyed; "
                         "replacing it")
        create_child_sa.replace_state(core, state)
        return
    state.logger.log(f"{state.kind.name}: lifetime expired; deleting")
    informational.delete_sa(core, state)


def _superseded(core: Pluto, state: State) -> bool:
    """Whether a rekey replaced ``state`` already, or is replacing it now."""
    from pluto.ikev2 import create_child_sa

    if isinstance(state, IkeSa) and state.rekeyed_to:
        return True
    if isinstance(state, ChildSa) and any(
            isinstance(other, ChildSa) and other.replacing == state.serial
            and other.kind.established for other in core.states):
        return True
    return create_child_sa.rekey_in_progress(core, state)
