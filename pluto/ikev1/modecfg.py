"""Mode Config (draft-dukes-ike-mode-cfg) over the Transaction exchange: the server hands
the client an internal IPv4 address from ``rightaddresspool=LOW-HIGH``; the client's Quick
Mode then proposes that address (a /32) as its client subnet, and the server expects it.

    server_push         -> SET(INTERNAL_IP4_ADDRESS=a)       STATE_MODE_CFG_R1
    client_set_in       <- ACK(INTERNAL_IP4_ADDRESS), then Quick Mode from a
    server_ack_in       done (STATE_MAIN_R3)
    client_start        modecfgpull=yes: REQUEST(INTERNAL_IP4_ADDRESS)   STATE_MODE_CFG_I1
    server_request_in   <- REPLY(INTERNAL_IP4_ADDRESS=a)
    client_reply_in     then Quick Mode from a

The lease is the lowest address of the pool that no other connection's peer holds; the same
connection (a rekey, a reconnect of the same peer) keeps its address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from pluto.connections.connection import Connection
from pluto.engine import outcome
from pluto.ikev1 import transaction
from pluto.ikev1.states import IsakmpSa, V1StateKind
from pluto.packet.ikev1 import Attribute, ModeConfigPayload
from pluto.packet.ikev1_types import ModeCfgAttribute, ModeCfgType, NotifyType
from pluto.whack_protocol import RC_NOTIFICATION

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

K = V1StateKind
A = ModeCfgAttribute
Handler = Callable[["Pluto", IsakmpSa, int, ModeConfigPayload], None]


def _values(attr: ModeConfigPayload) -> dict[int, int | bytes]:
    return {a.type: a.value for a in attr.attributes}


def handler_for(isakmp: IsakmpSa, attr: ModeConfigPayload) -> Handler | None:
    values = _values(attr)
    if A.INTERNAL_IP4_ADDRESS not in values:
        return None
    kind, cfg = isakmp.kind, attr.cfg_type
    server, client = transaction.roles(isakmp)[2:]
    if client and kind is K.STATE_MODE_CFG_I0 and cfg == ModeCfgType.SET:
        return client_set_in
    if client and kind is K.STATE_MODE_CFG_I1 and cfg == ModeCfgType.REPLY:
        return client_reply_in
    if server and kind is K.STATE_MODE_CFG_R1 and cfg == ModeCfgType.ACK:
        return server_ack_in
    if server and kind.established and cfg == ModeCfgType.REQUEST:
        return server_request_in
    return None


# --- server -------------------------------------------------------------------------------


def _pool(conn: Connection):
    return conn.that.v1cfg.addresspool or conn.this.v1cfg.addresspool


def lease(core: Pluto, isakmp: IsakmpSa) -> ipaddress.IPv4Address | None:
    """The address for ``isakmp``'s peer, or None (no pool, or none left)."""
    conn = isakmp.conn
    pool = _pool(conn)
    if pool is None:
        return None
    low, high = pool
    current = conn.that.client
    if current is not None and current.num_addresses == 1 \
            and low <= current.network_address <= high:
        return current.network_address  # type: ignore[return-value]
    held = {s.conn.that.client.network_address for s in core.states
            if s.conn is not conn and s.conn.that.client is not None
            and s.conn.that.client.num_addresses == 1}
    address = low
    while address <= high:
        if address not in held:
            return address  # type: ignore[return-value]
        address += 1
    return None


def _set_client(conn: Connection, ours: bool, address) -> None:
    """Make ``address`` (a /32) the client subnet of our end (``ours``) or the peer's."""
    side = "left" if conn.this_is_left == ours else "right"
    net = ipaddress.ip_network(f"{address}/{address.max_prefixlen}")
    setattr(conn, side, replace(getattr(conn, side), client=net))


def server_push(core: Pluto, isakmp: IsakmpSa) -> None:
    address = lease(core, isakmp)
    if address is None:
        isakmp.logger.log("ModeCfg: no address to push (no rightaddresspool=, or the pool is "
                          "used up); deleting the ISAKMP SA")
        outcome.delete_state(core, isakmp)
        return
    _set_client(isakmp.conn, ours=False, address=address)
    message_id = transaction.new_message_id(core, isakmp)
    isakmp.cfg_message_id = message_id
    isakmp.cfg_identifier = core.rand.randint(0, 0xFFFF)
    set_ = ModeConfigPayload(ModeCfgType.SET, [
        Attribute(A.INTERNAL_IP4_ADDRESS, address.packed)], isakmp.cfg_identifier)
    core.change_state(isakmp, K.STATE_MODE_CFG_R1)  # type: ignore[arg-type]
    transaction.send(core, isakmp, message_id, set_, wait=True)
    core.log_new_state(isakmp, f"ModeCfg: pushing internal address {address}")


