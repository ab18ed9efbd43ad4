"""The IKEv2 codec: hand-written RFC 7296 layouts, byte-exact round trips, malformed input,
emit-side validation and the parsing/emitting debug trace."""

from __future__ import annotations

import ipaddress
import struct

import pytest
from ikev2_samples import all_inner_chains, all_messages

from pluto.log import CollectingLogger, DebugFlags
from pluto.packet import wire
from pluto.packet.errors import MalformedMessage
from pluto.packet.ikev2 import (
    AuthPayload,
    CertPayload,
    CertReqPayload,
    CfgAttribute,
    CPPayload,
    DeletePayload,
    EAPPayload,
    IDiPayload,
    KEPayload,
    Message,
    NoncePayload,
    NotifyPayload,
    Proposal,
    RawTrafficSelector,
    SAPayload,
    SKFPayload,
    SKPayload,
    TrafficSelector,
    Transform,
    TransformAttribute,
    TSiPayload,
    UnknownPayload,
    VendorIDPayload,
    emit_message,
    emit_payloads,
    parse_message,
    parse_payloads,
)
from pluto.packet.ikev2_types import NotifyType, PayloadType

INVALID_SYNTAX = 7
INVALID_MAJOR_VERSION = 5
UNSUPPORTED_CRITICAL_PAYLOAD = 1

# --- hand-written wire bytes (RFC 7296 figures 1-23), independent of the codec ------------


def h(text: str) -> bytes:
    """Hex with spaces, newlines and '|' separators allowed."""
    return bytes.fromhex(text.replace("|", " "))


def payload(next_type: int, body: bytes, flags: int = 0, length: int | None = None) -> bytes:
    """A generic payload header (figure 5) in front of ``body``."""
    return struct.pack("!BBH", next_type, flags, 4 + len(body) if length is None else length) \
        + body


def message(first: int, chain: bytes, exchange: int = 34, flags: int = 0x08, msgid: int = 0,
            version: int = 0x20, length: int | None = None) -> bytes:
    """An IKE header (figure 1) in front of ``chain``."""
    total = 28 + len(chain) if length is None else length
    return (h("00 11 22 33 44 55 66 77") + bytes(8)
            + struct.pack("!BBBBII", first, version, exchange, flags, msgid, total) + chain)


SA_INIT_HAND = h("""
    00 11 22 33 44 55 66 77  00 00 00 00 00 00 00 00 | 21 20 22 08 | 00 00 00 00 | 00 00 00 8c
    22 00 00 30
       00 00 00 2c | 01 01 00 04
          03 00 00 0c | 01 00 00 0c | 80 0e 00 80
          03 00 00 08 | 02 00 00 05
          03 00 00 08 | 03 00 00 0c
          00 00 00 08 | 04 00 00 0e
    28 00 00 10 | 00 0e 00 00 | aa aa aa aa aa aa aa aa
    29 00 00 14 | bb bb bb bb bb bb bb bb bb bb bb bb bb bb bb bb
    00 00 00 1c | 00 00 40 04 | cc cc cc cc cc cc cc cc cc cc cc cc cc cc cc cc cc cc cc cc
""")


def test_hand_written_ike_sa_init_fields():
    msg = parse_message(SA_INIT_HAND)
    assert msg.ispi == h("00 11 22 33 44 55 66 77") and msg.rspi == bytes(8)
    assert (msg.major, msg.minor, msg.exchange, msg.flags, msg.message_id) == (2, 0, 34, 8, 0)
    assert msg.is_initiator and not msg.is_response
    sa, ke, nonce, notify = msg.payloads
    assert isinstance(sa, SAPayload) and len(sa.proposals) == 1
    prop = sa.proposals[0]
    assert (prop.number, prop.protocol, prop.spi) == (1, 1, b"")
    assert [(t.transform_type, t.transform_id) for t in prop.transforms] == [
        (1, 12), (2, 5), (3, 12), (4, 14)]
    assert prop.transforms[0].attributes == [TransformAttribute(14, 128)]
    assert prop.transforms[0].key_length == 128
    assert isinstance(ke, KEPayload) and (ke.dh_group, ke.data) == (14, b"\xaa" * 8)
    assert isinstance(nonce, NoncePayload) and nonce.data == b"\xbb" * 16
    assert isinstance(notify, NotifyPayload)
    assert (notify.protocol, notify.spi, notify.notify_type) == (0, b"", 16388)
    assert notify.data == b"\xcc" * 20


