"""NAT traversal (RFC 7296 §2.23, RFC 3948) through a fake masquerading NAT on the wire.

road (203.0.113.209) sits behind the nic NAT, whose outside address is 198.51.100.254; east
(198.51.100.23) answers road warriors with a %any template. The expected ports come from the
harness's NAT (its mapping table), not from the cores.
"""

from __future__ import annotations

import ipaddress

from pluto.engine.states import ChildSa, IkeSa
from pluto.ikev2 import informational
from pluto.packet.ikev2 import parse_message
from pluto.packet.ikev2_types import ExchangeType
from tests.inprocess.harness import Nat, Pair, connection

ROAD = "203.0.113.209"
NIC = "198.51.100.254"  # the NAT's outside address
EAST = "198.51.100.23"
EAST_INSIDE = "203.0.113.23"  # east behind the NAT (port forwarded), for the responder case
ROADNET = "198.18.3.0/24"


def ip(text: str):
    return ipaddress.ip_address(text)


def _road_pair(**options) -> Pair:
    pair = Pair(west=ROAD, east=EAST, **options)
    pair.wire.nat = Nat([ROAD], NIC)
    pair.add(connection("road", west=ROAD, east=EAST, west_client=ROADNET),
             connection("road", west="%any", east=EAST, west_client=ROADNET))
    return pair


def _initiate(pair: Pair, name: str = "road"):
    reply = pair.west.whack({"action": "initiate", "name": name})
    pair.pump()
    assert reply.finished == 0, reply.texts
    return reply


def _ike(host) -> IkeSa:
    return next(s for s in host.core.states if isinstance(s, IkeSa) and s.kind.established)


def _sas(host) -> dict[str, object]:
    """The installed SAs of the host's Child SAs, by direction."""
    child = next(s for s in host.core.states if isinstance(s, ChildSa) and s.sas)
    return {("in" if sa.id.spi == child.inbound_spi else "out"): sa for sa in child.sas}


def _exchanges(datagrams) -> list[tuple[str, tuple, tuple]]:
    return [(ExchangeType(parse_message(d.data).exchange).name, d.src, d.dst)
            for d in datagrams]


def test_road_behind_nat_floats_to_4500_and_encapsulates_esp():
    pair = _road_pair()
    _initiate(pair)
    nat_500 = pair.wire.nat.mappings[(ip(ROAD), 500)]
    nat_4500 = pair.wire.nat.mappings[(ip(ROAD), 4500)]
    assert nat_500 != nat_4500
    # what east saw: IKE_SA_INIT from the NAT's 500 mapping, IKE_AUTH from its 4500 one
    seen = [d for d in pair.wire.delivered if d.dst[0] == ip(EAST)]
    assert _exchanges(seen) == [("IKE_SA_INIT", nat_500, (ip(EAST), 500)),
                                ("IKE_AUTH", nat_4500, (ip(EAST), 4500))]
    answers = [d for d in pair.wire.sent if d.src[0] == ip(EAST)]
    assert _exchanges(answers) == [("IKE_SA_INIT", (ip(EAST), 500), nat_500),
                                   ("IKE_AUTH", (ip(EAST), 4500), nat_4500)]
    assert pair.west.lines_with('"road" #1: NAT-Traversal: Result using RFC 7296: i am NATed')
    assert pair.east.lines_with(f'"road"[1] {NIC} #1: NAT-Traversal: Result using RFC 7296: '
                                "peer is NATed")
    # ESP in UDP in both kernels, between the ports the NAT really uses
    west, east = _sas(pair.west), _sas(pair.east)
    assert (west["out"].id.dst, west["out"].encap_sport, west["out"].encap_dport) == (
        ip(EAST), 4500, 4500)
    assert (west["in"].src, west["in"].encap_sport, west["in"].encap_dport) == (
        ip(EAST), 4500, 4500)
    assert (east["out"].id.dst, east["out"].encap_sport, east["out"].encap_dport) == (
        ip(NIC), 4500, nat_4500[1])
    assert (east["in"].src, east["in"].encap_sport, east["in"].encap_dport) == (
        ip(NIC), nat_4500[1], 4500)
    # libreswan's shapes: ESPinUDP ... NATOA=none NATD=PEER:PORT, and the floated port
    line = pair.east.lines_with("responder established Child SA")[0]
    assert "{ESPinUDP=>0x" in line and f"NATOA=none NATD={NIC}:{nat_4500[1]} DPD=passive}}" \
        in line
    assert f"NATD={EAST}:4500 DPD=passive}}" in pair.west.lines_with(
        "initiator established Child SA")[0]
    west_states = pair.west.whack({"action": "showstates"}).texts
    assert west_states[0].startswith('#1: "road":4500 STATE_V2_ESTABLISHED_IKE_SA ')
    east_states = pair.east.whack({"action": "showstates"}).texts
    assert east_states[0].startswith(f'#1: "road"[1] {NIC}:{nat_4500[1]} '
                                     "STATE_V2_ESTABLISHED_IKE_SA ")


