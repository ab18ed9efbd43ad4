"""IKE_SA_INIT floods from many addresses and ports, in-process with the fake clock.

The responder (east) has a road-warrior template, so every flood datagram finds a connection
and costs it a DH computation and a half-open IKE SA. Checked: COOKIEs switch on by
themselves at the half-open threshold and off again when the half-open SAs time out; the
limits per peer and in total hold (no state, no answer beyond them); memory stays bounded; a
real initiator still gets through (it answers the COOKIE); an established tunnel keeps
rekeying during the flood; drop notices in the log are rate-limited with a summary.
"""

from __future__ import annotations

import ipaddress
import struct

from pluto.engine import status
from pluto.engine.states import StateKind
from pluto.packet.ikev2 import NotifyPayload, emit_message, parse_message
from pluto.packet.ikev2_types import NotifyType
from tests.inprocess.harness import PSK, Host, Pair, connection

N_COOKIE = 16390
RESPONDER_LIFETIME = 60.0  # a half-open responder SA is discarded after the retransmit timeout


def _flood_pair(**east_options) -> tuple[Pair, bytes]:
    """west-east established on loopback, a %any template on east, and one IKE_SA_INIT
    request (west's, never delivered) to replay from other addresses."""
    pair = Pair(east_options=east_options)
    assert pair.establish().finished == 0
    reply = pair.east.whack({"action": "add", "connection": connection(
        "road", west="%any", east=str(pair.east.address), west_client=None)})
    assert reply.finished == 0, reply.lines
    # Another west's first message: an IKE_SA_INIT request never delivered.
    other = Pair()
    other.add()
    other.west.whack({"action": "initiate", "name": "west-east", "async": True})
    request = other.drop_next().data
    assert request[18] == 34 and not request[19] & 0x20  # IKE_SA_INIT, a request
    return pair, request