def test_hand_written_ike_sa_init_is_what_we_emit():
    msg = Message(h("00 11 22 33 44 55 66 77"), bytes(8), 34, 0x08, 0, [
        SAPayload([Proposal(1, 1, [
            Transform(1, 12, [TransformAttribute(14, 128)]), Transform(2, 5),
            Transform(3, 12), Transform(4, 14)])]),
        KEPayload(14, b"\xaa" * 8),
        NoncePayload(b"\xbb" * 16),
        NotifyPayload(16388, b"\xcc" * 20),
    ])
    assert emit_message(msg) == SA_INIT_HAND


INNER_HAND = h("""
    29 00 00 10 | 03 04 00 02 | 11 22 33 44 | 55 66 77 88
    2c 00 00 0c | 03 04 40 09 | c0 01 02 03
    2f 00 00 40 | 02 00 00 00
       07 06 00 10 | 00 00 ff ff | c6 12 01 00 | c6 12 01 ff
       08 00 00 28 | 01 bb 01 bb | 20 01 0d b8 00 00 00 01 00 00 00 00 00 00 00 00
                                 | 20 01 0d b8 00 00 00 01 ff ff ff ff ff ff ff ff
    23 00 00 14 | 01 00 00 00 | 00 01 00 00 | 00 03 00 04 c6 12 03 01
    27 00 00 0c | 02 00 00 00 | 77 65 73 74
    25 00 00 10 | 02 00 00 00 | dd dd dd dd dd dd dd dd
    26 00 00 0a | 04 | ee ee ee ee ee
    2b 00 00 19 | 04 | ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab
    30 00 00 06 | 4f 45
    00 00 00 09 | 01 07 00 05 01
""")


def test_hand_written_inner_payloads_fields():
    d, n, tsi, cp, idi, auth, cert, certreq, v, eap = parse_payloads(INNER_HAND, 42)
    assert isinstance(d, DeletePayload)
    assert (d.protocol, d.spis) == (3, [h("11223344"), h("55667788")])
    assert isinstance(n, NotifyPayload)
    assert (n.protocol, n.spi, n.notify_type, n.data) == (3, h("c0010203"), 16393, b"")
    assert isinstance(tsi, TSiPayload)
    v4, v6 = tsi.selectors
    assert (v4.ts_type, v4.ip_protocol, v4.start_port, v4.end_port) == (7, 6, 0, 65535)
    assert (str(v4.start_address), str(v4.end_address)) == ("198.18.1.0", "198.18.1.255")
    assert (v6.ts_type, v6.ip_protocol, v6.start_port, v6.end_port) == (8, 0, 443, 443)
    assert v6.start_address == ipaddress.IPv6Address("2001:db8:0:1::")
    assert v6.end_address == ipaddress.IPv6Address("2001:db8:0:1:ffff:ffff:ffff:ffff")
    assert isinstance(cp, CPPayload) and cp.cfg_type == 1
    assert cp.attributes == [CfgAttribute(1, b""), CfgAttribute(3, h("c6120301"))]
    assert isinstance(idi, IDiPayload) and (idi.id_type, idi.data) == (2, b"west")
    assert isinstance(auth, AuthPayload) and (auth.method, auth.data) == (2, b"\xdd" * 8)
    assert isinstance(cert, CertPayload) and (cert.encoding, cert.data) == (4, b"\xee" * 5)
    assert isinstance(certreq, CertReqPayload) and certreq.data == b"\xab" * 20
    assert isinstance(v, VendorIDPayload) and v.data == b"OE"
    assert isinstance(eap, EAPPayload) and (eap.code, eap.identifier, eap.data) == (1, 7, b"\x01")


