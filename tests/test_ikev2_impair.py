"""The codec impairs: each changes the emitted bytes as intended and logs one IMPAIR line."""

from __future__ import annotations

import struct

import pytest
from ikev2_samples import (
    ike_auth_fragment,
    ike_auth_inner_request,
    ike_auth_request,
    ike_sa_init_request,
    rekey_ike_inner,
)

from pluto.impair import Impairs
from pluto.log import CollectingLogger
from pluto.packet.errors import MalformedMessage
from pluto.packet.ikev2 import (
    KEPayload,
    SAPayload,
    TransformAttribute,
    UnknownPayload,
    emit_message,
    emit_payloads,
    parse_message,
    parse_payloads,
)
from pluto.packet.ikev2_impair import impair_inner_payloads, impair_outbound
from pluto.packet.ikev2_types import ExchangeType, ProtocolId, TransformAttr


def impairs(*args: str, **values) -> Impairs:
    imp = Impairs(dict(values))
    for arg in args:
        imp.apply(arg)
    return imp


def outbound(msg, *args, **values):
    logger = CollectingLogger()
    out = impair_outbound(msg, impairs(*args, **values), logger)
    return out, emit_message(out), logger.lines


def inner(payloads, exchange, *args, **values):
    logger = CollectingLogger()
    out = impair_inner_payloads(payloads, exchange, impairs(*args, **values), logger)
    return out, logger.lines


def header_offsets(raw: bytes) -> list[int]:
    """Offsets of the generic payload headers, walked by hand."""
    offsets, at, ptype = [], 28, raw[16]
    while ptype:
        offsets.append(at)
        if ptype in (46, 53):
            break
        ptype = raw[at]
        at += struct.unpack_from("!H", raw, at + 2)[0]
    return offsets


def diff(a: bytes, b: bytes) -> list[int]:
    assert len(a) == len(b)
    return [i for i in range(len(a)) if a[i] != b[i]]


def test_no_impairs_changes_nothing():
    msg = ike_sa_init_request()
    out, raw, lines = outbound(msg)
    assert out == msg and out is not msg
    assert raw == emit_message(msg) and lines == []


def test_major_version_bump():
    msg = ike_sa_init_request()
    before = emit_message(msg)
    out, raw, lines = outbound(msg, "major-version-bump")
    assert diff(before, raw) == [17] and raw[17] == 0x30
    assert lines == ["IMPAIR: sending IKE major version 3 instead of 2"]
    assert msg.major == 2  # the original is untouched
    with pytest.raises(MalformedMessage) as err:
        parse_message(raw)
    assert err.value.notify == 5


def test_minor_version_bump():
    before = emit_message(ike_sa_init_request())
    _, raw, lines = outbound(ike_sa_init_request(), "minor-version-bump")
    assert diff(before, raw) == [17] and raw[17] == 0x21
    assert lines == ["IMPAIR: sending IKE minor version 1 instead of 0"]
    assert parse_message(raw).minor == 1  # RFC 7296: the minor version is ignored


def test_bogus_isakmp_flag():
    before = emit_message(ike_sa_init_request())
    _, raw, lines = outbound(ike_sa_init_request(), "send-bogus-isakmp-flag")
    assert diff(before, raw) == [19] and raw[19] == 0x08 | 0x40
    assert lines == ["IMPAIR: setting bogus IKE header flag 0x40"]


def test_bogus_payload_flag_on_every_payload_header():
    before = emit_message(ike_sa_init_request())
    _, raw, lines = outbound(ike_sa_init_request(), "send-bogus-payload-flag")
    flags = [o + 1 for o in header_offsets(before)]
    assert diff(before, raw) == flags and all(raw[i] == 0x01 for i in flags)
    assert lines == ["IMPAIR: setting bogus payload flag 0x01 in SA, KE, NONCE, NOTIFY, NOTIFY, "
                     "NOTIFY, NOTIFY, VENDOR_ID"]
    assert emit_message(parse_message(raw)) == raw  # reserved bits survive a round trip


