"""The responder's second look at the connection, once MI3 (or AI1) shows the peer's ID.

MI1 picks a connection by addresses only. When the proven ID belongs to another IKEv1
connection for the same addresses (or a %any template), the ISAKMP SA moves to it, as
libreswan's responder does. Keys already exist by then, so a candidate must authenticate the
same way and, with PSK, hold the same key for our ID and the peer's (otherwise the peer's HASH
could not have been made with it). No candidate at all: the peer gets INVALID_ID_INFORMATION.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluto.connections.connection import Connection, Kind
from pluto.connections.ids import Identity
from pluto.ikev1.phase1_auth import method_for
from pluto.ikev1.states import IsakmpSa
from pluto.ikev2.nat import ike_port_endpoint
from pluto.packet.ikev1_types import OakleyAuthMethod

if TYPE_CHECKING:
    from pluto.engine.core import Pluto


def _compatible(core: Pluto, isakmp: IsakmpSa, conn: Connection, peer: Identity) -> bool:
    # Main Mode only (Aggressive Mode picks by the ID in AI1): no aggressive=yes connection
    if conn.policy.ikev2 or conn.policy.aggressive or method_for(conn) != isakmp.chosen.auth:
        return False
    if isakmp.chosen.auth == OakleyAuthMethod.PRESHARED_KEY:
        psk = None if core.secrets is None else core.secrets.psk_for(conn.this.identity(), peer)
        return psk is not None and psk == isakmp.psk
    return True


def refine(core: Pluto, isakmp: IsakmpSa, peer: Identity) -> Connection | None:
    """The connection for ``peer``: the current one if its peer ID accepts it, else the best
    other IKEv1 candidate (switched to, instantiated when a template); None: nothing fits."""
    current = isakmp.conn
    base = current.template if current.kind is Kind.INSTANCE else current
    candidates = [current]
    # by the IKE port the connections name, not the NAT-T port MI3 may have come to
    for conn in core.connections.candidates_for(ike_port_endpoint(isakmp), isakmp.remote):
        if conn is not current and conn is not base and _compatible(core, isakmp, conn, peer):
            candidates.append(conn)
    chosen = core.connections.refine_by_id(candidates, peer)
    if chosen is None or chosen is current:
        return chosen
    if chosen.kind is Kind.TEMPLATE:
        chosen = core.connections.instantiate(chosen, isakmp.remote)
    isakmp.logger.log(f"switched from {current.label} to {chosen.label} for peer ID "
                      f"'{peer}'")
    isakmp.conn = chosen
    isakmp.logger = core.state_logger(chosen, isakmp.serial)
    if current.kind is Kind.INSTANCE and not [s for s in core.states if s.conn is current]:
        core.connections.remove_instance(current)
    return chosen