def test_hand_written_inner_payloads_are_what_we_emit():
    payloads = [
        DeletePayload(3, [h("11223344"), h("55667788")]),
        NotifyPayload(16393, protocol=3, spi=h("c0010203")),
        TSiPayload([TrafficSelector.ipv4("198.18.1.0", "198.18.1.255", 6),
                    TrafficSelector.ipv6("2001:db8:0:1::", "2001:db8:0:1:ffff:ffff:ffff:ffff",
                                         0, (443, 443))]),
        CPPayload(1, [CfgAttribute(1), CfgAttribute(3, h("c6120301"))]),
        IDiPayload(2, b"west"),
        AuthPayload(2, b"\xdd" * 8),
        CertPayload(4, b"\xee" * 5),
        CertReqPayload(4, b"\xab" * 20),
        VendorIDPayload(b"OE"),
        EAPPayload(1, 7, b"\x01"),
    ]
    assert emit_payloads(payloads) == (42, INNER_HAND)


SK_HAND = h("""
    00 11 22 33 44 55 66 77  88 99 aa bb cc dd ee ff | 2e 20 23 08 | 00 00 00 01 | 00 00 00 38
    23 00 00 1c | f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0
""")

SKF_HAND = h("""
    00 11 22 33 44 55 66 77  88 99 aa bb cc dd ee ff | 35 20 23 08 | 00 00 00 01 | 00 00 00 2e
    23 00 00 12 | 00 01 00 02 | 0f 0f 0f 0f 0f 0f 0f 0f 0f 0f
""")


def test_hand_written_sk_and_skf():
    sk = parse_message(SK_HAND)
    assert (sk.exchange, sk.message_id) == (35, 1)
    assert sk.payloads == [SKPayload(35, b"\xf0" * 24)] and sk.encrypted is sk.payloads[0]
    skf = parse_message(SKF_HAND)
    assert skf.payloads == [SKFPayload(35, 1, 2, b"\x0f" * 10)]
    for raw, msg in ((SK_HAND, sk), (SKF_HAND, skf)):
        assert emit_message(msg) == raw


def test_reserved_bits_and_critical_flag_survive():
    chain = payload(0, h("00 0e ab cd") + b"\x01" * 4, flags=0x80 | 0x15)
    raw = message(34, chain, flags=0x08 | 0x40 | 0x01, version=0x2F)
    logger = CollectingLogger(DebugFlags(["parsing"]))
    msg = parse_message(raw, logger)
    ke = msg.payloads[0]
    assert (ke.critical, ke.reserved_flags, ke.reserved) == (True, 0x15, 0xABCD)
    assert (msg.minor, msg.flags) == (0xF, 0x49)
    assert emit_message(msg) == raw
    assert "|    version: 2.15" in logger.lines
    assert "|    flags: INITIATOR+UNDEFINED 0x41 (0x49)" in logger.lines
    assert "|    critical: yes (reserved bits 0x15)" in logger.lines
    assert "|    reserved: 43981 (0xabcd)" in logger.lines


def test_unknown_payloads_are_kept_raw():
    chain = payload(200, b"\x01\x02") + payload(0, b"hello")
    raw = message(201, chain)
    msg = parse_message(raw)
    assert msg.payloads == [UnknownPayload(payload_type=201, body=b"\x01\x02"),
                            UnknownPayload(payload_type=200, body=b"hello")]
    assert emit_message(msg) == raw


def test_unknown_ts_type_is_kept_raw():
    body = h("01 00 00 00") + h("0a 00 00 09") + b"label"
    tsi = parse_payloads(payload(0, body), 44)[0]
    assert tsi.selectors == [RawTrafficSelector(10, b"label", 0)]
    assert emit_payloads([tsi]) == (44, payload(0, body))


def test_tlv_attribute_and_ike_rekey_spi():
    prop = h("00 00 00 1e | 01 01 08 01") + bytes(range(8)) + h("00 00 00 0e | 01 00 00 14 |"
                                                                 "00 0e 00 02 01 00")
    sa = parse_payloads(payload(0, prop), 33)[0]
    p = sa.proposals[0]
    assert p.spi == bytes(range(8))
    assert p.transforms[0].attributes == [TransformAttribute(14, b"\x01\x00")]
    assert p.transforms[0].key_length is None  # only the TV form carries a number
    assert emit_payloads([sa]) == (33, payload(0, prop))


# --- round trips on realistic messages ----------------------------------------------------


@pytest.mark.parametrize("name", sorted(all_messages()))
def test_message_round_trip(name):
    msg = all_messages()[name]
    raw = emit_message(msg)
    again = parse_message(raw)
    assert again == msg
    assert emit_message(again) == raw


