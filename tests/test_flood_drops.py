"""Floods that must be dropped cheaply, counted, and must change nothing established.

In-process pair with the fake clock: east has an established IKEv2 SA with west, then gets
floods of IKE_AUTH requests with wrong keys (right SPIs, forged SK payload), INFORMATIONAL
requests (with a Delete inside) on unknown SPIs and on the right SPIs with a forged ICV,
requests outside the message-ID window, and replays of every message of the real exchange.
Each is dropped without an answer (replays of an answered request get the cached response,
RFC 7296 §2.1), counted in ``--globalstatus``, logged at a bounded rate, and the tunnel is
untouched and still rekeys.
"""

from __future__ import annotations

import random

from pluto.engine import status
from pluto.engine.states import IkeSa, StateKind
from pluto.packet.ikev2 import DeletePayload, Message, SKPayload, emit_message
from pluto.packet.ikev2_types import ExchangeType, HeaderFlag
from tests.inprocess.harness import Pair

FLOOD = 400


def _established() -> tuple[Pair, IkeSa]:
    pair = Pair()
    assert pair.establish().finished == 0
    [ike] = [s for s in pair.east.core.states if isinstance(s, IkeSa)]
    assert ike.kind is StateKind.STATE_V2_ESTABLISHED_IKE_SA
    return pair, ike


def _snapshot(pair: Pair) -> list[tuple]:
    return [(s.serial, s.kind, getattr(s, "spi_i", None), getattr(s, "spi_r", None),
             getattr(s, "next_peer_request_id", None)) for s in pair.east.core.states]


def _forged(ike: IkeSa, exchange: int, message_id: int, rng: random.Random,
            spis: tuple[bytes, bytes] | None = None) -> bytes:
    ispi, rspi = spis or (ike.spi_i, ike.spi_r)
    body = rng.randbytes(rng.choice((64, 96, 160, 400)))  # IV, ciphertext, ICV of a wrong key
    return emit_message(Message(ispi, rspi, exchange, int(HeaderFlag.INITIATOR), message_id,
                                [SKPayload(inner_type=rng.choice((35, 36, 42)), body=body)]))


def _deliver(pair: Pair, data: bytes) -> list[bytes]:
    pair.wire.queue.clear()
    pair.east.core.packet_received(data, pair.east.endpoint, pair.west.endpoint)
    answers = [d.data for d in pair.wire.queue]
    pair.wire.queue.clear()
    return answers


def _counts(pair: Pair) -> dict[str, int]:
    lines = status.globalstatus(pair.east.core)
    return {k.rsplit(".", 1)[-1]: int(v) for k, v in (line.split("=", 1) for line in lines)
            if k.startswith("total.ike.dropped.")}


def _still_works(pair: Pair) -> None:
    for action in ("rekey-child", "rekey-ike"):
        reply = pair.west.whack({"action": action, "name": "west-east"})
        pair.pump()
        assert reply.finished == 0, reply.texts


def test_ike_auth_and_informational_with_wrong_keys_are_dropped_and_counted():
    pair, ike = _established()
    before = _snapshot(pair)
    rng = random.Random(12)
    expected = ike.next_peer_request_id
    for _ in range(FLOOD):
        exchange = rng.choice((ExchangeType.IKE_AUTH, ExchangeType.INFORMATIONAL,
                               ExchangeType.CREATE_CHILD_SA))
        assert _deliver(pair, _forged(ike, exchange, expected, rng)) == []
    assert _snapshot(pair) == before, "an unauthenticated message changed a state"
    assert _counts(pair)["integrity_failed"] == FLOOD
    notices = pair.east.lines_with("failed its integrity check")
    assert len(notices) == 3 * pair.east.core.logger.sink.limiter.burst  # per exchange type
    _still_works(pair)


def test_messages_on_unknown_spis_are_dropped_and_counted():
    pair, ike = _established()
    before = _snapshot(pair)
    rng = random.Random(3)
    for i in range(FLOOD):
        spis = (rng.randbytes(8), rng.randbytes(8)) if i % 2 else (ike.spi_i, rng.randbytes(8))
        data = _forged(ike, ExchangeType.INFORMATIONAL, rng.randrange(4), rng, spis)
        assert _deliver(pair, data) == []
    # A cleartext Delete for the real SPIs: no answer either (an answer would use up the
    # message ID of west's next request; found by this test).
    delete = emit_message(Message(ike.spi_i, ike.spi_r, ExchangeType.INFORMATIONAL,
                                  int(HeaderFlag.INITIATOR), ike.next_peer_request_id,
                                  [DeletePayload(protocol=1)]))
    assert _deliver(pair, delete) == []
    assert _snapshot(pair) == before
    counts = _counts(pair)
    assert counts["unknown_spi"] == FLOOD
    assert counts["unprotected"] == 1
    assert sum(counts.values()) == FLOOD + 1
    _still_works(pair)


def test_replays_and_requests_outside_the_window_change_nothing():
    pair, ike = _established()
    before = _snapshot(pair)
    sent_by_west = [d.data for d in pair.wire.sent if d.src == pair.west.endpoint]
    answers = []
    for _ in range(FLOOD // len(sent_by_west) + 1):
        for data in sent_by_west:
            answers += _deliver(pair, data)
    assert _snapshot(pair) == before, "a replay changed a state"
    # Each replayed request gets its cached response; nothing new is computed.
    cached = {d.data for d in pair.wire.sent if d.src == pair.east.endpoint}
    assert answers and set(answers) <= cached
    rng = random.Random(5)
    for message_id in (ike.next_peer_request_id + 1, ike.next_peer_request_id + 1000, 2**32 - 1):
        assert _deliver(pair, _forged(ike, ExchangeType.INFORMATIONAL, message_id, rng)) == []
    counts = _counts(pair)
    assert counts["outside_window"] == 3
    assert counts["duplicate_request"] >= FLOOD // 2
    assert _snapshot(pair) == before
    _still_works(pair)
