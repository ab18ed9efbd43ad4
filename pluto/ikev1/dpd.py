"""Dead Peer Detection for IKEv1 (RFC 3706): R-U-THERE / R-U-THERE-ACK notifies on the
ISAKMP SA, with the connection's dpddelay, dpdtimeout and dpdaction.

Both sides must announce DPD with its vendor ID in phase 1 before either may send R-U-THERE
(RFC 3706 §5.1); a side answers R-U-THERE whenever it understands it. Each R-U-THERE carries
a sequence number (random to start, then +1) that the ACK repeats, and both notifies carry
the two ISAKMP cookies as their SPI (§5.4, §6). While an R-U-THERE is unanswered a probe is
sent every dpddelay; no ACK within dpdtimeout declares the peer dead: its ISAKMP and IPsec SAs
go, and dpdaction says what follows (restart: negotiate again; hold, clear: nothing, a routed
connection waits for traffic).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pluto.engine import outcome
from pluto.ikev1.states import IsakmpSa
from pluto.packet.ikev1 import NotificationPayload, Payload, VendorIdPayload
from pluto.packet.ikev1_types import NotifyType, ProtocolId

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

# RFC 3706 §5.1: the 14 bytes of the DPD vendor ID, then major version 1, minor version 0.
DPD_VENDOR_ID = bytes.fromhex("afcad71368a1f1c96b8696fc7757") + bytes([1, 0])
DEFAULT_TIMEOUT = 120.0  # libreswan's dpdtimeout default
SEQ_MAX = 0xFFFFFFFF


def vendor_id() -> VendorIdPayload:
    """The payload phase 1 carries to announce that we do DPD."""
    return VendorIdPayload(DPD_VENDOR_ID)


def note_vendor_ids(isakmp: IsakmpSa, payloads: Iterable[Payload]) -> None:
    """Remember whether the peer's phase 1 message announced DPD (the version is not
    checked beyond the prefix: a later minor version still speaks R-U-THERE)."""
    for payload in payloads:
        if isinstance(payload, VendorIdPayload) and payload.data[:14] == DPD_VENDOR_ID[:14]:
            if not isakmp.dpd.peer_supports:
                isakmp.logger.debug("base", "peer supports Dead Peer Detection")
            isakmp.dpd.peer_supports = True


def _settings(isakmp: IsakmpSa) -> tuple[float, float, str] | None:
    dpd = isakmp.conn.dpd
    if dpd is None or dpd.delay <= 0:
        return None
    timeout = dpd.timeout if dpd.timeout is not None else DEFAULT_TIMEOUT
    return dpd.delay, timeout, dpd.action


def start(core: Pluto, isakmp: IsakmpSa) -> None:
    """The ISAKMP SA is established: probe every dpddelay when both sides do DPD."""
    settings = _settings(isakmp)
    if settings is None:
        return
    if not isakmp.dpd.peer_supports:
        isakmp.logger.log("DPD: peer did not advertise support for DPD; not probing it")
        return
    core.schedule(isakmp, "dpd", settings[0], lambda: _due(core, isakmp))


def _alive(core: Pluto, isakmp: IsakmpSa) -> bool:
    return core.states.get(isakmp.serial) is isakmp and isakmp.kind.established


def _due(core: Pluto, isakmp: IsakmpSa) -> None:
    settings = _settings(isakmp)
    if settings is None or not _alive(core, isakmp):
        return
    delay, timeout, _action = settings
    send_r_u_there(core, isakmp)
    if "dpd-timeout" not in isakmp.timers:
        core.schedule(isakmp, "dpd-timeout", timeout, lambda: _dead(core, isakmp))
    core.schedule(isakmp, "dpd", delay, lambda: _due(core, isakmp))


def _seq_bytes(seq: int) -> bytes:
    return seq.to_bytes(4, "big")


def send_r_u_there(core: Pluto, isakmp: IsakmpSa) -> None:
    state = isakmp.dpd
    if not state.next_seq:
        state.next_seq = core.rand.randint(1, 0x7FFFFFFF)
    seq = state.next_seq
    state.next_seq = seq % SEQ_MAX + 1  # wraps, never 0
    state.outstanding = seq
    isakmp.logger.debug("base", f"DPD: sending R_U_THERE {seq}")
    _send(core, isakmp, NotifyType.R_U_THERE, seq)


def _send(core: Pluto, isakmp: IsakmpSa, notify_type: int, seq: int) -> None:
    from pluto.ikev1 import informational

    payload = NotificationPayload(notify_type, ProtocolId.ISAKMP, isakmp.spi_i + isakmp.spi_r,
                                  _seq_bytes(seq))
    informational.send_protected(core, isakmp, [payload])


def notify_in(core: Pluto, isakmp: IsakmpSa, notify: NotificationPayload) -> bool:
    """Handle R-U-THERE or its ACK; False when ``notify`` is neither."""
    if notify.notify_type not in (NotifyType.R_U_THERE, NotifyType.R_U_THERE_ACK):
        return False
    name = NotifyType(notify.notify_type).name
    if notify.spi != isakmp.spi_i + isakmp.spi_r or len(notify.data) != 4:
        isakmp.logger.log(f"DPD: {name} with wrong cookies or a sequence number that is not "
                          "4 bytes; ignoring it")
        return True
    seq = int.from_bytes(notify.data, "big")
    if notify.notify_type == NotifyType.R_U_THERE:
        isakmp.dpd.peer_seq = seq
        isakmp.logger.debug("base", f"DPD: received R_U_THERE {seq}; answering it")
        _send(core, isakmp, NotifyType.R_U_THERE_ACK, seq)
        return True
    if seq != isakmp.dpd.outstanding:
        isakmp.logger.log(f"DPD: R_U_THERE_ACK has sequence number {seq} but "
                          f"{isakmp.dpd.outstanding} was expected; ignoring it")
        return True
    isakmp.dpd.outstanding = None
    isakmp.logger.debug("base", f"DPD: received R_U_THERE_ACK {seq}; peer is alive")
    core.cancel(isakmp, "dpd-timeout")
    return True


def _dead(core: Pluto, isakmp: IsakmpSa) -> None:
    if not _alive(core, isakmp) or isakmp.dpd.outstanding is None:
        return
    settings = _settings(isakmp)
    action = settings[2] if settings is not None else "hold"
    conn = isakmp.conn
    isakmp.logger.log(f"DPD: No response from peer - declaring peer dead; dpdaction={action}")
    outcome.delete_state(core, isakmp)  # a dead peer cannot take a Delete
    if action == "restart":
        outcome.revive(core, conn, isakmp)
    else:
        isakmp.logger.log(f"dpdaction={action}: not reviving the connection")