@pytest.mark.parametrize("name", sorted(all_inner_chains()))
def test_inner_round_trip(name):
    payloads = all_inner_chains()[name]
    first, raw = emit_payloads(payloads)
    assert first == payloads[0].payload_type
    again = parse_payloads(raw, first)
    assert again == payloads
    assert emit_payloads(again) == (first, raw)


def test_lengths_and_chain_are_computed():
    raw = emit_message(all_messages()["ike_sa_init_request"])
    assert struct.unpack_from("!I", raw, 24)[0] == len(raw)
    # Walk the chain by hand: each next-payload names the following payload's class.
    offset, ptype, seen = 28, raw[16], []
    while ptype:
        seen.append(ptype)
        ptype, length = raw[offset], struct.unpack_from("!H", raw, offset + 2)[0]
        offset += length
    assert offset == len(raw)
    assert seen == [33, 34, 40, 41, 41, 41, 41, 43]


# --- malformed input ----------------------------------------------------------------------

KE_BODY = h("00 13 00 00") + b"\x01" * 8


def sa(*proposals: bytes) -> bytes:
    return payload(0, b"".join(proposals))


def prop(last: int, number: int, proto: int, spi: bytes, count: int, transforms: bytes,
         length: int | None = None) -> bytes:
    n = 8 + len(spi) + len(transforms) if length is None else length
    return struct.pack("!BBHBBBB", last, 0, n, number, proto, len(spi), count) + spi + transforms


def xform(last: int, ttype: int, tid: int, attrs: bytes = b"", length: int | None = None) -> bytes:
    n = 8 + len(attrs) if length is None else length
    return struct.pack("!BBHBBH", last, 0, n, ttype, 0, tid) + attrs


ENCR = xform(3, 1, 12, h("80 0e 01 00"))
DH = xform(0, 4, 19)


def sa_msg(*proposals: bytes) -> bytes:
    return message(33, sa(*proposals))


GOOD_SA = sa_msg(prop(2, 1, 1, b"", 2, ENCR + DH), prop(0, 2, 1, b"", 2, ENCR + DH))

