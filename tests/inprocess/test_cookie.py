"""Anti-DDoS COOKIEs (RFC 7296 §2.6) with ``--force-busy`` on the responder.

The responder answers an IKE_SA_INIT request without a valid cookie with a lone N(COOKIE) and
keeps no state; the initiator resends the same request with the cookie as its first payload and
the exchange completes. A wrong cookie gets a fresh N(COOKIE), never an IKE SA.
"""

from __future__ import annotations

import struct

from pluto.packet.ikev2 import KEPayload, NoncePayload, NotifyPayload, SAPayload, parse_message
from pluto.packet.ikev2_types import ExchangeType, NotifyType
from tests.inprocess.harness import Pair

N_COOKIE = 16390  # RFC 7296 §3.10.1


def _busy_pair() -> Pair:
    pair = Pair()
    pair.east.core.options.force_busy = True
    pair.add()
    return pair


def _cookie_of(datagram: bytes) -> bytes:
    """The COOKIE notify data, read with struct from the raw bytes (not with our codec)."""
    ispi, rspi, first, version, exchange, flags, message_id, length = struct.unpack_from(
        "!8s8sBBBBII", datagram)
    assert (first, exchange, flags & 0x20) == (41, 34, 0x20), "a lone Notify response"
    _next, _critical, plength, protocol, spi_size, notify_type = struct.unpack_from(
        "!BBHBBH", datagram, 28)
    assert (_next, protocol, spi_size, notify_type) == (0, 0, 0, N_COOKIE)
    assert length == len(datagram) == 28 + plength
    return datagram[28 + 8:28 + plength]


def test_busy_responder_makes_the_initiator_retry_with_the_cookie():
    pair = _busy_pair()
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    first = pair.drop_next()
    pair.wire.deliver(first)
    answer = pair.drop_next()
    cookie = _cookie_of(answer.data)
    assert len(cookie) == 36  # version (4) + SHA-256, pluto/ikev2/cookie.py
    assert len(pair.east.core.states) == 0, "a busy responder keeps no state"
    assert pair.east.lines_with("busy: responding to IKE_SA_INIT request with COOKIE")
    pair.wire.deliver(answer)
    retry = pair.wire.queue[0]
    original, again = parse_message(first.data), parse_message(retry.data)
    # §2.6: the cookie comes first, everything else is unchanged (same SPI, Ni and KE).
    assert isinstance(again.payloads[0], NotifyPayload)
    assert again.payloads[0].notify_type == NotifyType.COOKIE
    assert again.payloads[0].data == cookie
    assert again.payloads[1:] == original.payloads
    assert (again.ispi, again.message_id) == (original.ispi, 0)
    pair.pump()
    assert reply.finished == 0, reply.texts
    assert any("received anti-DDOS COOKIE response, resending IKE_SA_INIT request with COOKIE"
               in t for t in reply.texts)
    assert [s.kind.name for s in pair.east.core.states] == [
        "STATE_V2_ESTABLISHED_IKE_SA", "STATE_V2_ESTABLISHED_CHILD_SA"]
    assert len(pair.east.kernel.installed_sas()) == 2


def test_cookie_and_invalid_ke_together():
    """The busy responder wants a cookie and another group: both retries keep Ni, so the
    cookie stays valid across the group change."""
    pair = Pair()
    pair.east.core.options.force_busy = True
    from tests.inprocess.harness import connection

    pair.add(connection(ike="aes_gcm256-sha2;dh19+dh20"), connection(ike="aes_gcm256-sha2;dh20"))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    sent = [parse_message(d.data) for d in pair.wire.sent if d.src == pair.west.endpoint
            and parse_message(d.data).exchange == ExchangeType.IKE_SA_INIT]
    assert len(sent) == 3  # no cookie; cookie + DH19; cookie + DH20
    nonces = {m.first(NoncePayload).data for m in sent}
    assert len(nonces) == 1
    assert [m.first(KEPayload).dh_group for m in sent] == [19, 19, 20]


def _request_with_cookie(pair: Pair, cookie: bytes) -> bytes:
    """west's IKE_SA_INIT request, re-emitted by hand with ``cookie`` as the first payload."""
    pair.west.whack({"action": "initiate", "name": "west-east", "async": True})
    data = pair.drop_next().data
    payloads = data[28:]
    notify_body = struct.pack("!BBH", 0, 0, N_COOKIE) + cookie
    first_payload = data[16]
    header = bytearray(data[:28])
    header[16] = 41  # the Notify comes first now
    notify = struct.pack("!BBH", first_payload, 0, 4 + len(notify_body)) + notify_body
    message = bytes(header) + notify + payloads
    return message[:24] + struct.pack("!I", len(message)) + message[28:]


def test_wrong_cookie_is_refused():
    pair = _busy_pair()
    forged = _request_with_cookie(pair, bytes(4) + b"\x55" * 32)
    parsed = parse_message(forged)  # the hand-made request is well formed
    assert parsed.payloads[0].notify_type == NotifyType.COOKIE and parsed.first(SAPayload)
    pair.east.core.packet_received(forged, pair.east.endpoint, pair.west.endpoint)
    answer = pair.drop_next().data
    fresh = _cookie_of(answer)
    assert fresh != b"\x00" * 4 + b"\x55" * 32
    assert len(pair.east.core.states) == 0
    assert not pair.wire.queue


def test_cookie_is_bound_to_the_initiator_spi():
    pair = _busy_pair()
    pair.west.whack({"action": "initiate", "name": "west-east", "async": True})
    pair.wire.deliver(pair.drop_next())
    cookie = _cookie_of(pair.drop_next().data)
    request = _request_with_cookie(_busy_pair(), cookie)  # same seeds: the same request
    # ... accepted as it is (the control) ...
    accepted = _busy_pair()
    accepted.east.core._cookies = pair.east.core._cookies
    accepted.east.core.packet_received(request, accepted.east.endpoint, accepted.west.endpoint)
    assert parse_message(accepted.drop_next().data).first(SAPayload) is not None
    # ... and refused with another SPIi: the hash covers it.
    other_spi = bytes(8 - 1) + b"\x01" + request[8:]
    pair.east.core.packet_received(other_spi, pair.east.endpoint, pair.west.endpoint)
    assert _cookie_of(pair.drop_next().data) != cookie
    assert len(pair.east.core.states) == 0


def test_initiator_gives_up_on_a_responder_that_never_accepts_its_cookie():
    pair = _busy_pair()
    pair.west.impairs.apply("revival")
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    for _ in range(10):
        if not pair.wire.queue:
            break
        datagram = pair.drop_next()
        if datagram.dst == pair.east.endpoint:
            # east forgets its secrets every time: each cookie it made is now unknown
            pair.east.core._cookies = None
        pair.wire.deliver(datagram)
    assert reply.finished is not None and reply.finished != 0
    assert "giving up after 3 anti-DDOS COOKIE responses" in reply.texts[-1]
    assert len(pair.west.core.states) == 0