def _sources(count: int, per_address: int = 1):
    """(address, port) pairs in the documentation ranges, ``per_address`` ports each."""
    base = int(ipaddress.ip_address("198.51.100.1"))
    for i in range(count):
        address = ipaddress.ip_address(base + (i // per_address) % 250)
        if i // per_address >= 250:
            address = ipaddress.ip_address(int(ipaddress.ip_address("203.0.113.1"))
                                           + (i // per_address - 250) % 250)
        yield address, 20000 + i % per_address


def _send_init(pair: Pair, request: bytes, source, index: int) -> list[bytes]:
    """One flood datagram (a fresh initiator SPI); what east answered."""
    data = struct.pack("!Q", 0xF100D000_00000000 + index) + request[8:]
    pair.wire.queue.clear()
    pair.east.core.packet_received(data, pair.east.endpoint, source)
    answers = [d.data for d in pair.wire.queue if d.dst == source]
    pair.wire.queue.clear()
    return answers


def _kind(answer: bytes) -> str:
    msg = parse_message(answer)
    first = msg.payloads[0]
    if isinstance(first, NotifyPayload) and first.notify_type == NotifyType.COOKIE:
        return "cookie"
    return "init-response" if len(msg.payloads) > 2 else f"notify-{first.notify_type}"


def _global(pair: Pair) -> dict[str, str]:
    return dict(line.split("=", 1) for line in status.globalstatus(pair.east.core))


def _half_open(pair: Pair) -> int:
    return sum(1 for s in pair.east.core.states if s.kind is StateKind.STATE_V2_IKE_SA_INIT_R)


def test_cookies_switch_on_at_the_threshold_and_off_when_half_open_sas_expire():
    pair, request = _flood_pair(ddos_ike_threshold=20, max_halfopen_ike_per_peer=0)
    assert _global(pair)["current.ddos.cookies_required"] == "no"
    kinds = [_kind(a) for i, src in enumerate(_sources(60))
             for a in _send_init(pair, request, src, i)]
    assert kinds == ["init-response"] * 20 + ["cookie"] * 40
    assert _half_open(pair) == 20
    glob = _global(pair)
    assert glob["current.ddos.cookies_required"] == "yes"
    assert glob["current.states.ike.halfopen"] == "20"
    assert glob["total.ike.cookies_sent"] == "40"
    assert glob["total.ike.dropped.cookie_required"] == "40"
    assert "State Information: DDoS cookies REQUIRED, Accepting new IKE connections" in (
        status.status(pair.east.core))
    # The half-open SAs time out; the responder calms down by itself.
    pair.advance(RESPONDER_LIFETIME + 1)
    assert _half_open(pair) == 0
    assert _global(pair)["current.ddos.cookies_required"] == "no"
    assert [_kind(a) for a in _send_init(pair, request, next(_sources(1)), 999)] == [
        "init-response"]


def test_a_real_initiator_answers_the_cookie_and_gets_through_during_a_flood():
    pair, request = _flood_pair(ddos_ike_threshold=10, max_halfopen_ike_per_peer=0)
    for i, src in enumerate(_sources(15)):
        _send_init(pair, request, src, i)
    assert _global(pair)["current.ddos.cookies_required"] == "yes"
    # A new initiator on the same wire (west already has an IKE SA with east).
    north = Host("north", "127.0.0.3", pair.wire, pair.clock, f'@west @east : PSK "{PSK}"\n')
    late = connection("late", west="127.0.0.3", east=str(pair.east.address),
                      west_client="198.18.5.0/24", east_client="198.18.6.0/24")
    for host in (north, pair.east):
        assert host.whack({"action": "add", "connection": late}).finished == 0
    reply = north.whack({"action": "initiate", "name": "late"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    assert any("COOKIE" in text for text in reply.texts), reply.texts
    assert _global(pair)["total.ike.cookies_sent"] == "6"


def test_cookie_from_the_flood_is_accepted_once_returned():
    pair, request = _flood_pair(ddos_ike_threshold=5, max_halfopen_ike_per_peer=0)
    for i, src in enumerate(_sources(5)):
        _send_init(pair, request, src, i)
    source = (ipaddress.ip_address("203.0.113.77"), 4242)
    [answer] = _send_init(pair, request, source, 100)
    cookie = parse_message(answer).payloads[0].data
    msg = parse_message(struct.pack("!Q", 0xF100D000_00000000 + 100) + request[8:])
    msg.payloads.insert(0, NotifyPayload(notify_type=NotifyType.COOKIE, data=cookie))
    pair.east.core.packet_received(emit_message(msg), pair.east.endpoint, source)
    [response] = [d.data for d in pair.wire.queue if d.dst == source]
    assert _kind(response) == "init-response"
    # A wrong cookie gets a new COOKIE request, never a state.
    msg.payloads[0] = NotifyPayload(notify_type=NotifyType.COOKIE, data=bytes(len(cookie)))
    before = _half_open(pair)
    pair.wire.queue.clear()
    other = (ipaddress.ip_address("203.0.113.78"), 4242)
    pair.east.core.packet_received(emit_message(msg), pair.east.endpoint, other)
    assert [_kind(d.data) for d in pair.wire.queue] == ["cookie"]
    assert _half_open(pair) == before


def test_half_open_sas_are_limited_per_peer():
    pair, request = _flood_pair(max_halfopen_ike_per_peer=5)
    answers = [len(_send_init(pair, request, src, i))
               for i, src in enumerate(_sources(12, per_address=12))]
    assert answers == [1] * 5 + [0] * 7, "beyond the limit: no answer at all"
    assert _global(pair)["total.ike.dropped.half_open_peer_limit"] == "7"
    # Another address is not affected; the first one is again once its SAs have gone.
    assert len(_send_init(pair, request, (ipaddress.ip_address("203.0.113.9"), 500), 50)) == 1
    pair.advance(RESPONDER_LIFETIME + 1)
    assert len(_send_init(pair, request, next(_sources(1)), 51)) == 1


def test_half_open_sas_are_limited_in_total_and_memory_stays_bounded():
    pair, request = _flood_pair(max_halfopen_ike=30, ddos_ike_threshold=1000,
                                max_halfopen_ike_per_peer=0)
    established = len(pair.east.core.states)
    answered = sum(len(_send_init(pair, request, src, i))
                   for i, src in enumerate(_sources(400, per_address=2)))
    assert answered == 30
    assert _half_open(pair) == 30
    assert len(pair.east.core.states) == established + 30
    guard = pair.east.core.ddos
    assert len(guard._half_open) == 30 and len(guard._per_peer) <= 30
    assert _global(pair)["total.ike.dropped.half_open_total_limit"] == "370"


def test_established_tunnel_keeps_rekeying_during_a_flood():
    pair, request = _flood_pair(ddos_ike_threshold=10, max_halfopen_ike=40,
                                max_halfopen_ike_per_peer=0)
    for i, src in enumerate(_sources(200)):
        _send_init(pair, request, src, i)
    assert _global(pair)["current.ddos.cookies_required"] == "yes"
    for action in ("rekey-child", "rekey-ike"):
        reply = pair.west.whack({"action": action, "name": "west-east"})
        pair.pump()
        assert reply.finished == 0, reply.texts
    kinds = {s.kind for s in pair.east.core.states if s.conn.name == "west-east"}
    assert StateKind.STATE_V2_ESTABLISHED_IKE_SA in kinds
    assert StateKind.STATE_V2_ESTABLISHED_CHILD_SA in kinds


def test_drop_notices_are_rate_limited_with_a_summary():
    pair, request = _flood_pair(max_halfopen_ike_per_peer=1)
    # 2,000 datagrams refused for the per-peer limit, 2,000 malformed ones.
    for i, src in enumerate(_sources(2000, per_address=2000)):
        _send_init(pair, request, src, i)
    for i, src in enumerate(_sources(2000)):
        pair.east.core.packet_received(request[:40 + i % 50], pair.east.endpoint, src)
    pair.wire.queue.clear()  # the INVALID_SYNTAX answers go nowhere
    limited = pair.east.lines_with("half-open IKE SAs from this address")
    malformed = pair.east.lines_with("dropping malformed message")
    limiter = pair.east.core.logger.sink.limiter
    assert len(limited) == limiter.burst and len(malformed) <= 2 * limiter.burst
    assert len("".join(pair.east.log)) < 100_000, "a flood must not grow the log unbounded"
    assert _global(pair)["total.log.suppressed"] == str(limiter.suppressed_total)
    assert limiter.suppressed_total >= 4000 - 3 * limiter.burst
    # The window ends: the next notice of the kind comes with the count of what was held.
    pair.advance(limiter.window + 1)
    for index in (5000, 5001):  # the old half-open SA has gone: one admitted, one refused
        _send_init(pair, request, next(_sources(1)), index)
    [summary] = pair.east.lines_with("messages suppressed")
    assert summary.startswith(f"{2000 - 1 - limiter.burst} messages suppressed")
    assert "half-open IKE SAs from this address" in summary