def server_ack_in(core: Pluto, isakmp: IsakmpSa, message_id: int,
                  attr: ModeConfigPayload) -> None:
    isakmp.logger.log("ModeCfg: client acknowledged its address")
    transaction.server_step_done(core, isakmp, after_xauth=False)


def server_request_in(core: Pluto, isakmp: IsakmpSa, message_id: int,
                      attr: ModeConfigPayload) -> None:
    address = lease(core, isakmp)
    if address is None:
        isakmp.logger.log("ModeCfg: no address for the client's request (no "
                          "rightaddresspool=, or the pool is used up); ignoring it")
        return
    _set_client(isakmp.conn, ours=False, address=address)
    reply = ModeConfigPayload(ModeCfgType.REPLY, [
        Attribute(A.INTERNAL_IP4_ADDRESS, address.packed)], attr.identifier)
    transaction.send(core, isakmp, message_id, reply, wait=False)
    isakmp.logger.log(f"ModeCfg: answered the client's request with {address}")


# --- client -------------------------------------------------------------------------------


def client_start(core: Pluto, isakmp: IsakmpSa) -> None:
    """modecfgpull=yes: ask for an address; else (libreswan's default) wait for the push."""
    if not isakmp.conn.modecfgpull:
        core.change_state(isakmp, K.STATE_MODE_CFG_I0)  # type: ignore[arg-type]
        isakmp.logger.log("ModeCfg client: waiting for the server's address")
        return
    message_id = transaction.new_message_id(core, isakmp)
    isakmp.cfg_message_id = message_id
    isakmp.cfg_identifier = core.rand.randint(0, 0xFFFF)
    request = ModeConfigPayload(ModeCfgType.REQUEST, [Attribute(A.INTERNAL_IP4_ADDRESS, b"")],
                                isakmp.cfg_identifier)
    core.change_state(isakmp, K.STATE_MODE_CFG_I1)  # type: ignore[arg-type]
    transaction.send(core, isakmp, message_id, request, wait=True)
    core.log_new_state(isakmp, "ModeCfg: requesting an internal address")


def client_set_in(core: Pluto, isakmp: IsakmpSa, message_id: int,
                  attr: ModeConfigPayload) -> None:
    address = _address(core, isakmp, attr)
    if address is None:
        return
    ack = ModeConfigPayload(ModeCfgType.ACK, [Attribute(A.INTERNAL_IP4_ADDRESS, b"")],
                            attr.identifier)
    transaction.send(core, isakmp, message_id, ack, wait=False)
    _use(core, isakmp, address)


def client_reply_in(core: Pluto, isakmp: IsakmpSa, message_id: int,
                    attr: ModeConfigPayload) -> None:
    address = _address(core, isakmp, attr)
    if address is not None:
        _use(core, isakmp, address)


def _address(core: Pluto, isakmp: IsakmpSa,
             attr: ModeConfigPayload) -> ipaddress.IPv4Address | None:
    """The server's address; None (and the ISAKMP SA gone) when it is not one."""
    value = _values(attr)[A.INTERNAL_IP4_ADDRESS]
    if isinstance(value, bytes) and len(value) == 4:
        return ipaddress.IPv4Address(value)
    reason = "ModeCfg: the server's INTERNAL_IP4_ADDRESS is not 4 bytes"
    core.logger.sink(isakmp.logger.prefix + reason)
    outcome.release_whack(core, isakmp, RC_NOTIFICATION + NotifyType.ATTRIBUTES_NOT_SUPPORTED,
                          isakmp.logger.prefix + reason)
    outcome.delete_state(core, isakmp)
    return None


def _use(core: Pluto, isakmp: IsakmpSa, address: ipaddress.IPv4Address) -> None:
    _set_client(isakmp.conn, ours=True, address=address)
    isakmp.logger.log(f"ModeCfg: received internal address {address}; using it as our "
                      "client subnet")
    transaction.client_step_done(core, isakmp, after_xauth=False)
