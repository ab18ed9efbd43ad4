"""IKEv1 / ISAKMP codec: round trips of realistic messages, hand-written RFC layouts, malformed
input and the parsing/emitting debug output."""

from __future__ import annotations

import hashlib
import ipaddress
import struct

import ikev1_samples as s
import pytest

from pluto.log import CollectingLogger, DebugFlags
from pluto.packet.errors import MalformedMessage
from pluto.packet.ikev1 import (
    Attribute,
    CertificatePayload,
    CertificateRequestPayload,
    DeletePayload,
    EncryptedBody,
    HashPayload,
    IdentificationPayload,
    KeyExchangePayload,
    Message,
    ModeConfigPayload,
    NatDetectionPayload,
    NatOriginalAddressPayload,
    NoncePayload,
    NotificationPayload,
    Proposal,
    SecurityAssociationPayload,
    SignaturePayload,
    Transform,
    UnknownPayload,
    VendorIdPayload,
    emit_message,
    emit_payloads,
    parse_message,
    parse_payloads,
)
from pluto.packet.ikev1_types import (
    AhTransformId,
    CertEncoding,
    EncapsulationMode,
    EspTransformId,
    ExchangeType,
    HeaderFlag,
    IdType,
    IPsecAttribute,
    IPsecAuthAlgorithm,
    IsakmpTransformId,
    LifeType,
    ModeCfgAttribute,
    ModeCfgType,
    NotifyType,
    OakleyAttribute,
    OakleyAuthMethod,
    OakleyEncryption,
    OakleyGroup,
    OakleyHash,
    PayloadType,
    ProtocolId,
)
from pluto.packet.wire import Trace

# --- registries ---------------------------------------------------------------------------------


def test_vendor_ids_are_the_md5_of_their_names():
    # RFC 3947 section 3.1, draft-ietf-ipsec-nat-t-ike-02 (with its trailing newline), RFC 3706.
    assert hashlib.md5(b"RFC 3947").digest() == s.VID_RFC3947
    assert hashlib.md5(b"draft-ietf-ipsec-nat-t-ike-02\n").digest() == s.VID_NATT_DRAFT_02N
    assert s.VID_DPD[:14] == bytes.fromhex("afcad71368a1f1c96b8696fc7757")


def test_registry_numbers_match_the_rfcs():
    assert (ExchangeType.MAIN, ExchangeType.AGGRESSIVE, ExchangeType.QUICK) == (2, 4, 32)
    assert ExchangeType(2).name == "IDENTITY_PROTECTION"
    assert (PayloadType.VID, PayloadType.ATTR, PayloadType.NAT_D, PayloadType.NAT_OA) == (
        13, 14, 20, 21)
    assert (PayloadType.NAT_D_DRAFT, PayloadType.NAT_OA_DRAFT) == (130, 131)
    assert (NotifyType.INITIAL_CONTACT, NotifyType.R_U_THERE, NotifyType.R_U_THERE_ACK) == (
        24578, 36136, 36137)
    assert (EncapsulationMode.UDP_TUNNEL, EncapsulationMode.UDP_TRANSPORT_DRAFT) == (3, 61444)
    assert (EspTransformId.ESP_3DES, EspTransformId.ESP_AES, EspTransformId.ESP_AES_GCM_16) == (
        3, 12, 20)
    assert OakleyAuthMethod.XAUTH_INIT_PRESHARED == 65001
    assert (ModeCfgAttribute.XAUTH_TYPE, ModeCfgAttribute.XAUTH_STATUS) == (16520, 16527)


# --- round trips of the samples ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(s.MESSAGES))
def test_message_round_trip(name):
    data = s.MESSAGES[name]
    msg = parse_message(data)
    assert emit_message(msg) == data
    assert parse_message(emit_message(msg)) == msg


@pytest.mark.parametrize("name", sorted(s.CONTENTS))
def test_contents_round_trip(name):
    first, data = s.CONTENTS[name]
    payloads, padding = parse_payloads(data, first)
    emitted_first, emitted = emit_payloads(payloads)
    assert (emitted_first, emitted + padding) == (first, data)
    assert parse_payloads(emitted, emitted_first) == (payloads, b"")


@pytest.mark.parametrize("name", sorted(s.CONTENTS))
def test_contents_round_trip_inside_a_clear_message(name):
    first, data = s.CONTENTS[name]
    payloads, padding = parse_payloads(data, first)
    # padding exists only inside encrypted messages: a clear message ends with its payloads
    wire = s.clear_message(ExchangeType.QUICK, first, data[:len(data) - len(padding)],
                           message_id=7)
    msg = parse_message(wire)
    assert msg.payloads == payloads and msg.message_id == 7
    assert emit_message(msg) == wire


# --- field by field --------------------------------------------------------------------------


