"""The responder rekeys a road warrior's instance (issue 7): east, which answered road's
IKE_SA_INIT with its %any template, starts CREATE_CHILD_SA itself, through road's NAT.

The new Child SA must belong to the same instance ``"road"[1]``, be installed for the NAT's
port (ESP in UDP), replace the old one on both ends, and the instance must outlive the rekey
of its IKE SA, going only when road leaves.
"""

from __future__ import annotations

import ipaddress

from pluto.connections.connection import Kind
from pluto.engine.states import ChildSa, IkeSa, StateKind
from pluto.ikev2 import informational
from tests.inprocess.harness import Nat, Pair, connection

ROAD = "203.0.113.209"
NIC = "198.51.100.254"
EAST = "198.51.100.23"
ROADNET = "198.18.3.0/24"
LABEL = f'"road"[1] {NIC}'


def ip(text: str):
    return ipaddress.ip_address(text)


def _pair() -> Pair:
    pair = Pair(west=ROAD, east=EAST)
    pair.wire.nat = Nat([ROAD], NIC)
    pair.add(connection("road", west=ROAD, east=EAST, west_client=ROADNET),
             connection("road", west="%any", east=EAST, west_client=ROADNET))
    reply = pair.west.whack({"action": "initiate", "name": "road"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    return pair


def _instances(host) -> list:
    return [c for c in host.core.connections if c.kind is Kind.INSTANCE]


def _children(host) -> list[ChildSa]:
    return [s for s in host.core.states if isinstance(s, ChildSa)]


def _ikes(host) -> list[IkeSa]:
    return [s for s in host.core.states if isinstance(s, IkeSa)]


def test_responder_rekeys_the_child_sa_of_an_instance():
    pair = _pair()
    (instance,) = _instances(pair.east)
    (old,) = _children(pair.east)
    nat_port = pair.wire.nat.mappings[(ip(ROAD), 4500)][1]
    reply = pair.east.whack({"action": "rekey-child", "name": "road"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    assert pair.east.lines_with(f"{LABEL} #3: initiator rekeyed Child SA #2 using #1")
    assert pair.west.lines_with('"road" #3: responder rekeyed Child SA #2 using #1')
    (new,) = _children(pair.east)
    (west_new,) = _children(pair.west)
    assert new.serial == 3 and new.conn is instance and _instances(pair.east) == [instance]
    # the two ends agree on the new SPIs, and the old ones are gone from both kernels
    assert (new.inbound_spi, new.outbound_spi) == (west_new.outbound_spi,
                                                   west_new.inbound_spi)
    for host in (pair.east, pair.west):
        spis = {sa.id.spi for sa in host.kernel.installed_sas()}
        assert spis == {new.inbound_spi, new.outbound_spi}
        assert old.inbound_spi not in spis and old.outbound_spi not in spis
    # east's new outbound SA goes through the NAT's mapping, ESP in UDP
    out = next(sa for sa in pair.east.kernel.installed_sas() if sa.id.spi == new.outbound_spi)
    assert (out.id.dst, out.encap_sport, out.encap_dport) == (ip(NIC), 4500, nat_port)
    assert new.reqid == old.reqid  # the policies stay and refer to it


def test_responder_rekeys_the_ike_sa_and_the_instance_stays_until_road_leaves():
    pair = _pair()
    (instance,) = _instances(pair.east)
    reply = pair.east.whack({"action": "rekey-ike", "name": "road"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    assert pair.east.lines_with(f"{LABEL} #3: initiator rekeyed IKE SA #1")
    (east_ike,) = _ikes(pair.east)
    (west_ike,) = _ikes(pair.west)
    assert east_ike.serial == 3 and east_ike.conn is instance
    assert (east_ike.spi_i, east_ike.spi_r) == (west_ike.spi_i, west_ike.spi_r)
    assert east_ike.encapsulate and east_ike.nat_peer  # the NAT path is inherited
    (child,) = _children(pair.east)
    assert child.ike_serial == 3 and child.conn is instance
    # the new IKE SA works in both directions through the NAT
    informational.send_liveness(pair.east.core, east_ike)
    pair.pump()
    assert east_ike.outstanding is None
    informational.send_liveness(pair.west.core, west_ike)
    pair.pump()
    assert west_ike.outstanding is None
    assert _instances(pair.east) == [instance]
    # road leaves: the instance goes with its last IKE SA, the template stays
    assert pair.west.whack({"action": "terminate", "name": "road"}).finished == 0
    pair.pump()
    assert _instances(pair.east) == [] and len(pair.east.core.states) == 0
    assert pair.east.kernel.installed_sas() == []
    assert pair.east.core.connections.get("road").kind is Kind.TEMPLATE


def _deliver_one(pair: Pair) -> None:
    pair.wire.deliver(pair.wire.queue.popleft())


def test_old_ike_sa_waits_for_the_answer_to_its_delete():
    """RFC 7296 §1.4.1: east keeps the replaced IKE SA #1 until road answers its Delete, so
    the answer is not 'an INFORMATIONAL message with unknown IKE SPIs'."""
    pair = _pair()
    reply = pair.east.whack({"action": "rekey-ike", "name": "road"})
    _deliver_one(pair)  # east's CREATE_CHILD_SA request
    _deliver_one(pair)  # road's answer: east takes over and sends Delete on #1
    old = pair.east.core.states.get(1)
    assert isinstance(old, IkeSa) and old.kind is StateKind.STATE_V2_ZOMBIE
    assert old.children == [] and old.outstanding is not None
    assert [s.serial for s in _children(pair.east)] == [2]
    assert _children(pair.east)[0].ike_serial == 3
    pair.pump()  # the Delete and its answer
    assert reply.finished == 0, reply.texts
    assert pair.east.core.states.get(1) is None
    assert [s.serial for s in _ikes(pair.east)] == [3]
    for host in (pair.east, pair.west):
        assert host.lines_with("unknown IKE SPIs") == [], host.log
    assert _instances(pair.east) != []


def test_unanswered_delete_of_the_old_ike_sa_is_forgotten_without_reviving():
    pair = _pair()
    pair.east.whack({"action": "rekey-ike", "name": "road"})
    _deliver_one(pair)
    _deliver_one(pair)
    pair.drop_next()  # the Delete of #1 never reaches road
    pair.wire.nat = None  # nor do its retransmits (road would not know #1 anyway)
    pair.advance(pair.east.core.options.retransmit_timeout + 1)
    assert pair.east.core.states.get(1) is None
    assert pair.east.lines_with(f"{LABEL} #1: no answer to the Delete of the replaced IKE SA "
                                "within 60s; forgetting it")
    assert not pair.east.lines_with("peer is not responding")
    assert not pair.east.lines_with("reviving")
    assert [s.serial for s in _ikes(pair.east)] == [3]
    assert [c.ike_serial for c in _children(pair.east)] == [3]