def test_bogus_payload_flag_on_sk_and_inside_it():
    before = emit_message(ike_auth_request())
    _, raw, lines = outbound(ike_auth_request(), "send-bogus-payload-flag")
    assert diff(before, raw) == [29]
    assert lines == ["IMPAIR: setting bogus payload flag 0x01 in SK"]
    payloads, lines = inner(ike_auth_inner_request(), ExchangeType.IKE_AUTH,
                            "send-bogus-payload-flag")
    first, plain = emit_payloads(payloads)
    assert all(p.reserved_flags == 0x01 for p in parse_payloads(plain, first))
    assert len(lines) == 1 and lines[0].startswith("IMPAIR: setting bogus payload flag 0x01 in IDi")


def ke_of(raw: bytes) -> KEPayload | None:
    return next((p for p in parse_message(raw).payloads if isinstance(p, KEPayload)), None)


def test_ke_payload_omit():
    before = emit_message(ike_sa_init_request())
    _, raw, lines = outbound(ike_sa_init_request(), "ke-payload:omit")
    assert ke_of(raw) is None and len(raw) == len(before) - 40
    assert lines == ["IMPAIR: omitting the KE payload"]


def test_ke_payload_empty():
    _, raw, lines = outbound(ike_sa_init_request(), "ke-payload:empty")
    ke = ke_of(raw)
    assert ke.data == b"" and ke.dh_group == 31
    offset = header_offsets(raw)[1]
    assert raw[offset + 2:offset + 4] == b"\x00\x08"  # header and group only
    assert lines == ["IMPAIR: sending an empty KE payload"]


def test_ke_payload_fill():
    before = emit_message(ike_sa_init_request())
    _, raw, lines = outbound(ike_sa_init_request(), "ke-payload:0x5a")
    offset = header_offsets(before)[1]
    assert raw[:offset + 8] == before[:offset + 8]
    assert raw[offset + 8:offset + 40] == b"\x5a" * 32
    assert raw[offset + 40:] == before[offset + 40:]
    assert lines == ["IMPAIR: filling the KE payload's 32 bytes with 0x5a"]


def test_ke_payload_inside_sk_for_create_child_sa():
    payloads, lines = inner(rekey_ike_inner(), ExchangeType.CREATE_CHILD_SA, "ke-payload:omit")
    assert not any(isinstance(p, KEPayload) for p in payloads)
    assert lines == ["IMPAIR: omitting the KE payload"]


def test_ke_impair_without_ke_payload_is_silent():
    _, lines = inner(ike_auth_inner_request(), ExchangeType.IKE_AUTH, "ke-payload:empty")
    assert lines == []


def key_lengths(sa: SAPayload) -> list[list[TransformAttribute]]:
    return [t.attributes for p in sa.proposals for t in p.transforms if t.transform_type == 1]


def sa_of(raw: bytes) -> SAPayload:
    return parse_message(raw).payloads[0]


@pytest.mark.parametrize("how, expected_attrs, grows", [
    ("omit", [], -4),
    ("empty", [TransformAttribute(TransformAttr.KEY_LENGTH, b"")], 0),
    ("duplicate", [TransformAttribute(14, 256), TransformAttribute(14, 256)], 4),
    ("192", [TransformAttribute(14, 192)], 0),
])
def test_ike_key_length_attribute(how, expected_attrs, grows):
    before = emit_message(ike_sa_init_request())
    _, raw, lines = outbound(ike_sa_init_request(), f"ike-key-length-attribute:{how}")
    attrs = key_lengths(sa_of(raw))
    # Proposal 1 had AES_GCM_16/256; proposal 2 AES_CBC/256 and /128; proposal 3 ChaCha20.
    assert attrs[0] == expected_attrs
    assert len(attrs) == 4 and attrs[3] == []  # no key length, nothing to impair
    assert len(raw) == len(before) + 3 * grows
    assert len(lines) == 3 and all(line.startswith("IMPAIR: ike-key-length-attribute: ")
                                   for line in lines)
    assert "IKE proposal 1 transform 20" in lines[0]


def test_ike_key_length_leaves_child_proposals_alone():
    payloads, lines = inner(ike_auth_inner_request(), ExchangeType.IKE_AUTH,
                            "ike-key-length-attribute:omit")
    assert payloads == ike_auth_inner_request() and lines == []