def _mi1_transforms() -> list[Transform]:
    return [
        Transform(1, IsakmpTransformId.KEY_IKE, [
            Attribute(OakleyAttribute.ENCRYPTION_ALGORITHM, OakleyEncryption.AES_CBC),
            Attribute(OakleyAttribute.KEY_LENGTH, 256),
            Attribute(OakleyAttribute.HASH_ALGORITHM, OakleyHash.SHA2_256),
            Attribute(OakleyAttribute.AUTHENTICATION_METHOD, OakleyAuthMethod.PRESHARED_KEY),
            Attribute(OakleyAttribute.GROUP_DESCRIPTION, OakleyGroup.MODP2048),
            Attribute(OakleyAttribute.LIFE_TYPE, LifeType.SECONDS),
            Attribute(OakleyAttribute.LIFE_DURATION, b"\x00\x00\x70\x80"),
        ]),
        Transform(2, IsakmpTransformId.KEY_IKE, [
            Attribute(OakleyAttribute.ENCRYPTION_ALGORITHM, OakleyEncryption.AES_CBC),
            Attribute(OakleyAttribute.KEY_LENGTH, 128),
            Attribute(OakleyAttribute.HASH_ALGORITHM, OakleyHash.SHA1),
            Attribute(OakleyAttribute.AUTHENTICATION_METHOD,
                      OakleyAuthMethod.XAUTH_INIT_PRESHARED),
            Attribute(OakleyAttribute.GROUP_DESCRIPTION, OakleyGroup.MODP2048),
            Attribute(OakleyAttribute.LIFE_TYPE, LifeType.SECONDS),
            Attribute(OakleyAttribute.LIFE_DURATION, 3600),
        ]),
        Transform(3, IsakmpTransformId.KEY_IKE, [
            Attribute(OakleyAttribute.ENCRYPTION_ALGORITHM, OakleyEncryption.DES3_CBC),
            Attribute(OakleyAttribute.HASH_ALGORITHM, OakleyHash.SHA1),
            Attribute(OakleyAttribute.AUTHENTICATION_METHOD, OakleyAuthMethod.PRESHARED_KEY),
            Attribute(OakleyAttribute.GROUP_DESCRIPTION, OakleyGroup.MODP1536),
        ]),
        Transform(4, IsakmpTransformId.KEY_IKE, [
            Attribute(OakleyAttribute.ENCRYPTION_ALGORITHM, OakleyEncryption.AES_CBC),
            Attribute(OakleyAttribute.KEY_LENGTH, 256),
            Attribute(OakleyAttribute.HASH_ALGORITHM, OakleyHash.SHA2_512),
            Attribute(OakleyAttribute.AUTHENTICATION_METHOD, OakleyAuthMethod.RSA_SIG),
            Attribute(OakleyAttribute.GROUP_DESCRIPTION, OakleyGroup.ECP_256),
            Attribute(OakleyAttribute.LIFE_TYPE, LifeType.KILOBYTES),
            Attribute(OakleyAttribute.LIFE_DURATION, b"\x01\x00\x00"),
        ]),
    ]


def test_main_mode_mi1_fields():
    msg = parse_message(s.MAIN_MI1)
    assert (msg.icookie, msg.rcookie) == (s.ICOOKIE, bytes(8))
    assert (msg.exchange, msg.flags, msg.message_id, msg.major, msg.minor) == (2, 0, 0, 1, 0)
    sa = msg.payloads[0]
    assert isinstance(sa, SecurityAssociationPayload)
    assert (sa.doi, sa.situation) == (1, 1)
    assert sa.proposals == [Proposal(1, ProtocolId.ISAKMP, _mi1_transforms())]
    assert [p.data for p in msg.find(VendorIdPayload)] == [
        s.VID_RFC3947, s.VID_NATT_DRAFT_02N, s.VID_DPD, s.VID_XAUTH]
    life = sa.proposals[0].transforms[0].find(OakleyAttribute.LIFE_DURATION)
    assert life is not None and life.as_int() == 28800 and not life.is_basic


def test_main_mode_mi1_emitted_from_objects():
    msg = Message(s.ICOOKIE, bytes(8), ExchangeType.MAIN, [
        SecurityAssociationPayload([Proposal(1, ProtocolId.ISAKMP, _mi1_transforms())]),
        VendorIdPayload(s.VID_RFC3947), VendorIdPayload(s.VID_NATT_DRAFT_02N),
        VendorIdPayload(s.VID_DPD), VendorIdPayload(s.VID_XAUTH)])
    assert emit_message(msg) == s.MAIN_MI1
    assert parse_message(emit_message(msg)) == msg


def test_main_mode_second_exchange_fields():
    mi2 = parse_message(s.MAIN_MI2)
    ke, nonce, natd1, natd2 = mi2.payloads
    assert isinstance(ke, KeyExchangePayload) and len(ke.data) == 256
    assert isinstance(nonce, NoncePayload) and len(nonce.data) == 32
    assert [type(p) for p in (natd1, natd2)] == [NatDetectionPayload] * 2
    assert not natd1.draft and natd1.payload_type == 20
    mr2 = parse_message(s.MAIN_MR2)
    cr = mr2.payloads[2]
    assert cr == CertificateRequestPayload(CertEncoding.X509_SIGNATURE, s.DN_EAST)
    assert all(p.draft and p.payload_type == 130 for p in mr2.find(NatDetectionPayload))
    # the draft number survives a round trip through objects
    assert emit_message(mr2) == s.MAIN_MR2


