"""Lost and duplicated messages: retransmits with back-off, cached responses, timeouts and
keyingtries."""

from __future__ import annotations

from pluto.whack_protocol import RC_NOTIFICATION
from tests.inprocess.harness import Pair, connection


def test_lost_ike_sa_init_request_is_retransmitted():
    pair = Pair()
    pair.add()
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.drop_next()  # the first IKE_SA_INIT request is lost
    pair.advance(0.4)
    assert not pair.wire.queue
    pair.advance(0.2)  # 0.5 s after sending: the retransmit
    assert reply.finished == 0, reply.texts
    assert pair.west.lines_with("STATE_V2_IKE_SA_INIT_I: retransmission; will wait 1 seconds "
                                "for response")


def test_lost_ike_auth_response_is_answered_from_the_cache():
    pair = Pair()
    pair.add()
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.wire.deliver(pair.drop_next())  # IKE_SA_INIT request
    pair.wire.deliver(pair.drop_next())  # response
    pair.wire.deliver(pair.drop_next())  # IKE_AUTH request: east establishes
    lost = pair.drop_next()  # its response is lost
    assert len(pair.east.core.states) == 2
    pair.advance(0.5)  # west retransmits; east answers from its cache
    assert reply.finished == 0
    assert pair.east.lines_with("received duplicate message ID 1 request; retransmitting "
                                "response")
    assert pair.wire.sent[-1].data == lost.data  # byte-identical cached response
    assert len(pair.east.core.states) == 2  # processed once


def test_duplicated_request_is_processed_once():
    pair = Pair()
    pair.add()
    pair.east.impairs.apply("duplicate-inbound:2")  # east's second inbound: IKE_AUTH
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0
    assert pair.east.lines_with("IMPAIR: duplicate inbound message #2")
    assert len(pair.east.kernel.installed_sas()) == 2


def test_duplicate_ike_sa_init_request_gets_the_same_response():
    pair = Pair()
    pair.add()
    pair.west.whack({"action": "initiate", "name": "west-east", "async": True})
    request = pair.drop_next()
    pair.wire.deliver(request)
    first = pair.drop_next()
    pair.wire.deliver(request)
    second = pair.drop_next()
    assert first.data == second.data
    assert len(pair.east.core.states) == 1


def test_timeout_fails_the_negotiation_and_keyingtries_retries():
    pair = Pair()
    pair.add(connection(keyingtries=2))
    pair.east.impairs.apply("block-inbound:1")
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.advance(59.9)
    assert reply.finished is None
    sends = [d for d in pair.wire.sent if d.src == pair.west.endpoint]
    # 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5: back-off doubling from 0.5 s
    assert len(sends) == 7
    pair.advance(0.2)
    assert reply.finished == RC_NOTIFICATION
    assert pair.west.lines_with("STATE_V2_IKE_SA_INIT_I: 60 second timeout exceeded after 6 "
                                "retransmits.")
    assert pair.west.lines_with('"west-east" #2: initiating IKEv2 connection')
    assert pair.west.lines_with("starting keying attempt 2 of at most 2")
    pair.advance(61)
    assert pair.west.lines_with("giving up after 2 keying attempts")
    assert len(pair.west.core.states) == 0


def test_suppress_retransmits():
    pair = Pair()
    pair.add()
    pair.west.impairs.apply("suppress-retransmits")
    pair.west.impairs.apply("revival")
    pair.west.whack({"action": "initiate", "name": "west-east", "async": True})
    pair.drop_next()
    pair.advance(61)
    assert [d for d in pair.wire.sent if d.src == pair.west.endpoint][1:] == []
    assert pair.west.lines_with("IMPAIR: suppressing retransmit 1 of the IKE_SA_INIT request")
    assert len(pair.west.core.states) == 0


def test_drop_outbound_impair():
    pair = Pair()
    pair.add()
    pair.west.impairs.apply("drop-outbound:2")  # west's IKE_AUTH request
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished is None
    assert pair.west.lines_with("IMPAIR: drop outbound message #2 to 127.0.0.2:UDP/500")
    pair.advance(0.5)
    assert reply.finished == 0
