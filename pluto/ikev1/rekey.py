"""IKEv1 rekeying and expiry (pluto(8): rekeymargin, rekeyfuzz, rekey=no).

The side that initiated an SA replaces it ``rekeymargin`` plus up to ``rekeyfuzz`` percent of
the margin before its negotiated lifetime ends; the responder never rekeys (it expires what
the initiator did not replace). A new ISAKMP SA is a fresh Main Mode on the same connection
(so it takes the old one's policy); once it is up the old SA's IPsec SAs move over to it and
the old ISAKMP SA is deleted with a Delete notification. A new IPsec SA is a Quick Mode on the
newest ISAKMP SA; once it is up the initiator deletes the older IPsec SA of the connection.
At the end of its lifetime an SA that was not replaced is deleted; with rekey=yes its
initiator negotiates a replacement first (libreswan's REPLACE).

:mod:`pluto.ikev1.established` starts the timers when a state has just become established.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluto.engine import lifetimes
from pluto.ikev1 import informational
from pluto.ikev1.states import IsakmpSa, QuickSa

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

V1State = IsakmpSa | QuickSa


def _lifetime(state: V1State) -> float:
    chosen = getattr(state, "chosen", None)
    negotiated = getattr(chosen, "lifetime", None)
    lt = state.conn.lifetimes
    configured = lt.ike if isinstance(state, IsakmpSa) else lt.ipsec
    return float(negotiated) if negotiated else configured


def _schedule(core: Pluto, state: V1State) -> None:
    lifetime = _lifetime(state)
    lt = state.conn.lifetimes
    if lt.rekey and state.initiator:
        # a margin as long as the lifetime would rekey at once, forever: keep a third
        margin = min(lt.rekeymargin, lifetime / 3)
        delay = lifetimes.rekey_delay(core, lifetime, margin, lt.rekeyfuzz, True)
        core.schedule(state, "rekey", delay, lambda: _rekey_due(core, state))
    core.schedule(state, "replace", lifetime, lambda: _expired(core, state))


def isakmp_established(core: Pluto, isakmp: IsakmpSa) -> None:
    _schedule(core, isakmp)
    old = core.states.ike(isakmp.rekey_of) if isakmp.rekey_of else None
    if not isinstance(old, IsakmpSa) or old is isakmp:
        return
    old.rekeyed_to = isakmp.serial
    adopt_children(core, old, isakmp)
    isakmp.logger.log(f"ISAKMP SA #{old.serial} replaced by #{isakmp.serial}; deleting the "
                      "old one")
    informational.delete_sa(core, old)


def quick_established(core: Pluto, child: QuickSa) -> None:
    _schedule(core, child)
    if not child.initiator:
        return  # the peer that rekeyed deletes the old IPsec SA
    for old in list(core.states):
        if isinstance(old, QuickSa) and old is not child and old.conn is child.conn \
                and old.kind.established and old.serial < child.serial \
                and old.local_ts == child.local_ts and old.remote_ts == child.remote_ts:
            child.logger.log(f"IPsec SA #{old.serial} replaced by #{child.serial}; deleting "
                             "the old one")
            informational.delete_sa(core, old)


def after_phase1(core: Pluto, isakmp: IsakmpSa) -> None:
    """Phase 1 (and XAUTH/Mode Config) is done: start Quick Mode, unless this ISAKMP SA
    replaces one whose IPsec SAs it took over. Replacing an ISAKMP SA renews phase 1 only,
    as libreswan's replacement does; the IPsec SAs are rekeyed on their own timers."""
    from pluto.engine import outcome
    from pluto.ikev1 import quick_mode
    from pluto.whack_protocol import RC_SUCCESS

    old = core.states.ike(isakmp.rekey_of) if isakmp.rekey_of else None
    # its IPsec SAs move over once it is established (or have already, after XAUTH)
    inherited = core.states.children_of(isakmp) or (
        [c for c in core.states.children_of(old) if c.kind.established]
        if isinstance(old, IsakmpSa) else [])
    if isakmp.rekey_of and inherited:
        isakmp.logger.log(f"ISAKMP SA #{isakmp.rekey_of} replaced; its IPsec SAs are kept, "
                          "no Quick Mode needed")
        outcome.release_whack(core, isakmp, RC_SUCCESS)
        return
    whack, isakmp.whack = isakmp.whack, None
    quick_mode.initiate(core, isakmp, isakmp.conn, whack=whack)