MALFORMED_MESSAGES = {
    "empty": b"",
    "short header": message(0, b"")[:27],
    "header length too long": message(34, payload(0, KE_BODY), length=28 + 12 + 1),
    "header length too short": message(34, payload(0, KE_BODY), length=28 + 12 - 1),
    "header length under 28": message(0, b"", length=20),
    "trailing bytes after last payload": message(34, payload(0, KE_BODY) + b"\0\0\0\0"),
    "payload announced, nothing left": message(34, b""),
    "chain continues past the end": message(34, payload(40, KE_BODY)),
    "payload length under 4": message(34, payload(0, KE_BODY, length=3)),
    "payload length overruns": message(34, payload(0, KE_BODY, length=4 + len(KE_BODY) + 1)),
    "payload header truncated": message(34, b"\0\0\0"),
    "KE body too short": message(34, payload(0, h("00 13 00"))),
    "ID body too short": message(35, payload(0, h("02 00"))),
    "AUTH body too short": message(39, payload(0, h("02"))),
    "CERT body empty": message(37, payload(0, b"")),
    "SK not last": message(46, payload(35, b"\xf0" * 20) + payload(0, b"")),
    "SKF not last": message(53, payload(35, h("00 01 00 01") + b"\xf0" * 20) + payload(0, b"")),
    "SKF fragment 0": message(53, payload(35, h("00 00 00 02") + b"\xf0" * 20)),
    "SKF fragment beyond total": message(53, payload(35, h("00 03 00 02") + b"\xf0" * 20)),
    "SKF total 0": message(53, payload(35, h("00 01 00 00") + b"\xf0" * 20)),
    "SKF header truncated": message(53, payload(35, h("00 01 00"))),
    # Notify
    "N SPI overruns": message(41, payload(0, h("03 04 40 09 c0 01"))),
    "N ESP SPI size 8": message(41, payload(0, h("03 08 40 09") + bytes(8))),
    "N IKE SPI size 4": message(41, payload(0, h("01 04 40 09") + bytes(4))),
    "N header truncated": message(41, payload(0, h("00 00 40"))),
    # Delete
    "D ESP SPI size 8": message(42, payload(0, h("03 08 00 01") + bytes(8))),
    "D ESP SPI size 0": message(42, payload(0, h("03 00 00 01"))),
    "D IKE SPI size 4": message(42, payload(0, h("01 04 00 01") + bytes(4))),
    "D IKE with SPIs": message(42, payload(0, h("01 00 00 02"))),
    "D too few SPI bytes": message(42, payload(0, h("03 04 00 02") + bytes(7))),
    "D too many SPI bytes": message(42, payload(0, h("03 04 00 01") + bytes(5))),
    "D unknown protocol": message(42, payload(0, h("07 04 00 01") + bytes(4))),
    # TS
    "TS count too high": message(44, payload(0, h("02 00 00 00") + h(
        "07 00 00 10 00 00 ff ff 01 02 03 04 05 06 07 08"))),
    "TS count too low": message(44, payload(0, h("00 00 00 00") + h(
        "07 00 00 10 00 00 ff ff 01 02 03 04 05 06 07 08"))),
    "TS v4 length 20": message(44, payload(0, h("01 00 00 00") + h(
        "07 00 00 14 00 00 ff ff 01 02 03 04 05 06 07 08 00 00 00 00"))),
    "TS v6 length 16": message(44, payload(0, h("01 00 00 00") + h(
        "08 00 00 10 00 00 ff ff 01 02 03 04 05 06 07 08"))),
    "TS selector length 3": message(44, payload(0, h("01 00 00 00 0a 00 00 03"))),
    "TS selector overruns": message(45, payload(0, h("01 00 00 00 07 00 00 10 00 00"))),
    "TS selector header truncated": message(45, payload(0, h("01 00 00 00 07 00"))),
    # CP
    "CP attribute overruns": message(47, payload(0, h("01 00 00 00 00 01 00 04 c6 12"))),
    "CP attribute header truncated": message(47, payload(0, h("01 00 00 00 00 01 00"))),
    # EAP
    "EAP length too big": message(48, payload(0, h("01 07 00 06 01"))),
    "EAP length too small": message(48, payload(0, h("01 07 00 04 01"))),
    "EAP header truncated": message(48, payload(0, h("01 07 00"))),
    # SA
    "SA without proposals": message(33, payload(0, b"")),
    "proposal header truncated": message(33, payload(0, h("00 00 00 08 01 01"))),
    "proposal length under 8": sa_msg(prop(0, 1, 1, b"", 2, ENCR + DH, length=7)),
    "proposal length overruns": sa_msg(prop(0, 1, 1, b"", 2, ENCR + DH, length=8 + 20 + 1)),
    "proposal says more, none follows": sa_msg(prop(2, 1, 1, b"", 2, ENCR + DH)),
    "proposal says last, more follows": sa_msg(prop(0, 1, 1, b"", 2, ENCR + DH),
                                               prop(0, 2, 1, b"", 2, ENCR + DH)),
    "proposal last marker 3": sa_msg(prop(3, 1, 1, b"", 2, ENCR + DH),
                                     prop(0, 2, 1, b"", 2, ENCR + DH)),
    "proposal number 0": sa_msg(prop(0, 0, 1, b"", 2, ENCR + DH)),
    "first of two proposals is 2": sa_msg(prop(2, 2, 1, b"", 2, ENCR + DH),
                                          prop(0, 3, 1, b"", 2, ENCR + DH)),
    "proposal numbers skip": sa_msg(prop(2, 1, 1, b"", 2, ENCR + DH),
                                    prop(0, 3, 1, b"", 2, ENCR + DH)),
    "proposal numbers repeat": sa_msg(prop(2, 1, 1, b"", 2, ENCR + DH),
                                      prop(0, 1, 1, b"", 2, ENCR + DH)),
    "IKE proposal SPI size 4": sa_msg(prop(0, 1, 1, bytes(4), 2, ENCR + DH)),
    "ESP proposal SPI size 0": sa_msg(prop(0, 1, 3, b"", 2, ENCR + DH)),
    "ESP proposal SPI size 8": sa_msg(prop(0, 1, 3, bytes(8), 2, ENCR + DH)),
    "proposal SPI overruns": message(33, payload(0, h("00 00 00 0a 01 03 04 01 c0 01"))),
    "transform count too high": sa_msg(prop(0, 1, 1, b"", 3, ENCR + DH)),
    "transform count too low": sa_msg(prop(0, 1, 1, b"", 1, ENCR + DH)),
    "proposal without transforms": sa_msg(prop(0, 1, 1, b"", 0, b"")),
    "transform length under 8": sa_msg(prop(0, 1, 1, b"", 2, xform(3, 1, 12, length=7) + DH)),
    "transform length overruns": sa_msg(prop(0, 1, 1, b"", 1, xform(0, 1, 12, length=9))),
    "transform says more, none follows": sa_msg(prop(0, 1, 1, b"", 2, ENCR + xform(3, 4, 19))),
    "transform says last, more follows": sa_msg(prop(0, 1, 1, b"", 2, xform(0, 1, 12) + DH)),
    "transform last marker 2": sa_msg(prop(0, 1, 1, b"", 2, xform(2, 1, 12) + DH)),
    "TLV attribute overruns": sa_msg(prop(0, 1, 1, b"", 2, xform(3, 1, 12, h("00 0e 00 04 01"))
                                          + DH)),
    "attribute truncated": sa_msg(prop(0, 1, 1, b"", 2, xform(3, 1, 12, h("80 0e")) + DH)),
    "transform header truncated": sa_msg(prop(0, 1, 1, b"", 1, h("00 00 00 08"))),
}


