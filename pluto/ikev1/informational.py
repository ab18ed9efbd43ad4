"""IKEv1 Informational exchanges (RFC 2408 §4.8, RFC 2409 §5.7): one-way notifications and
Deletes, protected with their own message ID, IV chain and HASH once the ISAKMP SA exists.

    send_clear_notify   before any keys: an unprotected notify (NO_PROPOSAL_CHOSEN to MI1)
    send_notify         HDR*, HASH, N         on an ISAKMP SA
    delete_sa           HDR*, HASH, D         ESP SPIs of an IPsec SA, or the ISAKMP cookies
    informational_in    a peer's Informational: Deletes act, error notifies end phase 1
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluto.crypto.constant_time import bytes_equal
from pluto.engine import child_sas, outcome, revival
from pluto.engine.host import Endpoint
from pluto.ikev1 import dpd, messages
from pluto.ikev1.states import IsakmpSa, QuickSa
from pluto.packet.ikev1 import (
    DeletePayload,
    HashPayload,
    Message,
    NotificationPayload,
    Payload,
    emit_message,
    emit_payloads,
)
from pluto.packet.ikev1_types import ExchangeType, NotifyType, ProtocolId

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

INFORMATIONAL = ExchangeType.INFORMATIONAL


def notify_name(notify_type: int) -> str:
    try:
        return NotifyType(notify_type).name
    except ValueError:
        return f"NOTIFY_{notify_type}"


def send_clear_notify(core: Pluto, request: Message, local: Endpoint, remote: Endpoint,
                      notify_type: int) -> None:
    msg = Message(request.icookie, request.rcookie, INFORMATIONAL,
                  payloads=[NotificationPayload(notify_type, ProtocolId.ISAKMP)])
    core.send_raw(emit_message(msg, core.logger), local, remote)


def send_protected(core: Pluto, isakmp: IsakmpSa, payloads: list[Payload]) -> None:
    """One protected Informational exchange (its own message ID) carrying ``payloads``."""
    message_id = core.rand.randint(1, 0xFFFFFFFF)
    isakmp.seen_ids.add(message_id)
    crypto = isakmp.crypto
    _first, body = emit_payloads(payloads)
    hashed = [HashPayload(crypto.informational_hash(message_id, body)), *payloads]
    datagram = messages.encode(core, isakmp, INFORMATIONAL, message_id, hashed, encrypt=True)
    crypto.forget(message_id)  # one message per Informational exchange
    core.transmit(isakmp, datagram)


def send_notify(core: Pluto, isakmp: IsakmpSa, notify_type: int) -> None:
    if isakmp.crypto is None or isakmp.crypto.phase1_last_block is None:
        return
    send_protected(core, isakmp, [NotificationPayload(notify_type, ProtocolId.ISAKMP)])


def delete_sa(core: Pluto, state: IsakmpSa | QuickSa) -> None:
    """Delete an ISAKMP SA (with its IPsec SAs, each announced) or one IPsec SA, telling the
    peer when the ISAKMP SA can still carry the message."""
    isakmp = state if isinstance(state, IsakmpSa) else core.states.ike(state.ike_serial)
    usable = isinstance(isakmp, IsakmpSa) and isakmp.kind.established \
        and not core.impairs.get("send-no-delete")
    if isinstance(state, IsakmpSa):
        for child in core.states.children_of(state):
            if child.kind.established:
                delete_sa(core, child)
    if usable:
        state.logger.log(f"deleting state ({state.kind.name}) and sending notification")
        if isinstance(state, IsakmpSa):
            payloads = [DeletePayload(ProtocolId.ISAKMP, [state.spi_i + state.spi_r])]
        else:
            payloads = [DeletePayload(protocol, [spi.to_bytes(4, "big")])
                        for protocol, spi in _inbound_spis(state)]
        send_protected(core, isakmp, payloads)
    elif core.impairs.get("send-no-delete"):
        state.logger.impair("not sending a Delete payload")
    outcome.delete_state(core, state)


def _inbound_spis(child: QuickSa) -> list[tuple[int, int]]:
    """(protocol, our SPI) of each protocol of the IPsec SA: one Delete payload each."""
    main = ProtocolId.IPSEC_AH if child_sas.protocol(child) == "ah" else ProtocolId.IPSEC_ESP
    spis = [(main, child.inbound_spi)]
    if child.ah_inbound_spi:
        spis.append((ProtocolId.IPSEC_AH, child.ah_inbound_spi))
    return spis


def _outbound_spis(child: QuickSa) -> list[tuple[int, int]]:
    """(protocol, the peer's SPI) of each protocol: what its Delete payloads name."""
    chosen = child.chosen
    if chosen is None:
        return []
    return [(part.protocol, int.from_bytes(part.spi, "big")) for part in chosen.parts()]


def informational_in(core: Pluto, isakmp: IsakmpSa, msg: Message) -> None:
    if msg.encrypted is None:
        _clear(core, isakmp, msg)
        return
    crypto = isakmp.crypto
    if crypto is None or crypto.phase1_last_block is None:
        isakmp.logger.log("encrypted Informational message before phase 1 finished; "
                          "dropping it")
        return
    try:
        decrypted = messages.decrypt_payloads(isakmp, msg, "Informational")
    finally:
        crypto.forget(msg.message_id)
    if decrypted is None:
        return
    payloads, rest = decrypted
    if not payloads or not isinstance(payloads[0], HashPayload) or not bytes_equal(
            crypto.informational_hash(msg.message_id, rest), payloads[0].data):
        isakmp.logger.log("Informational message has a missing or wrong HASH; dropping it")
        return
    gone: set[tuple[int, int]] = set()
    for payload in payloads[1:]:
        if isinstance(payload, DeletePayload):
            _delete_in(core, isakmp, payload, gone)
            if core.states.get(isakmp.serial) is not isakmp:
                return
        elif isinstance(payload, NotificationPayload):
            if dpd.notify_in(core, isakmp, payload):
                continue
            isakmp.logger.log(f"received and ignored notification payload: "
                              f"{notify_name(payload.notify_type)}")


def _clear(core: Pluto, isakmp: IsakmpSa, msg: Message) -> None:
    """An unprotected notify can only be believed while nothing is established (it may be
    forged): it then ends our phase 1 attempt, as libreswan does for MI1's answer."""
    notify = next((p for p in msg.payloads if isinstance(p, NotificationPayload)), None)
    if notify is None or isakmp.kind.established or isakmp.crypto is not None:
        isakmp.logger.log("ignoring an unprotected Informational message")
        return
    messages.fail(core, isakmp, notify.notify_type,
                  f"ISAKMP SA rejected by peer: {notify_name(notify.notify_type)}")


def _delete_in(core: Pluto, isakmp: IsakmpSa, delete: DeletePayload,
               gone: set[tuple[int, int]]) -> None:
    """``gone``: (protocol, SPI) of IPsec SAs this message already deleted, so that the
    Delete for a bundle's second protocol is no news."""
    if delete.protocol == ProtocolId.ISAKMP:
        if any(spi == isakmp.spi_i + isakmp.spi_r for spi in delete.spis):
            isakmp.logger.log("received Delete SA payload: deleting ISAKMP State "
                              f"#{isakmp.serial}")
            from pluto.ikev1 import rekey

            successor = rekey.heir(core, isakmp)  # a rekey: the IPsec SAs live on
            if successor is not None:
                rekey.adopt_children(core, isakmp, successor)
            outcome.delete_state(core, isakmp)
            if successor is None:
                revival.after_peer_delete(core, isakmp)
        return
    if delete.protocol not in (ProtocolId.IPSEC_ESP, ProtocolId.IPSEC_AH):
        return
    children = {key: c for c in core.states.children_of(isakmp) if isinstance(c, QuickSa)
                for key in _outbound_spis(c)}
    for spi in delete.spis:
        key = (delete.protocol, int.from_bytes(spi, "big"))
        child = children.get(key)
        if child is None and key in gone:
            continue
        if child is None:
            isakmp.logger.log(f"received Delete SA payload for unknown SPI 0x{spi.hex()}; "
                              "ignoring it")
            continue
        child.logger.log(f"received Delete SA(0x{spi.hex()}) payload: deleting IPsec State "
                         f"#{child.serial}")
        gone.update(_outbound_spis(child))
        outcome.delete_state(core, child)
        revival.after_peer_delete(core, child)