def test_main_mode_third_exchange_contents():
    payloads, padding = parse_payloads(s.MI3_RSA_PLAINTEXT, PayloadType.ID)
    ident, cert, sig, notify = payloads
    assert ident == IdentificationPayload(IdType.DER_ASN1_DN, s.DN_EAST)
    assert isinstance(cert, CertificatePayload) and cert.encoding == 4 and len(cert.data) == 300
    assert isinstance(sig, SignaturePayload) and len(sig.data) == 256
    assert notify == NotificationPayload(NotifyType.INITIAL_CONTACT, ProtocolId.ISAKMP,
                                         s.ICOOKIE + s.RCOOKIE)
    assert padding == bytes(12)
    psk, padding = parse_payloads(s.MI3_PSK_PLAINTEXT, PayloadType.ID)
    assert padding == b""
    assert psk[0] == IdentificationPayload(IdType.IPV4_ADDR, bytes([198, 51, 100, 45]), 17, 500)
    assert psk[0].network() == ipaddress.ip_network("198.51.100.45/32")
    assert isinstance(psk[1], HashPayload) and len(psk[1].data) == 32


def test_encrypted_message_keeps_the_body_opaque():
    msg = parse_message(s.MAIN_MI3_ENCRYPTED)
    assert msg.is_encrypted and msg.payloads == []
    assert msg.encrypted == EncryptedBody(PayloadType.ID, s.MAIN_MI3_ENCRYPTED[28:])
    quick = parse_message(s.QUICK_QI1_ENCRYPTED)
    assert (quick.exchange, quick.message_id) == (ExchangeType.QUICK, 0x1A2B3C4D)
    assert quick.encrypted.first_payload == PayloadType.HASH


def test_encrypted_body_is_not_parsed_even_if_garbage():
    wire = s.header(s.ICOOKIE, s.RCOOKIE, 2, 2, b"\xff" * 8, flags=HeaderFlag.ENCRYPTION)
    assert parse_message(wire).encrypted == EncryptedBody(2, b"\xff" * 8)


def test_aggressive_mode_fields():
    ai1 = parse_message(s.AGGR_AI1)
    assert ai1.exchange == ExchangeType.AGGRESSIVE
    assert [p.payload_type for p in ai1.payloads] == [1, 4, 10, 5, 13, 13, 13]
    ident = ai1.find(IdentificationPayload)[0]
    assert (ident.id_type, ident.data, ident.protocol, ident.port) == (
        IdType.USER_FQDN, b"road@example.net", 17, 500)
    ar1 = parse_message(s.AGGR_AR1)
    assert [p.payload_type for p in ar1.payloads] == [1, 4, 10, 5, 8, 13, 20, 20]


def test_quick_mode_contents_fields():
    payloads, _ = parse_payloads(s.QI1_PLAINTEXT, PayloadType.HASH)
    sa = payloads[1]
    assert [(p.number, p.protocol, p.spi) for p in sa.proposals] == [
        (1, ProtocolId.IPSEC_ESP, s.ESP_SPI), (2, ProtocolId.IPSEC_AH, bytes.fromhex("c0ffee02")),
        (2, ProtocolId.IPSEC_ESP, bytes.fromhex("c0ffee03")),
        (3, ProtocolId.IPCOMP, bytes.fromhex("1234"))]
    esp = sa.proposals[0].transforms
    assert [t.transform_id for t in esp] == [
        EspTransformId.ESP_AES, EspTransformId.ESP_AES_GCM_16, EspTransformId.ESP_3DES]
    assert esp[0].attributes == [
        Attribute(IPsecAttribute.SA_LIFE_TYPE, LifeType.SECONDS),
        Attribute(IPsecAttribute.SA_LIFE_DURATION, struct.pack("!I", 28800)),
        Attribute(IPsecAttribute.ENCAPSULATION_MODE, EncapsulationMode.UDP_TUNNEL),
        Attribute(IPsecAttribute.AUTHENTICATION_ALGORITHM, IPsecAuthAlgorithm.HMAC_SHA2_256),
        Attribute(IPsecAttribute.KEY_LENGTH, 256),
        Attribute(IPsecAttribute.GROUP_DESCRIPTION, OakleyGroup.MODP2048)]
    assert esp[2].find(IPsecAttribute.ENCAPSULATION_MODE).value == 61444
    assert sa.proposals[1].transforms[0].transform_id == AhTransformId.AH_SHA
    assert len(payloads[3].data) == 256
    local, remote = payloads[4:6]
    assert local.network() == ipaddress.ip_network("198.18.1.0/24")
    assert remote.network() == ipaddress.ip_network("198.18.2.0/24")
    assert local == IdentificationPayload.for_network(ipaddress.ip_network("198.18.1.0/24"))
    oa4, oa6 = payloads[6:]
    assert oa4 == NatOriginalAddressPayload.for_address(ipaddress.ip_address("203.0.113.209"))
    assert oa6 == NatOriginalAddressPayload.for_address(
        ipaddress.ip_address("2001:db8:1:3::209"), draft=True)
    assert (oa4.payload_type, oa6.payload_type) == (21, 131)


