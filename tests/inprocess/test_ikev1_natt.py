"""IKEv1 NAT traversal (RFC 3947, RFC 3948) through the harness's masquerading NAT.

road (203.0.113.209) sits behind the nic NAT (outside 198.51.100.254); east (198.51.100.23)
answers with a %any template. Checked: the RFC 3947 vendor ID in MI1/MR1, the NAT-D hashes
in MI2/MR2 recomputed here from the RFC formula, the float to 4500 at MI3, the UDP
encapsulation modes in Quick Mode, NAT-OA in transport mode and ESP in UDP in both kernels
between the ports the NAT really uses (its mapping table, not the cores, gives them).
"""

from __future__ import annotations

import hashlib
import ipaddress

import pytest

from pluto.ikev1 import dpd
from pluto.ikev1.states import IsakmpSa, QuickSa
from pluto.packet.ikev1 import (
    NatDetectionPayload,
    NatOriginalAddressPayload,
    VendorIdPayload,
    parse_message,
    parse_payloads,
)
from pluto.packet.ikev1_types import EncapsulationMode, ExchangeType
from tests.inprocess.harness import Nat, Pair, connection

ROAD = "203.0.113.209"
NIC = "198.51.100.254"
EAST = "198.51.100.23"
EAST_INSIDE = "203.0.113.23"
ROADNET = "198.18.3.0/24"
MAIN, QUICK = ExchangeType.MAIN, ExchangeType.QUICK
RFC3947_VID = bytes.fromhex("4a131c81070358455c5728f20e95452f")


def ip(text: str):
    return ipaddress.ip_address(text)


def _v1(pair: Pair) -> Pair:
    for host in (pair.west, pair.east):
        host.core.options.ikev1_policy = "accept"
        host.impairs.apply("revival")
    return pair


def _road_pair(**extra) -> Pair:
    pair = _v1(Pair(west=ROAD, east=EAST))
    pair.wire.nat = Nat([ROAD], NIC)
    extra = {"west_client": ROADNET, **extra}
    pair.add(connection("road", west=ROAD, east=EAST, ikev2=False, **extra),
             connection("road", west="%any", east=EAST, ikev2=False, **extra))
    return pair


