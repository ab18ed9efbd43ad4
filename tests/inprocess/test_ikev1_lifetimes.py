"""IKEv1 lifetimes between two in-process cores: what is proposed (at most 8 h for the ISAKMP
SA, 1 day for IPsec SAs), what the responder accepts (a shorter lifetime as proposed, a
longer one cut to the limit with libreswan's log line), and what both sides then use."""

from __future__ import annotations

from pluto.ikev1.states import IsakmpSa, QuickSa
from pluto.packet.ikev1 import Attribute, SecurityAssociationPayload, emit_message, parse_message
from pluto.packet.ikev1_types import OakleyAttribute
from tests.inprocess.harness import Pair, connection


def _pair() -> Pair:
    pair = Pair()
    for host in (pair.west, pair.east):
        host.core.options.ikev1_policy = "accept"
        host.impairs.apply("revival")
    return pair


def _state(host, cls):
    return next(s for s in host.core.states if isinstance(s, cls))


def _life(sa: SecurityAssociationPayload) -> int:
    attributes = {a.type: a.as_int() for a in sa.proposals[0].transforms[0].attributes}
    return attributes[OakleyAttribute.LIFE_DURATION]


def test_defaults_are_one_hour_and_eight_hours():
    pair = _pair()
    pair.add(connection(ikev2=False))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.lines
    mi1 = parse_message(pair.wire.sent[0].data)
    assert _life(mi1.find(SecurityAssociationPayload)[0]) == 3600
    for host in (pair.west, pair.east):
        assert _state(host, IsakmpSa).chosen.lifetime == 3600
        assert _state(host, QuickSa).chosen.lifetime == 28800


def test_responder_accepts_the_lifetimes_the_initiator_proposes():
    pair = _pair()
    west = connection(ikev2=False, ikelifetime=7200, ipseclifetime=1800)
    pair.add(west, connection(ikev2=False))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.lines
    assert _state(pair.east, IsakmpSa).chosen.lifetime == 7200
    assert _state(pair.east, QuickSa).chosen.lifetime == 1800
    assert _state(pair.west, QuickSa).chosen.lifetime == 1800
    assert not pair.east.lines_with("exceeds our limit")
    # the kernel's hard limit is the negotiated lifetime, not east's configured 8 h
    for host in (pair.west, pair.east):
        assert {sa.lifetime_seconds for sa in host.kernel.installed_sas()} == {1800}


def test_our_proposal_never_exceeds_eight_hours():
    pair = _pair()
    pair.add(connection(ikev2=False, ikelifetime=86400))
    pair.west.whack({"action": "initiate", "name": "west-east"})
    mi1 = parse_message(pair.wire.queue[0].data)
    assert _life(mi1.find(SecurityAssociationPayload)[0]) == 8 * 3600


def test_a_longer_isakmp_lifetime_is_cut_to_eight_hours_by_the_responder():
    # a peer proposing 12 h: west's MI1 (and what west remembers of it) is rewritten
    pair = _pair()
    pair.add(connection(ikev2=False))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    mi1 = parse_message(pair.drop_next().data)
    sa = mi1.find(SecurityAssociationPayload)[0]
    for transform in sa.proposals[0].transforms:
        transform.attributes = [
            Attribute.number(a.type, 12 * 3600) if a.type == OakleyAttribute.LIFE_DURATION
            else a for a in transform.attributes]
    west_isakmp = _state(pair.west, IsakmpSa)
    west_isakmp.offered_sa, west_isakmp.sa_i_b = sa, sa.emit_body(None)
    pair.east.core.packet_received(emit_message(mi1), pair.east.endpoint, pair.west.endpoint)
    pair.pump()
    assert reply.finished == 0, reply.lines
    assert pair.east.lines_with("peer requested 43200 seconds which exceeds our limit for the "
                                "ISAKMP SA lifetime; reducing to 28800 seconds")
    assert _state(pair.east, IsakmpSa).chosen.lifetime == 28800
    assert _state(pair.west, IsakmpSa).chosen.lifetime == 28800
