"""Bytes a peer should never send, built by hand here (struct, not our codec), and what the
responder answers (RFC 7296 §2.5, §2.21): INVALID_SYNTAX for a broken IKE_SA_INIT request,
INVALID_MAJOR_VERSION for major version 3, nothing for responses, runts and unknown SPIs.
"""

from __future__ import annotations

import ipaddress
import struct

import pytest

from tests.inprocess.harness import Pair

HEADER = struct.Struct("!8s8sBBBBII")
IKE_SA_INIT, IKE_AUTH, INFORMATIONAL = 34, 35, 37
FLAG_INITIATOR, FLAG_RESPONSE = 0x08, 0x20
N, SA, SK = 41, 33, 46
INVALID_SYNTAX, INVALID_MAJOR_VERSION, UNSUPPORTED_CRITICAL_PAYLOAD = 7, 5, 1
SPI_I = bytes.fromhex("0123456789abcdef")
STRANGER = (ipaddress.ip_address("127.0.0.1"), 500)


def message(exchange: int, payloads: bytes, *, first: int, version: int = 0x20,
            flags: int = FLAG_INITIATOR, message_id: int = 0, spi_i: bytes = SPI_I,
            spi_r: bytes = bytes(8)) -> bytes:
    return HEADER.pack(spi_i, spi_r, first, version, exchange, flags, message_id,
                       HEADER.size + len(payloads)) + payloads


def payload(next_payload: int, body: bytes, *, critical: bool = False,
            length: int | None = None) -> bytes:
    size = 4 + len(body) if length is None else length
    return struct.pack("!BBH", next_payload, 0x80 if critical else 0, size) + body


def _responder() -> Pair:
    pair = Pair()
    pair.add()
    return pair


def _answer(pair: Pair, data: bytes, source=STRANGER) -> bytes | None:
    pair.east.core.packet_received(data, pair.east.endpoint, source)
    assert len(pair.wire.queue) <= 1
    return pair.drop_next().data if pair.wire.queue else None


def _lone_notify(answer: bytes, request_message_id: int = 0) -> tuple[int, bytes]:
    spi_i, spi_r, first, version, exchange, flags, message_id, length = HEADER.unpack_from(
        answer)
    assert spi_i == SPI_I and version == 0x20 and length == len(answer)
    assert flags == FLAG_RESPONSE and message_id == request_message_id
    assert first == N
    next_payload, _critical, plength, protocol, spi_size, notify_type = struct.unpack_from(
        "!BBHBBH", answer, HEADER.size)
    assert (next_payload, protocol, spi_size) == (0, 0, 0)
    assert HEADER.size + plength == len(answer)
    return notify_type, answer[HEADER.size + 8:]


def test_ike_sa_init_with_a_payload_longer_than_the_message_is_invalid_syntax():
    pair = _responder()
    broken = message(IKE_SA_INIT, payload(0, bytes(20), length=0xFFFF), first=SA)
    answer = _answer(pair, broken)
    assert answer is not None
    assert _lone_notify(answer)[0] == INVALID_SYNTAX
    assert HEADER.unpack_from(answer)[2:5] == (N, 0x20, IKE_SA_INIT)
    assert len(pair.east.core.states) == 0
    assert pair.east.lines_with("dropping malformed message")
    assert pair.east.lines_with("responding with INVALID_SYNTAX")


def test_ike_sa_init_whose_length_field_lies_is_invalid_syntax():
    pair = _responder()
    good = message(IKE_SA_INIT, payload(0, bytes(4)), first=SA)
    lying = good[:24] + struct.pack("!I", len(good) + 40) + good[28:]
    assert _lone_notify(_answer(pair, lying))[0] == INVALID_SYNTAX


def test_ike_sa_init_without_sa_ke_or_nonce_is_invalid_syntax():
    """Well-formed, but the payloads an IKE_SA_INIT request needs are missing."""
    pair = _responder()
    empty = message(IKE_SA_INIT, b"", first=0)
    assert _lone_notify(_answer(pair, empty))[0] == INVALID_SYNTAX
    assert pair.east.lines_with("missing SA, KE or Ni; responding with INVALID_SYNTAX")
    assert len(pair.east.core.states) == 0


def test_major_version_3_is_answered_with_invalid_major_version():
    pair = _responder()
    future = message(IKE_SA_INIT, payload(0, bytes(4)), first=SA, version=0x30,
                     message_id=0)
    answer = _answer(pair, future)
    notify_type, _data = _lone_notify(answer)
    assert notify_type == INVALID_MAJOR_VERSION
    assert answer[17] == 0x20, "the answer speaks version 2.0"
    assert pair.east.lines_with("major version 3 is not 2")


def test_major_version_on_another_exchange_is_answered_too():
    pair = _responder()
    future = message(INFORMATIONAL, payload(0, bytes(4)), first=SK, version=0x30,
                     message_id=7, spi_r=bytes.fromhex("1111111111111111"))
    spi_i, spi_r, _first, _version, exchange, _flags, message_id, _length = \
        HEADER.unpack_from(_answer(pair, future))
    assert (spi_r, exchange, message_id) == (bytes.fromhex("1111111111111111"), INFORMATIONAL, 7)


