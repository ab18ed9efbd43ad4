"""IKEv1 codec impairs: each one changes exactly what it names, on the wire, and logs one
IMPAIR line; the input message is never modified."""

from __future__ import annotations

import copy
import struct

import ikev1_samples as s
import pytest

from pluto.impair import Impairs
from pluto.log import CollectingLogger
from pluto.packet.errors import MalformedMessage
from pluto.packet.ikev1 import (
    Attribute,
    KeyExchangePayload,
    SecurityAssociationPayload,
    emit_message,
    emit_payloads,
    parse_message,
    parse_payloads,
)
from pluto.packet.ikev1_impair import impair_header, impair_outbound, impair_payloads
from pluto.packet.ikev1_types import IPsecAttribute, NotifyType, OakleyAttribute, PayloadType


def _impairs(*arguments: str) -> Impairs:
    impairs = Impairs()
    for argument in arguments:
        impairs.apply(argument)
    return impairs


def _impair(data: bytes, *arguments: str) -> tuple[bytes, list[str]]:
    """Impair a sample message; returns the wire bytes sent and the log lines."""
    msg = parse_message(data)
    before = copy.deepcopy(msg)
    logger = CollectingLogger()
    out = impair_outbound(msg, _impairs(*arguments), logger)
    assert msg == before, "the input message was modified"
    return emit_message(out), logger.lines


def test_nothing_set_changes_nothing():
    for data in s.MESSAGES.values():
        assert _impair(data) == (data, [])


def test_major_version_bump():
    wire, lines = _impair(s.MAIN_MI1, "major-version-bump")
    assert wire[17] == 0x20 and wire[:17] + wire[18:] == s.MAIN_MI1[:17] + s.MAIN_MI1[18:]
    assert lines == ["IMPAIR: major-version-bump: sending ISAKMP major version 2 instead of 1"]
    with pytest.raises(MalformedMessage) as caught:
        parse_message(wire)
    assert caught.value.notify == NotifyType.INVALID_MAJOR_VERSION


def test_minor_version_bump():
    wire, lines = _impair(s.MAIN_MR1, "minor-version-bump")
    assert wire[17] == 0x11 and wire[18:] == s.MAIN_MR1[18:]
    assert lines == ["IMPAIR: minor-version-bump: sending ISAKMP minor version 1 instead of 0"]
    assert parse_message(wire).minor == 1


def test_bogus_isakmp_flag_on_an_encrypted_message():
    wire, lines = _impair(s.MAIN_MI3_ENCRYPTED, "send-bogus-isakmp-flag", "send-bogus-payload-flag")
    assert wire[19] == 0x41  # E flag kept, undefined bit 0x40 added
    assert wire[:19] == s.MAIN_MI3_ENCRYPTED[:19] and wire[20:] == s.MAIN_MI3_ENCRYPTED[20:]
    # the body is ciphertext: payload impairs must have been applied before encryption
    assert lines == ["IMPAIR: send-bogus-isakmp-flag: setting undefined ISAKMP flag 0x40"]


def test_bogus_payload_flag_reaches_every_generic_header():
    wire, lines = _impair(s.MAIN_MI1, "send-bogus-payload-flag")
    # walk the wire by hand: SA (with its proposal and 4 transforms), then 4 VIDs
    sa_length = struct.unpack_from("!H", wire, 30)[0]
    proposal, transform = 28 + 12, 28 + 12 + 8
    offsets = [28, proposal]
    for _ in range(4):
        offsets.append(transform)
        transform += struct.unpack_from("!H", wire, transform + 2)[0]
    vid = 28 + sa_length
    for _ in range(4):
        offsets.append(vid)
        vid += struct.unpack_from("!H", wire, vid + 2)[0]
    assert [wire[o + 1] for o in offsets] == [0x01] * 10
    assert lines == ["IMPAIR: send-bogus-payload-flag: setting reserved bit 0x01 in 10 generic "
                     "payload headers"]
    assert len(wire) == len(s.MAIN_MI1)
    assert sum(a != b for a, b in zip(wire, s.MAIN_MI1, strict=True)) == 10