def test_child_key_length_attribute():
    payloads, lines = inner(ike_auth_inner_request(), ExchangeType.IKE_AUTH,
                            "child-key-length-attribute:duplicate")
    sa = next(p for p in payloads if isinstance(p, SAPayload))
    assert all(p.protocol == ProtocolId.ESP for p in sa.proposals)
    assert [len(a) for a in key_lengths(sa)] == [2, 2]
    assert len(lines) == 2 and "ESP proposal 2 transform 12" in lines[1]
    first, plain = emit_payloads(payloads)
    assert parse_payloads(plain, first) == payloads
    # ... and the IKE SA proposals of IKE_SA_INIT are left alone.
    _, raw, lines = outbound(ike_sa_init_request(), "child-key-length-attribute:omit")
    assert raw == emit_message(ike_sa_init_request()) and lines == []


@pytest.mark.parametrize("spelling", ["IKE_SA_INIT", "ike-sa-init"])
def test_add_unknown_payload_to_ike_sa_init(spelling):
    # Set directly: Impairs.apply() lowercases the keyword (see the report).
    before = emit_message(ike_sa_init_request())
    out, raw, lines = outbound(ike_sa_init_request(),
                               **{"add-unknown-v2-payload-to": spelling})
    assert raw[-4:] == b"\x00\x00\x00\x04"  # the unknown payload: empty, not critical
    vendor_id = header_offsets(raw)[-2]
    # Only the message length and the vendor ID's next-payload field change before it.
    assert diff(before, raw[:-4]) == [27, vendor_id]
    assert raw[vendor_id] == 255
    assert lines == ["IMPAIR: adding an unknown payload of type 255 to the IKE_SA_INIT message"]
    assert parse_message(raw).payloads[-1] == UnknownPayload(payload_type=255)
    assert len(raw) == len(before) + 4


def test_add_critical_unknown_payload_is_rejected_by_the_peer():
    _, raw, lines = outbound(ike_sa_init_request(), "unknown-v2-payload-critical",
                             **{"add-unknown-v2-payload-to": "IKE_SA_INIT"})
    assert raw[-4:] == b"\x00\x80\x00\x04"
    assert lines == ["IMPAIR: adding an unknown critical payload of type 255 to the "
                     "IKE_SA_INIT message"]
    with pytest.raises(MalformedMessage) as err:
        parse_message(raw)
    assert (err.value.notify, err.value.data) == (1, b"\xff")


def test_add_unknown_payload_to_an_encrypted_exchange_goes_inside_sk():
    values = {"add-unknown-v2-payload-to": "IKE_AUTH"}
    _, raw, lines = outbound(ike_auth_request(), **values)
    assert raw == emit_message(ike_auth_request()) and lines == []
    payloads, lines = inner(ike_auth_inner_request(), ExchangeType.IKE_AUTH, **values)
    assert payloads[:-1] == ike_auth_inner_request()
    assert payloads[-1] == UnknownPayload(payload_type=255)
    assert len(lines) == 1
    # Another exchange: nothing added.
    payloads, lines = inner(ike_auth_inner_request(), ExchangeType.CREATE_CHILD_SA, **values)
    assert payloads == ike_auth_inner_request() and lines == []


@pytest.mark.parametrize("msg", [ike_auth_request(), ike_auth_fragment(2, 3)],
                         ids=["SK", "SKF"])
def test_corrupt_encrypted_flips_one_bit(msg):
    before = emit_message(msg)
    _, raw, lines = outbound(msg, "corrupt-encrypted")
    changed = diff(before, raw)
    assert len(changed) == 1 and bin(before[changed[0]] ^ raw[changed[0]]).count("1") == 1
    body = msg.payloads[-1].body
    assert changed[0] == len(before) - len(body) + len(body) // 2
    assert len(lines) == 1 and lines[0].startswith("IMPAIR: corrupting IKEv2 Encrypted")


def test_corrupt_encrypted_without_sk_is_silent():
    _, raw, lines = outbound(ike_sa_init_request(), "corrupt-encrypted")
    assert raw == emit_message(ike_sa_init_request()) and lines == []


def test_several_impairs_each_log_a_line():
    _, raw, lines = outbound(ike_sa_init_request(), "major-version-bump",
                             "send-bogus-isakmp-flag", "ke-payload:empty")
    assert [line.split(":")[0] for line in lines] == ["IMPAIR"] * 3
    assert raw[17] == 0x30 and raw[19] & 0x40