def test_informational_contents_fields():
    dpd, _ = parse_payloads(s.INFO_DPD_PLAINTEXT, PayloadType.HASH)
    assert dpd[1] == NotificationPayload(NotifyType.R_U_THERE, ProtocolId.ISAKMP,
                                         s.ICOOKIE + s.RCOOKIE, bytes([1, 2, 3, 4]))
    deletes, _ = parse_payloads(s.INFO_DELETE_PLAINTEXT, PayloadType.HASH)
    assert deletes[1] == DeletePayload(ProtocolId.IPSEC_ESP, [bytes.fromhex("c0ffee01"),
                                                              bytes.fromhex("c0ffee03")])
    assert deletes[2].spi_size == 16 and deletes[2].spis == [s.ICOOKIE + s.RCOOKIE]
    clear = parse_message(s.INFO_CLEAR)
    assert clear.payloads == [NotificationPayload(NotifyType.NO_PROPOSAL_CHOSEN)]
    assert clear.message_id == 0x5EED


def test_mode_config_fields_and_emit_from_objects():
    reply = [HashPayload(s.XAUTH_REPLY_PLAINTEXT[4:24]),
             ModeConfigPayload(ModeCfgType.REPLY, [
                 Attribute(ModeCfgAttribute.XAUTH_TYPE, 0),
                 Attribute(ModeCfgAttribute.XAUTH_USER_NAME, b"road"),
                 Attribute(ModeCfgAttribute.XAUTH_USER_PASSWORD, b"hunter2")],
                 identifier=0x4242)]
    assert emit_payloads(reply) == (PayloadType.HASH, s.XAUTH_REPLY_PLAINTEXT)
    cfg, _ = parse_payloads(s.MODECFG_SET_PLAINTEXT, PayloadType.HASH)
    attributes = cfg[1].attributes
    assert cfg[1].cfg_type == ModeCfgType.SET and cfg[1].identifier == 7
    assert attributes[0] == Attribute(ModeCfgAttribute.INTERNAL_IP4_ADDRESS,
                                      bytes([198, 18, 1, 77]))
    assert attributes[-1] == Attribute(ModeCfgAttribute.INTERNAL_IP4_DNS, b"")


def test_quick_mode_emitted_from_objects_matches_the_rfc_layout():
    spi = bytes.fromhex("0a0b0c0d")
    payloads = [
        HashPayload(bytes(20)),
        SecurityAssociationPayload([Proposal(1, ProtocolId.IPSEC_ESP, [
            Transform(1, EspTransformId.ESP_AES_GCM_16, [
                Attribute(IPsecAttribute.ENCAPSULATION_MODE, EncapsulationMode.TUNNEL),
                Attribute.number(IPsecAttribute.SA_LIFE_DURATION, 86400),
                Attribute(IPsecAttribute.KEY_LENGTH, 256)])], spi)]),
        NoncePayload(b"\x5a" * 16),
        IdentificationPayload.for_network(ipaddress.ip_network("2001:db8:0:1::/64")),
        IdentificationPayload.for_address(ipaddress.ip_address("198.18.2.9"), 6, 80),
    ]
    expected_first, expected = s.chain(
        (s.HASH, bytes(20)),
        (s.SA, s.sa_body(s.proposal_body(1, 3, spi, s.transform_body(
            1, 20, s.tv(4, 1), s.tlv(2, (86400).to_bytes(3, "big")), s.tv(6, 256))))),
        (s.NONCE, b"\x5a" * 16),
        (s.ID, s.id_body(6, bytes.fromhex("20010db8000000010000000000000000")
                         + bytes.fromhex("ffffffffffffffff0000000000000000"))),
        (s.ID, s.id_body(1, bytes([198, 18, 2, 9]), 6, 80)))
    assert emit_payloads(payloads) == (expected_first, expected)
    assert parse_payloads(expected, expected_first) == (payloads, b"")


# --- hand-written bytes from the RFC layouts --------------------------------------------------

HAND_MR1 = bytes.fromhex(
    # ISAKMP header (RFC 2408 3.1)
    "0011223344556677"  # initiator cookie
    "8899aabbccddeeff"  # responder cookie
    "01"  # next payload: SA
    "10"  # major 1, minor 0
    "02"  # exchange: identity protection (Main Mode)
    "00"  # flags
    "00000000"  # message ID
    "0000006c"  # length: 28 + 60 + 20 = 108
    # SA payload (RFC 2408 3.4, RFC 2407 4.6.1)
    "0d" "00" "003c"  # next: VID, reserved, length 60
    "00000001"  # DOI: IPsec
    "00000001"  # situation: SIT_IDENTITY_ONLY
    # proposal payload (RFC 2408 3.5)
    "00" "00" "0030"  # next: none, reserved, length 48
    "01" "01" "00" "01"  # proposal #1, PROTO_ISAKMP, SPI size 0, one transform
    # transform payload (RFC 2408 3.6)
    "00" "00" "0028"  # next: none, reserved, length 40
    "01" "01" "0000"  # transform #1, KEY_IKE, reserved
    "80010007"  # encryption algorithm: AES-CBC (TV)
    "800e0100"  # key length: 256 (TV)
    "80020004"  # hash algorithm: SHA2-256
    "80030001"  # authentication method: pre-shared key
    "8004000e"  # group description: 2048-bit MODP
    "800b0001"  # life type: seconds
    "000c0004" "00007080"  # life duration: 28800, as a 4-byte TLV
    # vendor ID payload (RFC 2408 3.16): RFC 3706 DPD
    "00" "00" "0014" "afcad71368a1f1c96b8696fc77570100"
)


