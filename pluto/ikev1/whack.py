"""What whack's add and initiate do for an IKEv1 connection (ikev2=no)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import rsa

from pluto.connections.connection import Connection
from pluto.ikev1 import dispatch, main_mode, quick_mode
from pluto.ikev1.sa import ike_proposals
from pluto.ikev1.states import IsakmpSa, QuickSa

if TYPE_CHECKING:
    from pluto.engine.core import Pluto


def ikev1_refusal(core: Pluto, conn: Connection) -> str | None:
    """Why ``conn`` cannot be an IKEv1 connection here, or None."""
    if dispatch.policy(core) != "accept":
        return (f"--ikev1 (ikev2=no): global ikev1-policy={dispatch.policy(core)} does not "
                "allow IKEv1 connections")
    if conn.policy.compress:
        return "--ikev1 (ikev2=no): IPCOMP (--compress) is not implemented yet"
    for side in ("left", "right"):  # not oriented yet: whichever end is ours
        name = getattr(conn, side).cert
        stored = core.certs.find(name) if name and core.certs else None
        if stored is not None and not isinstance(stored.cert.public_key(), rsa.RSAPublicKey):
            return (f"--ikev1 (ikev2=no): {side}cert '{name}' has no RSA key; IKEv1 "
                    "signatures are RSA only")
    clients = [end.v1cfg for end in (conn.left, conn.right)
               if end.v1cfg.xauthclient or end.v1cfg.modecfgclient]
    if getattr(conn.policy, "aggressive", False) and clients:
        return ("--ikev1 (ikev2=no): an XAUTH or Mode Config client with Aggressive Mode is "
                "not implemented yet")
    try:
        ike_proposals(conn.ike)
        quick_mode.our_proposals(conn, conn.policy.pfs)
    except ValueError as err:
        return f"--ikev1 (ikev2=no): {err}"
    return None


def initiate(core: Pluto, conn: Connection, whack,
             xauth: tuple[str | None, str | None] = (None, None)) -> int | str:
    """Quick Mode on an established ISAKMP SA to the peer, else Main Mode first. Returns
    "pending" while whack follows the negotiation. ``xauth`` is whack's --xauthuser and
    --xauthpass, for an XAUTH client's Main Mode."""
    isakmp = next((s for s in core.states if isinstance(s, IsakmpSa) and s.conn is conn
                   and s.kind.established), None)
    state: IsakmpSa | QuickSa
    if isakmp is not None:
        state = quick_mode.initiate(core, isakmp, conn, whack=whack)
    else:
        state = main_mode.initiate(core, conn, whack=whack)
        user, password = xauth
        state.xauth_user = user
        state.xauth_password = None if password is None else password.encode("utf-8")
    if whack is None:
        return 0
    follows = any(s.whack is whack for s in core.states)
    return "pending" if follows and core.states.get(state.serial) is state else 0


def xauth_answer(core: Pluto, serial: int, username: str | None,
                 password: str | None) -> str | None:
    """whack's answer to an XAUTH prompt (RC 41 username, RC 40 password) for state
    ``serial``; an error text when nothing waits for it."""
    from pluto.ikev1 import xauth

    isakmp = core.states.get(serial)
    if not isinstance(isakmp, IsakmpSa):
        return f"no IKEv1 ISAKMP SA #{serial}"
    return xauth.answer(core, isakmp, username, password)
