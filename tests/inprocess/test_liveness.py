"""Liveness checks (DPD, RFC 7296 §2.4): periodic empty INFORMATIONAL probes with dpd_delay,
the peer declared dead after dpd_timeout, revival, and the liveness action impair."""

from __future__ import annotations

from pluto.packet.ikev2 import parse_message
from pluto.packet.ikev2_types import ExchangeType
from tests.inprocess.harness import Pair


def _probes(pair: Pair, start: int = 0) -> list[tuple[str, bool]]:
    out = []
    for datagram in pair.wire.sent[start:]:
        msg = parse_message(datagram.data)
        if msg.exchange == ExchangeType.INFORMATIONAL:
            out.append(("west" if datagram.src == pair.west.endpoint else "east",
                        msg.is_response))
    return out


def _dpd_pair(delay: float = 10, timeout: float = 25) -> Pair:
    pair = Pair()
    pair.west.core.options.dpd_delay = delay
    pair.west.core.options.dpd_timeout = timeout
    assert pair.establish().finished == 0
    return pair


def test_probes_every_dpd_delay_and_answers_keep_the_sa():
    pair = _dpd_pair()
    start = len(pair.wire.sent)
    pair.advance(9)
    assert _probes(pair, start) == []
    pair.advance(1)
    assert _probes(pair, start) == [("west", False), ("east", True)]
    pair.advance(30)
    assert len(_probes(pair, start)) == 8  # at 10, 20, 30 and 40 s
    assert [s.serial for s in pair.west.core.states] == [1, 2]
    assert pair.west.core.states.get(1).next_request_id == 6  # AUTH was 1, probes 2..5


def test_no_probes_without_dpd_delay():
    pair = Pair()
    pair.establish()
    start = len(pair.wire.sent)
    pair.advance(600)
    assert _probes(pair, start) == []


def test_dead_peer_is_detected_after_dpd_timeout_and_revived():
    pair = _dpd_pair()
    pair.east.impairs.apply("block-inbound:3")  # east hears nothing after IKE_AUTH
    pair.advance(10 + 24)
    assert [s.serial for s in pair.west.core.states] == [1, 2]
    pair.advance(1)
    assert pair.west.lines_with('"west-east" #1: STATE_V2_ESTABLISHED_IKE_SA: 25 second '
                                "timeout exceeded after")
    assert pair.west.lines_with("peer is not responding; deleting IKE SA and its Child SAs")
    assert pair.west.lines_with('"west-east" #1: reviving connection')
    assert pair.west.kernel.installed_sas() == []
    assert pair.west.core.states.get(3).kind.name == "STATE_V2_IKE_SA_INIT_I"


def test_dead_peer_without_revival_leaves_nothing():
    pair = _dpd_pair(delay=5, timeout=12)
    pair.west.impairs.apply("revival")
    pair.east.impairs.apply("block-inbound:3")
    pair.advance(5 + 12)
    assert len(pair.west.core.states) == 0
    assert pair.west.kernel.installed_sas() == [] and pair.west.kernel.installed_policies() == []


def test_liveness_impair_on_a_child_probes_its_ike_sa():
    pair = Pair()
    pair.establish()
    start = len(pair.wire.sent)
    reply = pair.west.whack({"action": "impair", "arguments": [["--impair", "liveness:2"]]})
    assert reply.finished == 0, reply.texts
    pair.pump()
    assert pair.west.lines_with("IMPAIR: liveness #2")
    assert _probes(pair, start) == [("west", False), ("east", True)]


def test_rekeyed_ike_sa_keeps_probing():
    pair = _dpd_pair()
    pair.west.whack({"action": "rekey-ike", "name": "west-east", "async": True})
    pair.pump()
    start = len(pair.wire.sent)
    pair.advance(10)
    assert _probes(pair, start) == [("west", False), ("east", True)]
    new = pair.west.core.states.get(3)
    assert new.kind.name == "STATE_V2_ESTABLISHED_IKE_SA" and new.next_request_id == 1


def test_a_rekey_waits_for_the_outstanding_probe():
    pair = Pair()
    pair.establish()
    pair.west.whack({"action": "impair", "arguments": [["--impair", "liveness:1"]]})
    reply = pair.west.whack({"action": "rekey-child", "name": "west-east"})
    assert len(pair.wire.queue) == 1  # the window is one request: the rekey is queued
    assert pair.west.core.states.get(3).kind.name == "STATE_V2_REKEY_CHILD_I1"
    pair.pump()
    assert reply.finished == 0, reply.texts
    assert [s.serial for s in pair.east.core.states] == [1, 3]