def test_hand_written_main_mode_response_field_by_field():
    msg = parse_message(HAND_MR1)
    assert msg.icookie == bytes.fromhex("0011223344556677")
    assert msg.rcookie == bytes.fromhex("8899aabbccddeeff")
    assert (msg.major, msg.minor, msg.exchange, msg.flags, msg.message_id) == (1, 0, 2, 0, 0)
    sa, vid = msg.payloads
    assert (sa.doi, sa.situation, sa.reserved) == (1, 1, 0)
    (proposal,) = sa.proposals
    assert (proposal.number, proposal.protocol, proposal.spi) == (1, 1, b"")
    (transform,) = proposal.transforms
    assert (transform.number, transform.transform_id, transform.reserved2) == (1, 1, 0)
    assert [(a.type, a.value) for a in transform.attributes] == [
        (1, 7), (14, 256), (2, 4), (3, 1), (4, 14), (11, 1), (12, b"\x00\x00\x70\x80")]
    assert vid.data == s.VID_DPD
    assert emit_message(msg) == HAND_MR1


HAND_NOTIFY = bytes.fromhex(
    "00" "00" "0020"  # generic header: last payload, length 32
    "00000001"  # DOI: IPsec
    "01"  # protocol: ISAKMP
    "10"  # SPI size 16
    "8d28"  # notify type 36136: R-U-THERE (RFC 3706)
    "0011223344556677" "8899aabbccddeeff"  # SPI: both cookies
    "0000abcd"  # notification data: DPD sequence number
)


def test_hand_written_dpd_notification_field_by_field():
    (notify,), padding = parse_payloads(HAND_NOTIFY, PayloadType.N)
    assert padding == b""
    assert (notify.doi, notify.protocol, notify.notify_type) == (1, 1, 36136)
    assert notify.spi == bytes.fromhex("00112233445566778899aabbccddeeff")
    assert notify.data == bytes.fromhex("0000abcd")
    assert emit_payloads([notify]) == (PayloadType.N, HAND_NOTIFY)


HAND_DELETE_VID_NAT_OA = bytes.fromhex(
    "0d" "00" "0014"  # delete payload: next VID, length 20
    "00000001" "03" "04" "0002"  # DOI IPsec, ESP, SPI size 4, two SPIs
    "11111111" "22222222"
    "15" "00" "0008" "76696421"  # vendor ID "vid!", next NAT-OA (21)
    "00" "00" "000c"  # NAT-OA (RFC 3947 5.2): last payload, length 12
    "01" "00" "0000" "c6336417"  # ID_IPV4_ADDR, reserved, 198.51.100.23
)


def test_hand_written_delete_vendor_id_and_nat_oa():
    (d, v, o), _ = parse_payloads(HAND_DELETE_VID_NAT_OA, PayloadType.D)
    assert (d.doi, d.protocol, d.spi_size, d.spis) == (1, 3, 4, [b"\x11" * 4, b"\x22" * 4])
    assert v.data == b"vid!"
    assert (o.id_type, o.address, o.draft) == (IdType.IPV4_ADDR, bytes([198, 51, 100, 23]), False)
    assert emit_payloads([d, v, o]) == (PayloadType.D, HAND_DELETE_VID_NAT_OA)


# --- header details ------------------------------------------------------------------------


def test_unknown_flag_bits_and_minor_version_are_kept():
    wire = s.header(s.ICOOKIE, s.RCOOKIE, 0, 5, b"", flags=0xC6, message_id=0xFFFFFFFF,
                    version=0x1F)
    msg = parse_message(wire)
    assert (msg.flags, msg.minor, msg.message_id) == (0xC6, 15, 0xFFFFFFFF)
    assert msg.flags & HeaderFlag.COMMIT and msg.flags & HeaderFlag.AUTHENTICATION_ONLY
    assert emit_message(msg) == wire


def test_reserved_bytes_are_kept():
    transform = struct.pack("!BBH", 0, 0x40, 8) + bytes([1, 1, 0xAB, 0xCD])  # reserved2 set
    proposal = struct.pack("!BBH", 0, 0, 8 + len(transform)) + bytes([1, 1, 0, 1]) + transform
    sa = struct.pack("!BBH", s.VID, 0, 12 + len(proposal)) + struct.pack("!II", 1, 1) + proposal
    vid = struct.pack("!BBH", 0, 0x81, 5) + b"x"  # bogus reserved byte in a generic header
    wire = s.header(s.ICOOKIE, s.RCOOKIE, s.SA, 2, sa + vid)
    msg = parse_message(wire)
    transform = msg.payloads[0].proposals[0].transforms[0]
    assert (transform.reserved, transform.reserved2, msg.payloads[1].reserved) == (
        0x40, 0xABCD, 0x81)
    assert emit_message(msg) == wire


