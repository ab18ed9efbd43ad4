"""IKEv1 Dead Peer Detection (RFC 3706) between two in-process cores with a fake clock:
vendor ID gating, R-U-THERE / R-U-THERE-ACK on the wire (cookies as SPI, sequence numbers
that the ACK repeats and that go up by one), and dpdaction when the peer goes silent."""

from __future__ import annotations

import pytest

from pluto.ikev1 import dpd
from pluto.ikev1.states import IsakmpSa
from pluto.packet.ikev1 import (
    HashPayload,
    NotificationPayload,
    VendorIdPayload,
    emit_message,
    parse_message,
    parse_payloads,
)
from pluto.packet.ikev1_types import ExchangeType, NotifyType, ProtocolId
from tests.inprocess.harness import Datagram, Pair, connection

DPD = {"dpddelay": 10, "dpdtimeout": 30}


def _hide_dpd(pair: Pair) -> None:
    """Take the DPD vendor ID out of every clear phase 1 message, as from a peer without
    DPD (HASH_I/HASH_R do not cover vendor IDs, so the exchange stays valid)."""
    deliver = pair.wire.deliver

    def rewriting(datagram: Datagram) -> None:
        msg = parse_message(datagram.data)
        if msg.exchange == ExchangeType.MAIN and msg.encrypted is None:
            msg.payloads = [p for p in msg.payloads if p != dpd.vendor_id()]
            datagram = Datagram(emit_message(msg), datagram.src, datagram.dst)
        deliver(datagram)

    pair.wire.deliver = rewriting  # type: ignore[method-assign]


def _pair(west_dpd: dict | None = None, *, announce: bool = True,
          aggressive: bool = False) -> Pair:
    pair = Pair()
    for host in (pair.west, pair.east):
        host.core.options.ikev1_policy = "accept"
        host.impairs.apply("revival")
    if not announce:
        _hide_dpd(pair)
    extra = {"aggressive": True, "ike": "aes256-sha2_256;modp2048"} if aggressive else {}
    pair.add(connection(ikev2=False, **(west_dpd or {}), **extra),
             connection(ikev2=False, **extra))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.lines
    return pair


def _isakmp(host) -> IsakmpSa:
    return next(s for s in host.core.states if isinstance(s, IsakmpSa))


def _informational_notifies(pair: Pair, sender) -> list[NotificationPayload]:
    """Decrypt the Informational messages ``sender`` put on the wire with the keys of the
    ISAKMP SA (the IV of an Informational exchange comes from the last phase 1 block)."""
    isakmp = _isakmp(sender)
    found = []
    for datagram in pair.wire.sent:
        if datagram.src != sender.endpoint:
            continue
        msg = parse_message(datagram.data)
        if msg.exchange != ExchangeType.INFORMATIONAL or msg.encrypted is None:
            continue
        plain = isakmp.crypto.decrypt(msg.message_id, msg.encrypted.data)
        isakmp.crypto.forget(msg.message_id)
        payloads, _padding = parse_payloads(plain, msg.encrypted.first_payload)
        assert isinstance(payloads[0], HashPayload)
        found += [p for p in payloads if isinstance(p, NotificationPayload)]
    return found


def test_vendor_id_is_rfc_3706s():
    assert dpd.vendor_id() == VendorIdPayload(bytes.fromhex("afcad71368a1f1c96b8696fc77570100"))


@pytest.mark.parametrize("aggressive", [False, True], ids=["main", "aggressive"])
def test_both_ends_announce_dpd_in_their_first_messages(aggressive):
    pair = _pair(aggressive=aggressive)
    first, answer = (parse_message(d.data) for d in pair.wire.sent[:2])
    assert first.exchange == answer.exchange == (
        ExchangeType.AGGRESSIVE if aggressive else ExchangeType.MAIN)
    assert dpd.vendor_id() in first.payloads  # MI1 / AI1
    assert dpd.vendor_id() in answer.payloads  # MR1 / AR1
    assert _isakmp(pair.west).dpd.peer_supports and _isakmp(pair.east).dpd.peer_supports


@pytest.mark.parametrize("aggressive", [False, True], ids=["main", "aggressive"])
def test_r_u_there_and_ack_carry_cookies_and_matching_sequence_numbers(aggressive):
    pair = _pair(DPD, aggressive=aggressive)
    west, east = _isakmp(pair.west), _isakmp(pair.east)
    assert west.dpd.peer_supports and east.dpd.peer_supports
    pair.advance(35)  # three probes at 10, 20, 30 s, each answered
    probes = _informational_notifies(pair, pair.west)
    acks = _informational_notifies(pair, pair.east)
    assert [p.notify_type for p in probes] == [NotifyType.R_U_THERE] * 3
    assert [p.notify_type for p in acks] == [NotifyType.R_U_THERE_ACK] * 3
    cookies = west.spi_i + west.spi_r
    assert all(p.spi == cookies and p.protocol == ProtocolId.ISAKMP for p in probes + acks)
    seqs = [int.from_bytes(p.data, "big") for p in probes]
    assert seqs[1] == seqs[0] + 1 and seqs[2] == seqs[1] + 1
    assert [a.data for a in acks] == [p.data for p in probes]
    assert west.dpd.outstanding is None and "dpd-timeout" not in west.timers
    assert east.dpd.peer_seq == seqs[-1]
    assert not pair.west.lines_with("declaring peer dead")
    assert len(pair.west.kernel.installed_sas()) == 2


def test_no_probes_when_the_peer_did_not_announce_dpd():
    pair = _pair(DPD, announce=False)
    pair.advance(100)
    assert pair.west.lines_with("DPD: peer did not advertise support for DPD; not probing it")
    assert _informational_notifies(pair, pair.west) == []
    assert len(pair.west.core.states) == 2


def test_no_probes_without_dpddelay():
    pair = _pair()
    pair.advance(300)
    assert _informational_notifies(pair, pair.west) == []


@pytest.mark.parametrize("action, revived", [("restart", True), ("clear", False),
                                             ("hold", False)])
def test_silent_peer_is_declared_dead_after_dpdtimeout(action, revived):
    pair = _pair({**DPD, "dpdaction": action})
    if revived:
        pair.west.impairs.remove("revival")
    deliver = pair.wire.deliver
    pair.wire.deliver = lambda d: None if d.dst == pair.east.endpoint else deliver(d)
    pair.advance(10 + 29)  # probes at 10, 20, 30; the timeout runs from the first
    assert not pair.west.lines_with("declaring peer dead")
    pair.advance(2)
    assert pair.west.lines_with(f"DPD: No response from peer - declaring peer dead; "
                                f"dpdaction={action}")
    assert bool(pair.west.lines_with("reviving connection")) is revived
    assert bool(pair.west.lines_with(f"dpdaction={action}: not reviving")) is not revived
    assert pair.west.kernel.installed_sas() == []
    kinds = [s.kind.name for s in pair.west.core.states]
    assert kinds == (["STATE_MAIN_I1"] if revived else [])


def test_ack_with_a_wrong_sequence_number_does_not_prove_liveness():
    pair = _pair(DPD)
    west = _isakmp(pair.west)
    pair.advance(10)
    assert west.dpd.outstanding is None
    east = _isakmp(pair.east)
    dpd._send(pair.east.core, east, NotifyType.R_U_THERE_ACK, 12345)  # unsolicited
    pair.pump()
    assert pair.west.lines_with("DPD: R_U_THERE_ACK has sequence number 12345 but None was "
                                "expected; ignoring it")