def test_without_nat_nothing_floats():
    pair = Pair(west=ROAD, east=EAST)
    pair.add(connection("road", west=ROAD, east=EAST, west_client=ROADNET))
    _initiate(pair)
    assert {(d.src[1], d.dst[1]) for d in pair.wire.sent} == {(500, 500)}
    assert all(sa.encap_sport is None and sa.encap_dport is None
               for host in (pair.west, pair.east) for sa in _sas(host).values())
    assert not pair.west.lines_with("NAT-Traversal")
    assert "{ESP=>0x" in pair.west.lines_with("initiator established Child SA")[0]


def test_responder_behind_nat_floats_too():
    pair = Pair(west=ROAD, east=EAST_INSIDE)
    nat = pair.wire.nat = Nat([EAST_INSIDE], NIC)
    nat.forward((EAST_INSIDE, 500), 500)
    nat.forward((EAST_INSIDE, 4500), 4500)
    pair.add(connection("road", west=ROAD, east=NIC, west_client=ROADNET),
             connection("road", west=ROAD, east=EAST_INSIDE, west_client=ROADNET))
    _initiate(pair)
    assert pair.west.lines_with('"road" #1: NAT-Traversal: Result using RFC 7296: peer is '
                                "NATed")
    assert pair.east.lines_with('"road" #1: NAT-Traversal: Result using RFC 7296: i am NATed')
    west, east = _sas(pair.west), _sas(pair.east)
    assert (west["out"].id.dst, west["out"].encap_dport) == (ip(NIC), 4500)
    assert (east["out"].id.dst, east["out"].encap_sport, east["out"].encap_dport) == (
        ip(ROAD), 4500, 4500)


def test_keepalives_from_the_end_behind_the_nat():
    pair = _road_pair()
    _initiate(pair)
    nat_4500 = pair.wire.nat.mappings[(ip(ROAD), 4500)]
    pair.advance(19)
    assert pair.wire.keepalives == []
    pair.advance(1)
    (first,) = pair.wire.keepalives
    assert (first.src, first.dst) == (nat_4500, (ip(EAST), 4500))
    pair.advance(60)
    assert len(pair.wire.keepalives) == 4  # every 20 s, from road only
    assert {d.src for d in pair.wire.keepalives} == {nat_4500}


def test_keep_alive_option_and_force_keepalive():
    pair = _road_pair(west_options={"keep_alive": 5}, east_options={"force_keepalive": True})
    _initiate(pair)
    pair.advance(20)
    road = [d for d in pair.wire.keepalives if d.dst[0] == ip(EAST)]
    east = [d for d in pair.wire.keepalives if d.src[0] == ip(EAST)]
    assert len(road) == 4  # every 5 s
    assert len(east) == 1 and east[0].dst == (ip(ROAD), 4500)  # forced, default 20 s
    quiet = _road_pair(west_options={"keep_alive": 0})
    _initiate(quiet)
    quiet.advance(100)
    assert quiet.wire.keepalives == []


