"""INFORMATIONAL: Delete from either side, terminate, delete, shutdown, liveness."""

from __future__ import annotations

from pluto.ikev2 import informational
from pluto.packet.ikev2 import DeletePayload
from tests.inprocess.harness import Pair


def _gone(pair: Pair) -> None:
    for host in (pair.west, pair.east):
        assert len(host.core.states) == 0, [s.kind.name for s in host.core.states]
        assert host.kernel.installed_sas() == []
        assert host.kernel.installed_policies() == []


def test_terminate_from_initiator_deletes_both_sides():
    pair = Pair()
    pair.establish()
    reply = pair.west.whack({"action": "terminate", "name": "west-east"})
    assert reply.finished == 0
    pair.pump()
    _gone(pair)
    assert pair.west.lines_with('"west-east" #1: deleting state (STATE_V2_ESTABLISHED_IKE_SA) '
                                "aged ")
    assert pair.west.lines_with('"west-east" #2: ESP traffic information: in=0B out=0B')
    assert pair.east.lines_with("received Delete SA payload: deleting IKE SA and its Child SAs")


def test_terminate_from_responder_deletes_both_sides():
    pair = Pair()
    pair.establish()
    pair.west.impairs.apply("revival")
    pair.east.whack({"action": "terminate", "name": "west-east"})
    pair.pump()
    _gone(pair)


def test_child_delete_is_answered_with_the_peer_spi():
    pair = Pair()
    pair.establish()
    child = pair.west.core.states.get(2)
    informational.delete_sa(pair.west.core, child)
    request = pair.wire.queue[0]
    pair.pump()
    assert [s.kind.name for s in pair.west.core.states] == ["STATE_V2_ESTABLISHED_IKE_SA"]
    assert [s.kind.name for s in pair.east.core.states] == ["STATE_V2_ESTABLISHED_IKE_SA"]
    assert pair.west.kernel.installed_sas() == [] and pair.east.kernel.installed_sas() == []
    # the responder's answer named its own inbound SPI (= west's outbound)
    east_ike = pair.east.core.states.get(1)
    answer = pair.wire.sent[-1]
    assert answer.src == pair.east.endpoint and request.src == pair.west.endpoint
    west_ike = pair.west.core.states.get(1)
    from pluto.packet.ikev2 import parse_message
    payloads = west_ike.protector.unprotect(answer.data, parse_message(answer.data))
    assert payloads == [DeletePayload(protocol=3, spis=[child.outbound_spi.to_bytes(4, "big")])]
    assert east_ike.next_peer_request_id == 3


def test_delete_connection_and_deletestate():
    pair = Pair()
    pair.establish()
    reply = pair.west.whack({"action": "deletestate", "serial": 2})
    pair.pump()
    assert reply.finished == 0
    assert [s.serial for s in pair.east.core.states] == [1]
    pair.west.whack({"action": "delete", "name": "west-east"})
    pair.pump()
    _gone(pair)
    assert pair.west.core.connections.get("west-east") is None


def test_shutdown_tells_the_peer():
    pair = Pair()
    pair.establish()
    pair.west.whack({"action": "shutdown"})
    pair.pump()
    _gone(pair)


def test_send_no_delete_impair():
    pair = Pair()
    pair.establish()
    pair.west.impairs.apply("send-no-delete")
    pair.west.whack({"action": "terminate", "name": "west-east"})
    assert not pair.wire.queue
    assert pair.west.lines_with("IMPAIR: not sending a Delete payload")
    assert len(pair.east.core.states) == 2


def test_liveness_probe_is_answered():
    pair = Pair()
    pair.establish()
    ike = pair.west.core.states.get(1)
    informational.send_liveness(pair.west.core, ike)
    assert pair.pump() == 2
    assert ike.outstanding is None and ike.next_request_id == 3


def test_liveness_failure_deletes_and_revives():
    pair = Pair()
    pair.establish()
    pair.east.impairs.apply("block-inbound:3")
    pair.west.core.states.get(1)
    reply = pair.west.whack({"action": "impair", "arguments": [["--impair", "liveness:1"]]})
    assert reply.finished == 0
    pair.west.impairs.apply("revival")
    pair.advance(61)
    assert pair.west.lines_with("peer is not responding; deleting IKE SA and its Child SAs")
    assert pair.west.lines_with("IMPAIR: revival: skipping the revival")
    assert len(pair.west.core.states) == 0