def adopt_children(core: Pluto, old: IsakmpSa, new: IsakmpSa) -> None:
    """IPsec SAs outlive the ISAKMP SA that made them: move them under ``new``."""
    for child in core.states.children_of(old):
        if not child.kind.established:
            continue
        old.children.remove(child.serial)
        new.children.append(child.serial)
        child.ike_serial = new.serial


def heir(core: Pluto, old: IsakmpSa) -> IsakmpSa | None:
    """The newest other ISAKMP SA with the same connection and peer that finished phase 1
    (it may still be busy with XAUTH or Mode Config)."""
    found = [s for s in core.states if isinstance(s, IsakmpSa) and s is not old
             and s.conn is old.conn and s.remote == old.remote
             and (s.kind.established or s.phase1_kind is not None)]
    return max(found, key=lambda s: s.serial, default=None)


def _alive(core: Pluto, state: V1State) -> bool:
    return core.states.get(state.serial) is state


def _rekeying(core: Pluto, state: V1State) -> bool:
    """Whether a replacement of ``state`` is being negotiated or is up already."""
    if isinstance(state, IsakmpSa):
        return bool(core.states.rekeys_of(state.serial))
    return any(isinstance(other, QuickSa) and other.replacing == state.serial
               for other in core.states.for_connection(state.conn))


def _rekey_due(core: Pluto, state: V1State) -> None:
    if not _alive(core, state) or _rekeying(core, state):
        return
    state.logger.log(f"{state.kind.name}: rekeying before the lifetime of "
                     f"{_lifetime(state):g} seconds ends")
    start_rekey(core, state)


def start_rekey(core: Pluto, state: V1State, whack=None) -> V1State | None:
    """Negotiate the replacement of ``state`` with the same connection (and policy); whack
    (--rekey-ike/--rekey-child) follows it when given. None when it cannot start now."""
    from pluto.ikev1 import quick_mode

    conn = state.conn
    if isinstance(state, IsakmpSa):
        if _rekeying(core, state):
            return None
        new = phase1_initiate(core, conn, whack=whack)
        new.rekey_of = state.serial
        new.xauth_user, new.xauth_password = state.xauth_user, state.xauth_password
        return new
    parent = core.states.ike(state.ike_serial)
    if not isinstance(parent, IsakmpSa) or not parent.kind.established \
            or parent.rekeyed_to:
        parent = next((s for s in reversed(core.states.for_connection(conn))
                       if isinstance(s, IsakmpSa) and s.kind.established
                       and not s.rekeyed_to), None)
    if parent is None:
        state.logger.log("no established ISAKMP SA to rekey the IPsec SA with; the next "
                         "Main Mode brings a new one")
        return None
    if _rekeying(core, state):
        return None
    child = quick_mode.initiate(core, parent, conn, whack=whack)
    child.replacing = state.serial
    return child


def phase1_initiate(core: Pluto, conn, whack=None) -> IsakmpSa:
    """A new ISAKMP SA for ``conn``, in the mode it asks for (aggressive=yes or Main Mode)."""
    if getattr(conn.policy, "aggressive", False):
        from pluto.ikev1 import aggressive_mode

        return aggressive_mode.initiate(core, conn, whack=whack)
    from pluto.ikev1 import main_mode

    return main_mode.initiate(core, conn, whack=whack)


def _expired(core: Pluto, state: V1State) -> None:
    if not _alive(core, state):
        return
    lt = state.conn.lifetimes
    if lt.rekey and state.initiator and not _rekeying(core, state):
        state.logger.log(f"{state.kind.name}: lifetime expired before the SA was rekeyed; "
                         "replacing it")
        start_rekey(core, state)
    state.logger.log(f"{state.kind.name}: lifetime expired; deleting")
    if isinstance(state, IsakmpSa):
        successor = heir(core, state)
        if successor is not None:
            adopt_children(core, state, successor)
    informational.delete_sa(core, state)