def test_private_and_gdoi_payloads_are_kept_raw():
    for kind in (15, 22, 128, 132, 255):
        wire = s.message(s.ICOOKIE, s.RCOOKIE, 2, (kind, b"opaque"), (s.VID, b"v"))
        msg = parse_message(wire)
        assert msg.payloads[0] == UnknownPayload(kind, b"opaque")
        assert emit_message(msg) == wire


def test_emit_rejects_inconsistent_messages():
    with pytest.raises(ValueError):
        emit_message(Message(s.ICOOKIE, s.RCOOKIE, 2, flags=HeaderFlag.ENCRYPTION))
    with pytest.raises(ValueError):
        emit_message(Message(s.ICOOKIE, s.RCOOKIE, 2, encrypted=EncryptedBody(8, b"x")))
    with pytest.raises(ValueError):
        emit_message(Message(b"short", s.RCOOKIE, 2))
    with pytest.raises(ValueError):
        emit_payloads([VendorIdPayload(bytes(70000))])
    with pytest.raises(ValueError):
        emit_payloads([DeletePayload(3, [b"1234", b"123"])])


def test_attribute_helpers():
    assert Attribute.number(12, 3600) == Attribute(12, 3600)
    assert Attribute.number(12, 86400) == Attribute(12, b"\x01\x51\x80")
    assert Attribute(12, b"\x00\x01\x51\x80").as_int() == 86400


# --- malformed input -------------------------------------------------------------------------

M, BAD, SPI, PT = 16, 15, 11, 1  # PAYLOAD_MALFORMED, BAD_PROPOSAL_SYNTAX, INVALID_SPI, INVALID_PAYLOAD_TYPE
IC, RC = s.ICOOKIE, s.RCOOKIE
KEY_IKE_T = s.transform_body(1, 1, s.tv(1, 7))
ESP_T = s.transform_body(1, 12, s.tv(4, 1))


def _sa(*proposals: bytes, **kwargs) -> bytes:
    return s.message(IC, RC, 2, (s.SA, s.sa_body(*proposals, **kwargs)))


def _raw_sa(sa_contents: bytes) -> bytes:
    """An SA payload whose proposal bytes are given verbatim."""
    return s.message(IC, RC, 2, (s.SA, struct.pack("!II", 1, 1) + sa_contents))


def _generic(next_type: int, body: bytes, length: int | None = None) -> bytes:
    return struct.pack("!BBH", next_type, 0, 4 + len(body) if length is None else length) + body


def _with_count(proposal: bytes, count: int) -> bytes:
    """A proposal body whose transform count byte lies."""
    return proposal[:3] + bytes([count]) + proposal[4:]


_GOOD = s.MAIN_MR1
_TWO_VIDS = s.message(IC, RC, 2, (s.VID, b"a" * 8), (s.VID, b"b" * 8))