def test_good_sa_base_parses():
    """The malformed SA cases below are mutations of this one."""
    assert len(parse_message(GOOD_SA).payloads[0].proposals) == 2


@pytest.mark.parametrize("name", sorted(MALFORMED_MESSAGES))
def test_malformed_is_invalid_syntax(name):
    with pytest.raises(MalformedMessage) as err:
        parse_message(MALFORMED_MESSAGES[name])
    assert err.value.notify == INVALID_SYNTAX, err.value.reason
    assert err.value.reason


@pytest.mark.parametrize("version", [0x10, 0x30, 0x00, 0xF0])
def test_other_major_version(version):
    raw = message(34, payload(0, KE_BODY), version=version)
    with pytest.raises(MalformedMessage) as err:
        parse_message(raw)
    assert err.value.notify == INVALID_MAJOR_VERSION


def test_major_version_is_checked_before_lengths():
    with pytest.raises(MalformedMessage) as err:
        parse_message(message(34, b"junk", version=0x30, length=999))
    assert err.value.notify == INVALID_MAJOR_VERSION


@pytest.mark.parametrize("ptype", [1, 32, 55, 200, 255])
def test_unknown_critical_payload(ptype):
    raw = message(34, payload(ptype, KE_BODY) + payload(0, b"x", flags=0x80))
    with pytest.raises(MalformedMessage) as err:
        parse_message(raw)
    assert err.value.notify == UNSUPPORTED_CRITICAL_PAYLOAD
    assert err.value.data == bytes([ptype])


def test_unknown_critical_payload_inside_sk():
    with pytest.raises(MalformedMessage) as err:
        parse_payloads(payload(0, b"", flags=0x80), 77)
    assert (err.value.notify, err.value.data) == (UNSUPPORTED_CRITICAL_PAYLOAD, b"\x4d")


def test_known_payload_with_critical_bit_is_accepted():
    msg = parse_message(message(34, payload(0, KE_BODY, flags=0x80)))
    assert msg.payloads[0].critical is True


@pytest.mark.parametrize("ptype", [46, 53])
def test_encrypted_payload_inside_encrypted_payload(ptype):
    with pytest.raises(MalformedMessage) as err:
        parse_payloads(payload(0, h("00 01 00 01") + bytes(20)), ptype)
    assert err.value.notify == INVALID_SYNTAX


def test_inner_chain_trailing_bytes():
    with pytest.raises(MalformedMessage) as err:
        parse_payloads(payload(0, b"nonce-nonce-nonce") + b"\0", 40)
    assert err.value.notify == INVALID_SYNTAX


# --- emit-side validation -----------------------------------------------------------------


def _emit(payloads):
    return emit_message(Message(bytes(8), bytes(8), 34, 8, 0, payloads))


