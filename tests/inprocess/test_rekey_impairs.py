"""drip and replay impairs around liveness and rekey exchanges: a held-back request arrives
after its retransmission, a replayed old request is recognised and not processed again."""

from __future__ import annotations

from tests.inprocess.harness import Pair


def test_dripped_request_arrives_after_its_retransmit_and_is_a_duplicate():
    pair = Pair()
    pair.establish()
    pair.east.impairs.apply("drip-inbound:3")
    pair.west.whack({"action": "impair", "arguments": [["--impair", "liveness:1"]]})
    pair.pump()
    assert pair.east.lines_with("IMPAIR: drip inbound message #3 from 127.0.0.1:UDP/500: "
                                "holding it back")
    assert pair.west.core.states.get(1).outstanding is not None
    pair.advance(0.5)  # west retransmits; east answers it, then the held copy comes in
    assert pair.east.lines_with("IMPAIR: releasing held inbound message #3")
    assert pair.east.lines_with('"west-east" #1: received duplicate message ID 2 request; '
                                "retransmitting response")
    assert pair.west.core.states.get(1).outstanding is None
    assert pair.east.core.states.get(1).next_peer_request_id == 3


def test_replayed_rekey_request_does_not_make_another_child():
    pair = Pair()
    pair.establish()
    pair.east.impairs.apply("replay-inbound:3")  # 3: west's CREATE_CHILD_SA request
    reply = pair.west.whack({"action": "rekey-child", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    assert pair.east.lines_with("IMPAIR: replaying inbound message #3")
    assert [s.serial for s in pair.east.core.states] == [1, 3]
    assert [s.serial for s in pair.west.core.states] == [1, 3]
    assert len(pair.east.kernel.installed_sas()) == 2


def test_replayed_outbound_rekey_request_is_harmless():
    pair = Pair()
    pair.establish()
    pair.west.impairs.apply("replay-outbound:3")  # the rekey request, sent again later
    reply = pair.west.whack({"action": "rekey-child", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    assert pair.west.lines_with("IMPAIR: replaying outbound message #3")
    assert [s.serial for s in pair.east.core.states] == [1, 3]
    assert len(pair.west.kernel.installed_sas()) == len(pair.east.kernel.installed_sas()) == 2