def test_ke_payload_omit_empty_and_fill():
    omitted, lines = _impair(s.MAIN_MI2, "ke-payload:omit")
    assert [p.payload_type for p in parse_message(omitted).payloads] == [10, 20, 20]
    assert lines == ["IMPAIR: ke-payload: omitting the KE payload"]

    empty, lines = _impair(s.MAIN_MI2, "ke-payload:empty")
    assert empty[28:32] == bytes([PayloadType.NONCE, 0, 0, 4])  # a bare generic header
    assert empty[32:] == s.MAIN_MI2[28 + 260:]
    assert lines == ["IMPAIR: ke-payload: sending an empty KE payload"]

    filled, lines = _impair(s.MAIN_MI2, "ke-payload:0x5a")
    assert filled[32:32 + 256] == b"\x5a" * 256 and filled[288:] == s.MAIN_MI2[288:]
    assert lines == ["IMPAIR: ke-payload: filling the KE payload with byte 0x5a"]

    wide, _ = _impair(s.MAIN_MI2, "ke-payload:0x1ff")
    assert wide[32:32 + 256] == b"\xff" * 256


def test_ke_payload_without_a_ke_does_not_fire():
    assert _impair(s.MAIN_MI1, "ke-payload:omit") == (s.MAIN_MI1, [])


def _phase1_key_lengths(wire: bytes) -> list[list[Attribute]]:
    sa = parse_message(wire).payloads[0]
    return [[a for a in t.attributes if a.type == OakleyAttribute.KEY_LENGTH]
            for t in sa.proposals[0].transforms]


@pytest.mark.parametrize(("how", "expected", "action"), [
    ("omit", [[], [], [], []], "omitting"),
    ("empty", [[Attribute(14, b"")], [Attribute(14, b"")], [], [Attribute(14, b"")]],
     "sending an empty"),
    ("duplicate", [[Attribute(14, 256)] * 2, [Attribute(14, 128)] * 2, [],
                   [Attribute(14, 256)] * 2], "duplicating"),
    ("512", [[Attribute(14, 512)], [Attribute(14, 512)], [], [Attribute(14, 512)]],
     "sending value 512 as"),
    ("70000", [[Attribute(14, b"\x01\x11\x70")]] * 2 + [[]] + [[Attribute(14, b"\x01\x11\x70")]],
     "sending value 70000 as"),
])
def test_ike_key_length_attribute(how, expected, action):
    wire, lines = _impair(s.MAIN_MI1, f"ike-key-length-attribute:{how}")
    assert _phase1_key_lengths(wire) == expected
    assert lines == [f"IMPAIR: ike-key-length-attribute: {action} the key-length attribute of "
                     "3 IKE SA transforms"]
    # the 3DES transform (no key length) and every other attribute are untouched
    before = parse_message(s.MAIN_MI1).payloads[0].proposals[0].transforms
    after = parse_message(wire).payloads[0].proposals[0].transforms
    assert after[2] == before[2]
    for old, new in zip(before, after, strict=True):
        assert [a for a in old.attributes if a.type != 14] == [
            a for a in new.attributes if a.type != 14]


def test_empty_key_length_attribute_on_the_wire():
    wire, _ = _impair(s.MAIN_MR1, "ike-key-length-attribute:empty")
    assert bytes.fromhex("000e0000") in wire and bytes.fromhex("800e0100") not in wire


def test_child_key_length_attribute_touches_only_phase_2_proposals():
    payloads, _ = parse_payloads(s.QI1_PLAINTEXT, PayloadType.HASH)
    logger = CollectingLogger()
    out = impair_payloads(payloads, _impairs("child-key-length-attribute:omit",
                                             "ike-key-length-attribute:omit"), logger)
    assert logger.lines == ["IMPAIR: child-key-length-attribute: omitting the key-length "
                            "attribute of 3 Child SA transforms"]
    sa = out[1]
    assert isinstance(sa, SecurityAssociationPayload)
    for proposal in sa.proposals:
        for transform in proposal.transforms:
            assert transform.find(IPsecAttribute.KEY_LENGTH) is None
    first, wire = emit_payloads(out)
    assert len(wire) == len(s.QI1_PLAINTEXT) - 3 * 4


def test_impair_payloads_for_encrypted_contents_and_header_separately():
    payloads, _ = parse_payloads(s.QI1_PLAINTEXT, PayloadType.HASH)
    logger = CollectingLogger()
    impairs = _impairs("ke-payload:empty", "major-version-bump")
    out = impair_payloads(payloads, impairs, logger)
    assert [p.data for p in out if isinstance(p, KeyExchangePayload)] == [b""]
    assert logger.lines == ["IMPAIR: ke-payload: sending an empty KE payload"]
    msg = impair_header(parse_message(s.QUICK_QI1_ENCRYPTED), impairs, logger)
    assert msg.major == 2 and logger.lines[-1].startswith("IMPAIR: major-version-bump")