def _initiate(pair: Pair):
    reply = pair.west.whack({"action": "initiate", "name": "road"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    return reply


def _sas(host) -> dict[str, object]:
    child = next(s for s in host.core.states if isinstance(s, QuickSa) and s.sas)
    return {("in" if sa.id.spi == child.inbound_spi else "out"): sa for sa in child.sas}


def _natd(cky_i: bytes, cky_r: bytes, address: str, port: int) -> bytes:
    # HASH(CKY-I | CKY-R | IP | Port), SHA2-256 being the negotiated hash of the default
    return hashlib.sha256(cky_i + cky_r + ip(address).packed + port.to_bytes(2, "big")).digest()


def test_road_behind_nat_floats_to_4500_and_encapsulates_esp():
    pair = _road_pair()
    _initiate(pair)
    nat_500 = pair.wire.nat.mappings[(ip(ROAD), 500)]
    nat_4500 = pair.wire.nat.mappings[(ip(ROAD), 4500)]
    seen = [(parse_message(d.data), d.src, d.dst) for d in pair.wire.delivered
            if d.dst[0] == ip(EAST)]
    # MI1, MI2 from the NAT's 500 mapping; MI3 and Quick Mode from its 4500 one
    assert [(ExchangeType(m.exchange), src, dst) for m, src, dst in seen] == [
        (MAIN, nat_500, (ip(EAST), 500)), (MAIN, nat_500, (ip(EAST), 500)),
        (MAIN, nat_4500, (ip(EAST), 4500)), (QUICK, nat_4500, (ip(EAST), 4500)),
        (QUICK, nat_4500, (ip(EAST), 4500))]
    mi1, mi2 = seen[0][0], seen[1][0]
    answers = [(parse_message(d.data), d.src, d.dst) for d in pair.wire.sent
               if d.src[0] == ip(EAST)]
    mr1, mr2 = answers[0][0], answers[1][0]
    assert [(src, dst) for _m, src, dst in answers] == [
        ((ip(EAST), 500), nat_500), ((ip(EAST), 500), nat_500),
        ((ip(EAST), 4500), nat_4500), ((ip(EAST), 4500), nat_4500)]
    assert RFC3947_VID in [v.data for v in mi1.find(VendorIdPayload)]
    assert RFC3947_VID in [v.data for v in mr1.find(VendorIdPayload)]
    cky_i, cky_r = mr1.icookie, mr1.rcookie
    # road hashed east's real address and its own inside one: the NAT changed the latter
    assert [p.data for p in mi2.find(NatDetectionPayload)] == [
        _natd(cky_i, cky_r, EAST, 500), _natd(cky_i, cky_r, ROAD, 500)]
    assert [p.data for p in mr2.find(NatDetectionPayload)] == [
        _natd(cky_i, cky_r, NIC, nat_500[1]), _natd(cky_i, cky_r, EAST, 500)]
    assert pair.west.lines_with('"road" #1: NAT-Traversal: Result using RFC 3947: i am NATed')
    assert pair.east.lines_with(f'"road"[1] {NIC} #1: NAT-Traversal: Result using RFC 3947: '
                                "peer is NATed")
    quick = next(s for s in pair.east.core.states if isinstance(s, QuickSa))
    assert quick.chosen.mode == EncapsulationMode.UDP_TUNNEL
    west, east = _sas(pair.west), _sas(pair.east)
    assert (west["out"].id.dst, west["out"].encap_sport, west["out"].encap_dport) == (
        ip(EAST), 4500, 4500)
    assert (east["out"].id.dst, east["out"].encap_sport, east["out"].encap_dport) == (
        ip(NIC), 4500, nat_4500[1])
    assert (east["in"].src, east["in"].encap_sport, east["in"].encap_dport) == (
        ip(NIC), nat_4500[1], 4500)
    assert {sa.mode for sa in (*west.values(), *east.values())} == {"tunnel"}
    isakmp = next(s for s in pair.east.core.states if isinstance(s, IsakmpSa))
    assert isakmp.remote == (ip(NIC), nat_4500[1])


def test_without_nat_nothing_floats_and_modes_stay_plain():
    pair = _v1(Pair(west=ROAD, east=EAST))
    pair.add(connection("road", west=ROAD, east=EAST, west_client=ROADNET, ikev2=False))
    _initiate(pair)
    assert {(d.src[1], d.dst[1]) for d in pair.wire.sent} == {(500, 500)}
    mi2 = parse_message(pair.wire.sent[2].data)
    assert len(mi2.find(NatDetectionPayload)) == 2, "NAT-D is sent; it finds no NAT"
    assert all(sa.encap_sport is None for host in (pair.west, pair.east)
               for sa in _sas(host).values())
    quick = next(s for s in pair.east.core.states if isinstance(s, QuickSa))
    assert quick.chosen.mode == EncapsulationMode.TUNNEL
    assert not pair.west.lines_with("NAT-Traversal")


def test_a_peer_without_the_vendor_id_gets_no_nat_d():
    pair = _v1(Pair(west=ROAD, east=EAST, east_options={"natikeport": 0}))
    pair.wire.nat = Nat([ROAD], NIC)
    pair.add(connection("road", west=ROAD, east=EAST, west_client=ROADNET, ikev2=False),
             connection("road", west="%any", east=EAST, west_client=ROADNET, ikev2=False))
    _initiate(pair)
    mr1 = parse_message(pair.wire.sent[1].data)
    assert mr1.find(VendorIdPayload) == [dpd.vendor_id()]  # DPD's, not NAT-T's
    mi2 = parse_message(pair.wire.sent[2].data)
    assert not mi2.find(NatDetectionPayload)
    assert {d.dst[1] for d in pair.wire.delivered if d.dst[0] == ip(EAST)} == {500}


def test_transport_mode_through_nat_sends_nat_oa():
    pair = _road_pair(tunnel=False, west_client=None, east_client=None)
    _initiate(pair)
    quick = next(s for s in pair.west.core.states if isinstance(s, QuickSa))
    assert quick.chosen.mode == EncapsulationMode.UDP_TRANSPORT
    # decrypt QI1 with road's own phase 1 keys and look at the NAT-OA payloads
    isakmp = next(s for s in pair.west.core.states if isinstance(s, IsakmpSa))
    qi1_datagram = next(d for d in pair.wire.sent if d.src[0] == ip(ROAD)
                        and parse_message(d.data).exchange == ExchangeType.QUICK)
    qi1 = parse_message(qi1_datagram.data)
    from pluto.ikev1.crypt import Phase1Crypto

    crypto = Phase1Crypto(isakmp.chosen, isakmp.keys, isakmp.g_xi, isakmp.g_xr)
    crypto.phase1_last_block = isakmp.crypto.phase1_last_block
    payloads, _ = parse_payloads(crypto.decrypt(qi1.message_id, qi1.encrypted.data),
                                 qi1.encrypted.first_payload)
    addresses = [ip_bytes.address for ip_bytes in payloads
                 if isinstance(ip_bytes, NatOriginalAddressPayload)]
    assert addresses == [ip(ROAD).packed, ip(EAST).packed]
    assert {sa.mode for sa in _sas(pair.east).values()} == {"transport"}
    assert _sas(pair.east)["out"].encap_dport == pair.wire.nat.mappings[(ip(ROAD), 4500)][1]


@pytest.mark.parametrize("aggressive", [False, True], ids=["main", "aggressive"])
def test_responder_behind_nat_floats_too(aggressive):
    pair = _v1(Pair(west=ROAD, east=EAST_INSIDE))
    nat = pair.wire.nat = Nat([EAST_INSIDE], NIC)
    nat.forward((EAST_INSIDE, 500), 500)
    nat.forward((EAST_INSIDE, 4500), 4500)
    pair.add(connection("road", west=ROAD, east=NIC, west_client=ROADNET, ikev2=False,
                        aggressive=aggressive),
             connection("road", west=ROAD, east=EAST_INSIDE, west_client=ROADNET, ikev2=False,
                        aggressive=aggressive))
    _initiate(pair)
    assert pair.west.lines_with('"road" #1: NAT-Traversal: Result using RFC 3947: peer is '
                                "NATed")
    assert pair.east.lines_with('"road" #1: NAT-Traversal: Result using RFC 3947: i am NATed')
    west = _sas(pair.west)
    assert (west["out"].id.dst, west["out"].encap_sport, west["out"].encap_dport) == (
        ip(NIC), 4500, 4500)


def test_aggressive_mode_through_nat_floats_at_ai2():
    pair = _road_pair(aggressive=True)
    _initiate(pair)
    nat_500 = pair.wire.nat.mappings[(ip(ROAD), 500)]
    nat_4500 = pair.wire.nat.mappings[(ip(ROAD), 4500)]
    seen = [(ExchangeType(parse_message(d.data).exchange), d.src, d.dst[1])
            for d in pair.wire.delivered if d.dst[0] == ip(EAST)]
    aggr = ExchangeType.AGGRESSIVE
    assert seen == [(aggr, nat_500, 500), (aggr, nat_4500, 4500), (QUICK, nat_4500, 4500),
                    (QUICK, nat_4500, 4500)]
    ar1 = parse_message(next(d.data for d in pair.wire.sent if d.src[0] == ip(EAST)))
    assert RFC3947_VID in [v.data for v in ar1.find(VendorIdPayload)]
    assert [p.data for p in ar1.find(NatDetectionPayload)] == [
        _natd(ar1.icookie, ar1.rcookie, NIC, nat_500[1]),
        _natd(ar1.icookie, ar1.rcookie, EAST, 500)]
    assert pair.west.lines_with('"road" #1: NAT-Traversal: Result using RFC 3947: i am NATed')
    assert pair.east.lines_with("NAT-Traversal: Result using RFC 3947: peer is NATed")
    east = _sas(pair.east)
    assert (east["out"].id.dst, east["out"].encap_sport, east["out"].encap_dport) == (
        ip(NIC), 4500, nat_4500[1])
    assert [s.kind.name for s in pair.east.core.states] == ["STATE_AGGR_R2", "STATE_QUICK_R2"]


@pytest.mark.parametrize("flags", [{"authenticate": True, "encrypt": False},
                                   {"authenticate": True, "encrypt": True}],
                         ids=["ah", "esp+ah"])
def test_ah_through_a_nat_is_refused_clearly(flags):
    pair = _road_pair(**flags)
    reply = pair.west.whack({"action": "initiate", "name": "road"})
    pair.pump()
    assert reply.finished not in (None, 0)
    assert "AH (--authenticate) cannot cross the NAT between the peers; use ESP" in \
        reply.texts[-1]
    assert pair.west.kernel.installed_sas() == pair.east.kernel.installed_sas() == []
    assert pair.west.kernel.larval_spis() == []


def test_responder_with_ah_refuses_quick_mode_through_a_nat():
    pair = _v1(Pair(west=ROAD, east=EAST))
    pair.wire.nat = Nat([ROAD], NIC)
    pair.add(connection("road", west=ROAD, east=EAST, west_client=ROADNET, ikev2=False),
             connection("road", west="%any", east=EAST, west_client=ROADNET, ikev2=False,
                        authenticate=True, encrypt=False))
    pair.west.whack({"action": "initiate", "name": "road"})
    pair.pump()
    assert pair.east.lines_with("Quick Mode: AH (--authenticate) cannot cross the NAT "
                                "between the peers; use ESP; responding with NO_PROPOSAL_CHOSEN")
    assert pair.east.kernel.installed_sas() == []
