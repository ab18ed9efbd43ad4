"""What whack's add and initiate do for an IKEv1 connection (ikev2=no)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluto.connections.connection import AuthBy, Connection
from pluto.ikev1 import dispatch, main_mode, quick_mode
from pluto.ikev1.sa import esp_proposals, ike_proposals
from pluto.ikev1.states import IsakmpSa

if TYPE_CHECKING:
    from pluto.engine.core import Pluto


def ikev1_refusal(core: Pluto, conn: Connection) -> str | None:
    """Why ``conn`` cannot be an IKEv1 connection here, or None."""
    if dispatch.policy(core) != "accept":
        return (f"--ikev1 (ikev2=no): global ikev1-policy={dispatch.policy(core)} does not "
                "allow IKEv1 connections")
    if conn.policy.auth is not AuthBy.PSK:
        return "--ikev1 (ikev2=no): IKEv1 supports only authby=secret so far (issue 8)"
    if conn.policy.authenticate or conn.policy.compress or not conn.policy.encrypt:
        return "--ikev1 (ikev2=no): IKEv1 negotiates only ESP so far (issue 8)"
    try:
        ike_proposals(conn.ike)
        esp_proposals(conn.esp, conn.policy.pfs)
    except ValueError as err:
        return f"--ikev1 (ikev2=no): {err}"
    return None


def initiate(core: Pluto, conn: Connection, whack) -> int | str:
    """Quick Mode on an established ISAKMP SA to the peer, else Main Mode first. Returns
    "pending" while whack follows the negotiation."""
    isakmp = next((s for s in core.states if isinstance(s, IsakmpSa) and s.conn is conn
                   and s.kind.established), None)
    if isakmp is not None:
        state = quick_mode.initiate(core, isakmp, conn, whack=whack)
    else:
        state = main_mode.initiate(core, conn, whack=whack)
    if whack is None:
        return 0
    follows = any(s.whack is whack for s in core.states)
    return "pending" if follows and core.states.get(state.serial) is state else 0