def test_higher_minor_version_is_accepted():
    """§2.5: the minor version is ignored. west's real request, relabelled 2.1, is answered
    normally."""
    pair = _responder()
    pair.west.whack({"action": "initiate", "name": "west-east", "async": True})
    request = bytearray(pair.drop_next().data)
    request[17] = 0x21
    answer = _answer(pair, bytes(request), source=pair.west.endpoint)
    assert HEADER.unpack_from(answer)[2] == SA
    assert [s.kind.name for s in pair.east.core.states] == ["STATE_V2_IKE_SA_INIT_R"]


@pytest.mark.parametrize("data", [
    b"",
    b"\x00" * 27,  # shorter than a header
    message(IKE_SA_INIT, payload(0, bytes(20), length=0xFFFF), first=SA,
            flags=FLAG_RESPONSE),  # a broken response: never answered
    message(IKE_SA_INIT, b"", first=0, version=0x30, flags=FLAG_RESPONSE),
    message(IKE_AUTH, payload(0, bytes(20), length=3), first=SK,
            spi_r=bytes.fromhex("2222222222222222")),  # broken, not IKE_SA_INIT: dropped
], ids=["empty", "runt", "broken-response", "version-3-response", "broken-ike-auth"])
def test_no_answer(data):
    pair = _responder()
    assert _answer(pair, data) is None
    assert len(pair.east.core.states) == 0


@pytest.mark.parametrize("exchange", [IKE_AUTH, INFORMATIONAL, 36])
@pytest.mark.parametrize("flags", [FLAG_INITIATOR, FLAG_RESPONSE])
def test_unknown_spis_are_ignored(exchange, flags):
    pair = Pair()
    assert pair.establish().finished == 0
    before = [(s.serial, s.kind) for s in pair.east.core.states]
    encrypted = payload(0, bytes(16 + 16 + 16))  # IV, body, ICV: never looked at
    stranger = message(exchange, encrypted, first=SK, flags=flags, message_id=1,
                       spi_r=bytes.fromhex("3333333333333333"))
    assert _answer(pair, stranger, source=pair.west.endpoint) is None
    assert pair.east.lines_with(f"unknown IKE SPIs {SPI_I.hex()}/3333333333333333; "
                                "ignoring it")
    assert [(s.serial, s.kind) for s in pair.east.core.states] == before


def test_known_initiator_spi_with_a_wrong_responder_spi_is_ignored():
    pair = Pair()
    assert pair.establish().finished == 0
    ike = pair.east.core.states.get(1)
    stranger = message(INFORMATIONAL, payload(0, bytes(48)), first=SK, message_id=0,
                       spi_i=ike.spi_i, spi_r=bytes(7) + b"\x01")
    assert _answer(pair, stranger, source=pair.west.endpoint) is None
    assert pair.east.lines_with("unknown IKE SPIs")
    assert pair.east.core.states.get(1) is ike and ike.kind.established


def test_unknown_critical_payload_is_answered():
    pair = _responder()
    unknown = message(IKE_SA_INIT, payload(0, bytes(4), critical=True), first=200)
    notify_type, data = _lone_notify(_answer(pair, unknown))
    assert notify_type == UNSUPPORTED_CRITICAL_PAYLOAD and data == bytes([200])


def test_unknown_non_critical_payload_is_ignored():
    """§2.5: without the critical bit an unknown payload is skipped, the request answered.
    west's real request gets an unknown payload (type 200) appended to its chain."""
    pair = _responder()
    pair.west.whack({"action": "initiate", "name": "west-east", "async": True})
    request = bytearray(pair.drop_next().data)
    offset = HEADER.size
    while request[offset] != 0:  # walk to the last payload of the chain
        offset += struct.unpack_from("!H", request, offset + 2)[0]
    request[offset] = 200
    request += payload(0, b"\xaa\xbb")
    struct.pack_into("!I", request, 24, len(request))
    answer = _answer(pair, bytes(request), source=pair.west.endpoint)
    assert HEADER.unpack_from(answer)[2] == SA
    assert [s.kind.name for s in pair.east.core.states] == ["STATE_V2_IKE_SA_INIT_R"]


def test_unknown_critical_payload_inside_sk_is_answered_encrypted():
    """The same rule inside an established IKE SA: the answer is protected like any other."""
    from pluto.ikev2 import messages
    from pluto.packet.ikev2 import NotifyPayload
    from pluto.packet.ikev2_payloads import UnknownPayload

    pair = Pair()
    assert pair.establish().finished == 0
    ike = pair.west.core.states.get(1)
    answers = []
    odd = UnknownPayload(payload_type=200, body=b"\x01\x02", critical=True)
    messages.send_request(pair.west.core, ike, INFORMATIONAL, [odd], encrypted=True,
                          on_response=lambda core, ike, msg, payloads, data:
                          answers.append(payloads))
    pair.pump()
    assert len(answers) == 1
    [notify] = answers[0]
    assert isinstance(notify, NotifyPayload)
    assert (notify.notify_type, notify.data) == (UNSUPPORTED_CRITICAL_PAYLOAD, bytes([200]))
    assert pair.east.lines_with("unsupported critical payload type 200")
    assert pair.east.core.states.get(1).kind.established