@pytest.mark.parametrize("payloads", [
    [SKPayload(35, b"x"), NoncePayload(b"n")],
    [KEPayload(0x10000, b"")],
    [IDiPayload(2, b"x", reserved=b"\0\0")],
    [DeletePayload(3, [b"\0\0\0"])],
    [NoncePayload(b"n", reserved_flags=0x80)],
    [NoncePayload(b"n" * 65532)],
    [TSiPayload([TrafficSelector(7, ipaddress.IPv6Address("::1"), ipaddress.IPv6Address("::1"))])],
    [SAPayload([Proposal(1, 1, [Transform(1, 12, [TransformAttribute(0x8000, 1)])])])],
    [CPPayload(1, [CfgAttribute(0x8001)])],
], ids=lambda p: type(p[0]).__name__)
def test_emit_rejects_what_cannot_be_encoded(payloads):
    with pytest.raises(ValueError):
        _emit(payloads)


def test_emit_rejects_bad_header():
    with pytest.raises(ValueError):
        emit_message(Message(bytes(7), bytes(8), 34, 8, 0))
    with pytest.raises(ValueError):
        emit_message(Message(bytes(8), bytes(8), 34, 8, 0, major=16))


def test_emit_payloads_rejects_sk_inside():
    with pytest.raises(ValueError):
        emit_payloads([SKPayload(35, b"x")])


# --- debug trace ---------------------------------------------------------------------------


def test_parsing_trace_of_a_ke_payload():
    data = bytes(range(32))
    raw = message(34, payload(40, h("00 1f 00 00") + data) + payload(0, b"n" * 16))
    logger = CollectingLogger(DebugFlags(["parsing"]))
    parse_message(raw, logger)
    start = logger.lines.index("| parse IKEv2 Key Exchange Payload:")
    assert logger.lines[start:start + 7] == [
        "| parse IKEv2 Key Exchange Payload:",
        "|    next payload type: NONCE (40)",
        "|    critical: no",
        "|    length: 40 (0x28)",
        "|    DH group: CURVE25519 (31)",
        "|    reserved: 0",
        "|    key exchange data: " + " ".join(f"{b:02x}" for b in data),
    ]
    assert logger.lines[start + 7] == "| parse IKEv2 Nonce Payload:"


def test_parsing_trace_indents_nested_parts():
    logger = CollectingLogger(DebugFlags(["parsing"]))
    parse_message(SA_INIT_HAND, logger)
    lines = logger.lines
    assert "|    parse IKEv2 Proposal Substructure:" in lines
    assert "|       parse IKEv2 Transform Substructure:" in lines
    assert "|          transform ID: AES_CBC (12)" in lines
    assert "|          parse IKEv2 Transform Attribute:" in lines
    assert "|             af+type: AF+KEY_LENGTH (14)" in lines
    assert "|             length/value: 128 (0x80)" in lines
    assert lines[:2] == ["| parse IKEv2 Message Header:",
                         "|    initiator SPI: 00 11 22 33 44 55 66 77"]


@pytest.mark.parametrize("name", sorted(all_messages()))
def test_emitting_trace_matches_parsing_trace(name):
    """Emit prints the same lines in the same (wire) order as parse, with its own verb."""
    parsed, emitted = CollectingLogger(DebugFlags(["parsing"])), \
        CollectingLogger(DebugFlags(["emitting"]))
    raw = emit_message(all_messages()[name], emitted)
    parse_message(raw, parsed)
    assert emitted.lines == [line.replace(" parse ", " emit ", 1) for line in parsed.lines]
    assert len(parsed.lines) > 10


def test_nothing_is_traced_or_described_when_debugging_is_off(monkeypatch):
    def boom(*_args, **_kwargs):
        raise AssertionError("trace work done with debugging off")

    monkeypatch.setattr(wire.Field, "describe", boom)
    monkeypatch.setattr(wire.Layout, "trace", boom)
    monkeypatch.setattr(wire.Trace, "line", boom)
    logger = CollectingLogger(DebugFlags(["base", "raw"]))
    for msg in all_messages().values():
        parse_message(emit_message(msg, logger), logger)
    for payloads in all_inner_chains().values():
        parse_payloads(emit_payloads(payloads, logger)[1], payloads[0].payload_type, logger)
    assert logger.lines == []


def test_enum_aliases():
    assert PayloadType.N is PayloadType.NOTIFY and PayloadType.Ni is PayloadType.NONCE
    assert NotifyType.INVALID_KE_PAYLOAD.is_error
    assert not NotifyType.COOKIE.is_error
