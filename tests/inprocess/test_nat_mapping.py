"""A road warrior's NAT mapping changes under an established IKE SA (RFC 7296 §2.23): east
follows road's next authenticated request and points its kernel state at the new mapping.

- a new port: a kernel that can update an SA in place (``update_sa``, XFRM_MSG_UPDSA on
  Linux) gets an update of both SAs, not a delete and an add, so the SPIs, keys and sequence
  numbers stay (a re-added outbound SA starts again at sequence number 1, which road's
  anti-replay check drops; testing/pluto/nat-port-change shows it with a real kernel);
- a new address too (a NAT with an address pool): the outbound SA, whose identity is its
  destination, is deleted and added again, and the tunnel templates of the policies follow.
"""

from __future__ import annotations

import ipaddress

from pluto.engine.states import ChildSa, IkeSa
from pluto.ikev2 import informational
from pluto.kernel.nostack import NoStack
from tests.inprocess.harness import Nat, Pair, connection

ROAD = "203.0.113.209"
NIC = "198.51.100.254"
NIC_OTHER = "198.51.100.253"  # the NAT's second outside address
EAST = "198.51.100.23"
ROADNET = "198.18.3.0/24"


def ip(text: str):
    return ipaddress.ip_address(text)


def _road_pair() -> tuple[Pair, NoStack]:
    pair = Pair(west=ROAD, east=EAST)
    kernel = pair.east.kernel  # NoStack's update_sa records what it changed in place
    pair.wire.nat = Nat([ROAD], NIC)
    pair.add(connection("road", west=ROAD, east=EAST, west_client=ROADNET),
             connection("road", west="%any", east=EAST, west_client=ROADNET))
    reply = pair.west.whack({"action": "initiate", "name": "road"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    return pair, kernel


def _ike(host) -> IkeSa:
    return next(s for s in host.core.states if isinstance(s, IkeSa) and s.kind.established)


def _child(host) -> ChildSa:
    return next(s for s in host.core.states if isinstance(s, ChildSa) and s.sas)


def _probe_from_road(pair: Pair) -> None:
    informational.send_liveness(pair.west.core, _ike(pair.west))
    pair.pump()
    assert _ike(pair.west).outstanding is None  # answered through the new mapping


def test_new_port_updates_the_sas_in_place():
    pair, kernel = _road_pair()
    child = _child(pair.east)
    before = {sa.id: sa for sa in pair.east.kernel.installed_sas()}
    pair.wire.nat.forget()
    _probe_from_road(pair)
    new_port = pair.wire.nat.mappings[(ip(ROAD), 4500)][1]
    assert new_port != 4500  # the harness NAT picks from 40000 up
    assert set(kernel.updated_sas()) == set(before)  # both, same SPIs, no re-add
    assert len(kernel.updated_sas()) == 2
    after = {sa.id: sa for sa in pair.east.kernel.installed_sas()}
    out = after[next(i for i in after if i.spi == child.outbound_spi)]
    inb = after[next(i for i in after if i.spi == child.inbound_spi)]
    assert (out.encap_sport, out.encap_dport) == (4500, new_port)
    assert (inb.encap_sport, inb.encap_dport) == (new_port, 4500)
    assert out.encrypt_key == before[out.id].encrypt_key
    # the policies did not change: same address
    assert {(p.tunnel_src, p.tunnel_dst) for p in pair.east.kernel.installed_policies()} == {
        (ip(EAST), ip(NIC)), (ip(NIC), ip(EAST))}


def test_new_address_moves_the_outbound_sa_and_the_policies():
    pair, kernel = _road_pair()
    nat = pair.wire.nat
    nat.forget()
    nat.outside = ip(NIC_OTHER)
    _probe_from_road(pair)
    assert _ike(pair.east).remote[0] == ip(NIC_OTHER)
    assert pair.east.lines_with(f"new NAT mapping for #1, was {NIC}:UDP/")
    child = _child(pair.east)
    sas = pair.east.kernel.installed_sas()
    out = next(sa for sa in sas if sa.id.spi == child.outbound_spi)
    inb = next(sa for sa in sas if sa.id.spi == child.inbound_spi)
    assert out.id.dst == ip(NIC_OTHER) and inb.src == ip(NIC_OTHER)
    # the outbound SA (a new identity) was re-added; the inbound one keeps its identity and
    # goes to the kernel's update_sa (xfrm re-adds it for its new source: see tests/nat)
    assert len(sas) == 2 and [sa.spi for sa in kernel.updated_sas()] == [child.inbound_spi]
    tunnels = {(p.direction, p.tunnel_src, p.tunnel_dst)
               for p in pair.east.kernel.installed_policies()}
    assert tunnels == {("out", ip(EAST), ip(NIC_OTHER)), ("in", ip(NIC_OTHER), ip(EAST)),
                       ("fwd", ip(NIC_OTHER), ip(EAST))}
    # east's own requests reach road through the new address
    informational.send_liveness(pair.east.core, _ike(pair.east))
    assert pair.wire.queue[0].dst[0] == ip(NIC_OTHER)
    pair.pump()
    assert _ike(pair.east).outstanding is None