def test_new_nat_port_is_followed_after_an_authenticated_request():
    pair = _road_pair()
    _initiate(pair)
    nat = pair.wire.nat
    old_port = nat.mappings[(ip(ROAD), 4500)]
    nat.forget()  # the NAT drops its mappings; road's next packet gets a new port
    pair.advance(20)  # a keepalive makes the new mapping, but proves nothing to east
    new_port = nat.mappings[(ip(ROAD), 4500)]
    assert new_port != old_port
    east_ike = _ike(pair.east)
    assert east_ike.remote == old_port
    # a forged request from the new port (bad ICV) must not move the IKE SA
    informational.send_liveness(pair.west.core, _ike(pair.west))
    real = pair.wire.queue.popleft()
    forged = bytearray(real.data)
    forged[-1] ^= 1
    pair.east.core.packet_received(bytes(forged), (ip(EAST), 4500), new_port)
    assert east_ike.remote == old_port
    assert not pair.east.lines_with("new NAT mapping")
    # the real one moves IKE and the kernel SAs, and the answer reaches road
    pair.wire.queue.appendleft(real)
    pair.pump()
    assert east_ike.remote == new_port
    assert pair.east.lines_with(f'"road"[1] {NIC} #1: new NAT mapping for #1, was '
                                f"{NIC}:UDP/{old_port[1]}, now {NIC}:UDP/{new_port[1]}")
    east = _sas(pair.east)
    assert (east["out"].encap_dport, east["in"].encap_sport) == (new_port[1], new_port[1])
    assert _ike(pair.west).outstanding is None  # the liveness probe was answered
    # east's own requests now go to the new port and are answered
    informational.send_liveness(pair.east.core, east_ike)
    probe = pair.wire.queue[0]
    assert (probe.src, probe.dst) == ((ip(EAST), 4500), new_port)
    pair.pump()
    assert east_ike.outstanding is None
    # and a Child SA rekeyed now is installed for the new port from the start
    reply = pair.west.whack({"action": "rekey-child", "name": "road"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    newest = max((s for s in pair.east.core.states if isinstance(s, ChildSa) and s.sas),
                 key=lambda s: s.serial)
    assert newest.serial > 2
    outbound = next(sa for sa in newest.sas if sa.id.spi == newest.outbound_spi)
    assert (outbound.id.dst, outbound.encap_dport) == (ip(NIC), new_port[1])


def _set_encapsulation(host, name: str, value: str) -> None:
    # The builder still refuses encapsulation=yes (test_config_keywords expects that); the
    # connection model has the field, so the test sets it on the loaded connection.
    host.core.connections.get(name).encapsulation = value


def test_forced_encapsulation_without_a_nat():
    pair = Pair(west=ROAD, east=EAST)
    pair.add(connection("road", west=ROAD, east=EAST, west_client=ROADNET))
    _set_encapsulation(pair.west, "road", "yes")
    _initiate(pair)
    # west's faked source hash makes both ends see west as NATed: IKE_AUTH on 4500
    assert pair.east.lines_with("NAT-Traversal: Result using RFC 7296: peer is NATed")
    assert pair.west.lines_with("NAT-Traversal: Result using RFC 7296: i am NATed")
    assert _exchanges(pair.wire.sent)[2:] == [
        ("IKE_AUTH", (ip(ROAD), 4500), (ip(EAST), 4500)),
        ("IKE_AUTH", (ip(EAST), 4500), (ip(ROAD), 4500))]
    assert all((sa.encap_sport, sa.encap_dport) == (4500, 4500)
               for host in (pair.west, pair.east) for sa in _sas(host).values())


def test_encapsulation_no_ignores_the_nat():
    pair = _road_pair()
    _set_encapsulation(pair.west, "road", "no")
    _initiate(pair)
    assert not pair.west.lines_with("NAT-Traversal")
    assert {d.dst[1] for d in pair.wire.sent if d.src[0] == ip(ROAD)} == {500}
    assert all(sa.encap_sport is None for sa in _sas(pair.west).values())