MALFORMED_MESSAGES = {
    "empty": (b"", M),
    "short header": (_GOOD[:27], M),
    "ikev2 major version": (s.header(IC, RC, 33, 34, b"", version=0x20), 5),
    "major version 0": (s.header(IC, RC, 0, 2, b"", version=0x00), 5),
    "header length too long": (_GOOD[:24] + struct.pack("!I", len(_GOOD) + 1) + _GOOD[28:], 30),
    "header length too short": (_GOOD[:24] + struct.pack("!I", len(_GOOD) - 1) + _GOOD[28:], 30),
    "datagram truncated": (_GOOD[:-1], 30),
    "extra byte after datagram": (_GOOD + b"\0", 30),
    "payload cut short": (s.header(IC, RC, s.VID, 2, _TWO_VIDS[28:-1]), M),
    "payload length below 4": (s.header(IC, RC, s.VID, 2, _generic(0, b"", 3)), M),
    "payload length overruns": (s.header(IC, RC, s.VID, 2, _generic(0, b"abc", 9)), M),
    "bytes after last payload": (s.header(IC, RC, s.VID, 2, _generic(0, b"abc") + b"xy"), M),
    "chain promises more": (s.header(IC, RC, s.VID, 2, _generic(s.NONCE, b"abc")), M),
    "proposal at top level": (s.message(IC, RC, 2, (s.P, b"1234")), PT),
    "transform at top level": (s.message(IC, RC, 2, (s.VID, b"v"), (s.T, b"1234")), PT),
    "unassigned payload type": (s.message(IC, RC, 2, (50, b"1234")), PT),
    "SA with another DOI": (_sa(s.proposal_body(1, 1, b"", KEY_IKE_T), doi=2), 2),
    "SA with secrecy situation": (_sa(s.proposal_body(1, 1, b"", KEY_IKE_T), situation=3), 3),
    "SA without proposals": (_sa(), BAD),
    "SA truncated fixed part": (s.message(IC, RC, 2, (s.SA, b"\0\0\0\1\0\0")), M),
    "proposal chained to transform type": (_raw_sa(_generic(
        s.T, bytes([1, 1, 0, 1]) + _generic(0, KEY_IKE_T))), BAD),
    "proposal chain promises another": (_raw_sa(_generic(
        s.P, bytes([1, 1, 0, 1]) + _generic(0, KEY_IKE_T))), BAD),
    "bytes after last proposal": (_raw_sa(_generic(
        0, bytes([1, 1, 0, 1]) + _generic(0, KEY_IKE_T)) + b"\0\0\0\0"), BAD),
    "transform count too high": (_raw_sa(_generic(
        0, bytes([1, 1, 0, 2]) + _generic(0, KEY_IKE_T))), BAD),
    "transform count too low": (_sa(_with_count(
        s.proposal_body(1, 1, b"", KEY_IKE_T, KEY_IKE_T), 1)), BAD),
    "proposal without transforms": (_raw_sa(_generic(0, bytes([1, 1, 0, 0]))), BAD),
    "transform chained to proposal type": (_raw_sa(_generic(
        0, bytes([1, 1, 0, 1]) + _generic(s.P, KEY_IKE_T))), BAD),
    "bytes after last transform": (_raw_sa(_generic(
        0, bytes([1, 1, 0, 1]) + _generic(0, KEY_IKE_T) + b"\0")), BAD),
    "proposal numbers go down": (_sa(s.proposal_body(2, 3, b"abcd", ESP_T),
                                     s.proposal_body(1, 3, b"abcd", ESP_T)), BAD),
    "proposal overruns SA": (_raw_sa(_generic(
        0, bytes([1, 1, 0, 1]) + _generic(0, KEY_IKE_T), 200)), M),
    "proposal length below 4": (_raw_sa(_generic(0, b"", 2)), M),
    "transform overruns proposal": (_raw_sa(_generic(
        0, bytes([1, 1, 0, 1]) + _generic(0, KEY_IKE_T, 60))), M),
    "transform fixed part truncated": (_raw_sa(_generic(
        0, bytes([1, 1, 0, 1]) + _generic(0, b"\x01\x01"))), M),
    "ESP SPI of 3 bytes": (_sa(s.proposal_body(1, 3, b"abc", ESP_T)), SPI),
    "ESP SPI missing": (_sa(s.proposal_body(1, 3, b"", ESP_T)), SPI),
    "ISAKMP SPI of 17 bytes": (_sa(s.proposal_body(1, 1, bytes(17), KEY_IKE_T)), SPI),
    "IPCOMP CPI of 3 bytes": (_sa(s.proposal_body(1, 4, b"abc", s.transform_body(1, 2))), SPI),
    "SPI runs past proposal": (_raw_sa(_generic(0, bytes([1, 3, 4, 1]) + b"ab")), M),
    "TLV attribute overruns": (_sa(s.proposal_body(1, 1, b"", s.transform_body(
        1, 1, s.tv(1, 7), struct.pack("!HH", 12, 8) + b"\0\0\0\0"))), M),
    "attribute header truncated": (_sa(s.proposal_body(1, 1, b"", s.transform_body(
        1, 1, s.tv(1, 7), b"\x80\x02"))), M),
}

MALFORMED_CONTENTS = {
    "proposal as first payload": ((s.P, b"\0\0\0\x04"), PT),
    "notify SPI runs past payload": ((s.N, _generic(0, struct.pack("!IBBH", 1, 3, 4, 1) + b"ab")),
                                     M),
    "notify ESP SPI of 8 bytes": ((s.N, _generic(0, s.notify_body(1, 3, bytes(8)))), SPI),
    "notify fixed part truncated": ((s.N, _generic(0, b"\0\0\0\1\3")), M),
    "delete count does not fill": ((s.D, _generic(0, struct.pack("!IBBH", 1, 3, 4, 3)
                                                  + bytes(8))), M),
    "delete ISAKMP SPI of 8 bytes": ((s.D, _generic(0, s.delete_body(1, bytes(8)))), SPI),
    "delete ESP SPI of 16 bytes": ((s.D, _generic(0, s.delete_body(3, bytes(16)))), SPI),
    "ID IPv4 address of 5 bytes": ((s.ID, _generic(0, s.id_body(1, bytes(5)))), 18),
    "ID IPv6 subnet of 16 bytes": ((s.ID, _generic(0, s.id_body(6, bytes(16)))), 18),
    "ID fixed part truncated": ((s.ID, _generic(0, b"\x01\x00")), M),
    "NAT-OA with an FQDN": ((s.NAT_OA, _generic(0, bytes([2, 0, 0, 0]) + b"host")), 18),
    "NAT-OA IPv4 of 16 bytes": ((s.NAT_OA_DRAFT, _generic(0, bytes([1, 0, 0, 0]) + bytes(16))),
                                M),
    "CERT without encoding": ((s.CERT, _generic(0, b"")), M),
    "ATTR header truncated": ((s.ATTR, _generic(0, b"\x01\x00")), M),
    "ATTR TLV overruns": ((s.ATTR, _generic(0, bytes([1, 0, 0, 1]) + struct.pack("!HH", 1, 4)
                                            + b"ab")), M),
}


@pytest.mark.parametrize("name", sorted(MALFORMED_MESSAGES))
def test_malformed_message(name):
    data, notify = MALFORMED_MESSAGES[name]
    with pytest.raises(MalformedMessage) as caught:
        parse_message(data)
    assert caught.value.notify == notify, caught.value.reason


@pytest.mark.parametrize("name", sorted(MALFORMED_CONTENTS))
def test_malformed_contents(name):
    (first, data), notify = MALFORMED_CONTENTS[name]
    with pytest.raises(MalformedMessage) as caught:
        parse_payloads(data, first)
    assert caught.value.notify == notify, caught.value.reason


def test_notify_data_of_rejections():
    with pytest.raises(MalformedMessage) as caught:
        parse_message(MALFORMED_MESSAGES["unassigned payload type"][0])
    assert caught.value.data == bytes([50])
    with pytest.raises(MalformedMessage) as caught:
        parse_message(MALFORMED_MESSAGES["SA with another DOI"][0])
    assert caught.value.data == bytes([0, 0, 0, 2])


def test_valid_spi_sizes_are_accepted():
    for protocol, spi in ((1, b""), (1, bytes(16)), (1, bytes(8)), (3, b"abcd"), (2, b"abcd"),
                          (4, b"ab"), (4, b"abcd"), (9, b"whatever")):
        msg = parse_message(_sa(s.proposal_body(1, protocol, spi, s.transform_body(1, 1))))
        assert msg.payloads[0].proposals[0].spi == spi


# --- debug output ------------------------------------------------------------------------------


def _lines(debug: str) -> CollectingLogger:
    return CollectingLogger(DebugFlags([debug]))


def test_parse_trace_of_one_notification_payload_exactly():
    logger = _lines("parsing")
    parse_payloads(HAND_NOTIFY, PayloadType.N, logger)
    assert logger.lines == [
        "| parse ISAKMP Notification Payload:",
        "|    next payload type: NONE (0)",
        "|    reserved: 0",
        "|    length: 32 (0x20)",
        "|    domain of interpretation: IPSEC (1)",
        "|    protocol ID: ISAKMP (1)",
        "|    SPI size: 16 (0x10)",
        "|    notify message type: R_U_THERE (36136)",
        "|    SPI: 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff",
        "|    notification data: 00 00 ab cd",
    ]


def test_trace_of_a_transform_with_attributes_exactly():
    logger = _lines("parsing")
    parse_message(HAND_MR1, logger)
    start = logger.lines.index("|       parse ISAKMP Transform Payload:")
    assert logger.lines[start:start + 12] == [
        "|       parse ISAKMP Transform Payload:",
        "|          next payload type: NONE (0)",
        "|          reserved: 0",
        "|          length: 40 (0x28)",
        "|          transform number: 1",
        "|          transform ID: KEY_IKE (1)",
        "|          reserved: 0",
        "|          parse ISAKMP Oakley attribute:",
        "|             af+type: AF+ENCRYPTION_ALGORITHM (0x8001)",
        "|             value: AES_CBC (7)",
        "|          parse ISAKMP Oakley attribute:",
        "|             af+type: AF+KEY_LENGTH (0x800e)",
    ]
    assert logger.lines[-6:] == [
        "|             value: 00 00 70 80 (28800)",
        "| parse ISAKMP Vendor ID Payload:",
        "|    next payload type: NONE (0)",
        "|    reserved: 0",
        "|    length: 20 (0x14)",
        "|    vendor ID: af ca d7 13 68 a1 f1 c9 6b 86 96 fc 77 57 01 00",
    ]


def test_key_exchange_and_passwords_are_secret_unless_private():
    ke = [KeyExchangePayload(bytes(range(132 - 4)))]
    logger = _lines("emitting")
    emit_payloads(ke, logger)
    assert logger.lines == [
        "| emit ISAKMP Key Exchange Payload:",
        "|    next payload type: NONE (0)",
        "|    reserved: 0",
        "|    length: 132 (0x84)",
        "|    key exchange data: <128 secret bytes>",
    ]
    private = CollectingLogger(DebugFlags(["emitting", "private"]))
    emit_payloads(ke, private)
    assert private.lines[-1].startswith("|    key exchange data: 00 01 02 03")
    logger = _lines("parsing")
    parse_payloads(s.XAUTH_REPLY_PLAINTEXT, PayloadType.HASH, logger)
    assert "|       value: <7 secret bytes>" in logger.lines
    assert "|       value: 'road'" in logger.lines
    assert not any("68 75 6e 74" in line for line in logger.lines)  # "hunt"


@pytest.mark.parametrize("name", sorted(s.MESSAGES))
def test_emit_trace_mirrors_parse_trace(name):
    parsed, emitted = _lines("parsing"), _lines("emitting")
    msg = parse_message(s.MESSAGES[name], parsed)
    emit_message(msg, emitted)
    assert [line.replace(" emit ", " parse ") for line in emitted.lines] == parsed.lines


def test_nothing_is_traced_when_the_classes_are_off(monkeypatch):
    def boom(*_args):
        raise AssertionError("debug output computed with the class off")

    monkeypatch.setattr(Trace, "title", boom)
    monkeypatch.setattr(Trace, "line", boom)
    quiet = CollectingLogger(DebugFlags(["base", "private"]))
    for data in s.MESSAGES.values():
        emit_message(parse_message(data, quiet), quiet)
    for first, data in s.CONTENTS.values():
        emit_payloads(parse_payloads(data, first, quiet)[0], quiet)
    assert quiet.lines == []
