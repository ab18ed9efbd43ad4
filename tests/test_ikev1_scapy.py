"""Cross-check of the IKEv1 codec with scapy's independent ISAKMP layer (scapy.layers.isakmp).

What scapy knows: the header, SA/proposal/transform (with Oakley and IPsec attribute names), KE,
ID, HASH, SIG, NONCE, N, D and VID. It has no CERT, CR, ATTR, NAT-D or NAT-OA layer: those
dissect as its generic payload, so for them we compare the generic header and the raw body.

Known scapy defect: a proposal's transforms are given ``length - 8`` bytes, ignoring the SPI, so
for a proposal with an SPI (every phase 2 proposal) scapy swallows SPI-size bytes of whatever
follows and mis-dissects later proposals. We compare only the first proposal of such SAs.
"""

from __future__ import annotations

import ipaddress

import ikev1_samples as s
import pytest
from scapy.layers.isakmp import (
    ISAKMP,
    ISAKMP_payload,
    ISAKMP_payload_Delete,
    ISAKMP_payload_Hash,
    ISAKMP_payload_ID,
    ISAKMP_payload_KE,
    ISAKMP_payload_Nonce,
    ISAKMP_payload_Notify,
    ISAKMP_payload_Proposal,
    ISAKMP_payload_SA,
    ISAKMP_payload_SIG,
    ISAKMP_payload_Transform,
    ISAKMP_payload_VendorID,
    ISAKMPTransformSetField,
)
from scapy.packet import NoPayload, Raw

from pluto.packet.ikev1 import (
    Attribute,
    DeletePayload,
    HashPayload,
    IdentificationPayload,
    KeyExchangePayload,
    Message,
    NoncePayload,
    NotificationPayload,
    Payload,
    Proposal,
    SecurityAssociationPayload,
    SignaturePayload,
    Transform,
    VendorIdPayload,
    emit_message,
    emit_payloads,
    parse_message,
)
from pluto.packet.ikev1_types import (
    EspTransformId,
    IdType,
    IPsecAttribute,
    NotifyType,
    OakleyAttribute,
    ProtocolId,
)

SCAPY_LAYER = {
    SecurityAssociationPayload: ISAKMP_payload_SA,
    KeyExchangePayload: ISAKMP_payload_KE,
    IdentificationPayload: ISAKMP_payload_ID,
    HashPayload: ISAKMP_payload_Hash,
    SignaturePayload: ISAKMP_payload_SIG,
    NoncePayload: ISAKMP_payload_Nonce,
    NotificationPayload: ISAKMP_payload_Notify,
    DeletePayload: ISAKMP_payload_Delete,
    VendorIdPayload: ISAKMP_payload_VendorID,
}


def _layers(first):
    """scapy's payload chain: each layer's ``.payload`` is the next payload."""
    layer = first
    while not isinstance(layer, NoPayload | Raw):
        yield layer
        layer = layer.payload


# every sample as a clear message scapy can read (decrypted contents get a clear header)
CLEAR = {**s.MESSAGES, **s.clear_messages()}


def _check_header(ours: Message, theirs: ISAKMP, wire: bytes) -> None:
    assert theirs.init_cookie == ours.icookie and theirs.resp_cookie == ours.rcookie
    assert theirs.version == ours.major << 4 | ours.minor
    assert (theirs.exch_type, int(theirs.flags), theirs.id, theirs.length) == (
        ours.exchange, ours.flags, ours.message_id, len(wire))
    expected_first = ours.payloads[0].payload_type if ours.payloads else (
        ours.encrypted.first_payload if ours.encrypted else 0)
    assert theirs.next_payload == expected_first


def _scapy_attributes(attributes: list[Attribute], protocol: int) -> list[tuple]:
    """Our attributes in scapy's own (name, value) spelling, via scapy's number->name table."""
    return [ISAKMPTransformSetField.num2type(a.type, a.as_int(), proto=protocol)
            for a in attributes]


def _check_proposal(ours: Proposal, theirs: ISAKMP_payload_Proposal) -> None:
    assert (theirs.proposal, theirs.proto, theirs.SPIsize, theirs.trans_nb, theirs.SPI) == (
        ours.number, ours.protocol, len(ours.spi), len(ours.transforms), ours.spi)
    scapy_transforms = list(_layers(theirs.trans))
    assert len(scapy_transforms) == len(ours.transforms)
    for transform, theirs_t in zip(ours.transforms, scapy_transforms, strict=True):
        assert isinstance(theirs_t, ISAKMP_payload_Transform)
        assert (theirs_t.transform_count, theirs_t.transform_id, theirs_t.res2) == (
            transform.number, transform.transform_id, transform.reserved2)
        assert theirs_t.transforms == _scapy_attributes(transform.attributes, ours.protocol)


def _check_payload(ours: Payload, theirs, body: bytes) -> None:
    expected_layer = SCAPY_LAYER.get(type(ours), ISAKMP_payload)
    assert type(theirs) is expected_layer, (type(ours), type(theirs))
    assert (theirs.res, theirs.length) == (ours.reserved, 4 + len(body))
    if isinstance(ours, SecurityAssociationPayload):
        assert (theirs.doi, theirs.situation) == (ours.doi, ours.situation)
        proposals = list(_layers(theirs.prop))
        if any(p.spi for p in ours.proposals):
            proposals = proposals[:1]  # scapy ignores the SPI when sizing transforms
        else:
            assert len(proposals) == len(ours.proposals)
        for proposal, theirs_p in zip(ours.proposals, proposals, strict=False):
            _check_proposal(proposal, theirs_p)
    elif isinstance(ours, KeyExchangePayload):
        assert theirs.ke == ours.data
    elif isinstance(ours, IdentificationPayload):
        assert (theirs.IDtype, theirs.ProtoID, theirs.Port) == (
            ours.id_type, ours.protocol, ours.port)
        if ours.id_type == IdType.IPV4_ADDR:
            assert theirs.IdentData == str(ipaddress.ip_address(ours.data))
        else:
            assert theirs.IdentData == ours.data
    elif isinstance(ours, HashPayload):
        assert theirs.hash == ours.data
    elif isinstance(ours, SignaturePayload):
        assert theirs.sig == ours.data
    elif isinstance(ours, NoncePayload):
        assert theirs.nonce == ours.data
    elif isinstance(ours, NotificationPayload):
        assert (theirs.doi, theirs.proto, theirs.SPIsize, theirs.notify_msg_type) == (
            ours.doi, ours.protocol, len(ours.spi), ours.notify_type)
        assert (theirs.SPI, theirs.notify_data) == (ours.spi, ours.data)
    elif isinstance(ours, DeletePayload):
        assert (theirs.doi, theirs.proto, theirs.SPIsize, theirs.SPIcount) == (
            ours.doi, ours.protocol, ours.spi_size, len(ours.spis))
        assert theirs.SPIs == ours.spis
    elif isinstance(ours, VendorIdPayload):
        assert theirs.VendorID == ours.data
    else:
        # CERT, CR, ATTR, NAT-D, NAT-OA, unknown: scapy's generic payload keeps the raw body.
        assert theirs.load == body


@pytest.mark.parametrize("name", sorted(CLEAR))
def test_scapy_dissects_what_we_emit(name):
    ours = parse_message(CLEAR[name])
    wire = emit_message(ours)
    theirs = ISAKMP(wire)
    _check_header(ours, theirs, wire)
    if ours.encrypted is not None:
        assert bytes(theirs.payload) == ours.encrypted.data  # scapy keeps it raw, like us
        return
    layers = list(_layers(theirs.payload))
    assert len(layers) == len(ours.payloads)
    for i, (payload, layer) in enumerate(zip(ours.payloads, layers, strict=True)):
        following = ours.payloads[i + 1].payload_type if i + 1 < len(ours.payloads) else 0
        assert layer.next_payload == following
        _check_payload(payload, layer, emit_payloads([payload])[1][4:])


def test_scapy_built_main_mode_parses_in_ours():
    transforms = (
        ISAKMP_payload_Transform(transform_count=1, transform_id=1, transforms=[
            ("Encryption", "AES-CBC"), ("KeyLength", 256), ("Hash", "SHA2-256"),
            ("Authentication", "PSK"), ("GroupDesc", "2048MODPgr"), ("LifeType", "Seconds"),
            ("LifeDuration", 86400)])
        / ISAKMP_payload_Transform(transform_count=2, transform_id=1, transforms=[
            ("Encryption", "3DES-CBC"), ("Hash", "SHA"), ("Authentication", "RSA Sig"),
            ("GroupDesc", "1536MODPgr")]))
    packet = (
        ISAKMP(init_cookie=s.ICOOKIE, resp_cookie=bytes(8), exch_type=2)
        / ISAKMP_payload_SA(prop=ISAKMP_payload_Proposal(proposal=1, proto=1, trans_nb=2,
                                                         trans=transforms))
        / ISAKMP_payload_VendorID(VendorID=s.VID_RFC3947)
        / ISAKMP_payload_KE(ke=b"\x01" * 128)
        / ISAKMP_payload_Nonce(nonce=b"\x02" * 20))
    wire = bytes(packet)
    msg = parse_message(wire)
    assert (msg.icookie, msg.exchange, msg.major, msg.minor) == (s.ICOOKIE, 2, 1, 0)
    sa, vid, ke, nonce = msg.payloads
    assert sa.proposals == [Proposal(1, ProtocolId.ISAKMP, [
        Transform(1, 1, [Attribute(OakleyAttribute.ENCRYPTION_ALGORITHM, 7),
                         Attribute(OakleyAttribute.KEY_LENGTH, 256),
                         Attribute(OakleyAttribute.HASH_ALGORITHM, 4),
                         Attribute(OakleyAttribute.AUTHENTICATION_METHOD, 1),
                         Attribute(OakleyAttribute.GROUP_DESCRIPTION, 14),
                         Attribute(OakleyAttribute.LIFE_TYPE, 1),
                         Attribute.number(OakleyAttribute.LIFE_DURATION, 86400)]),
        Transform(2, 1, [Attribute(OakleyAttribute.ENCRYPTION_ALGORITHM, 5),
                         Attribute(OakleyAttribute.HASH_ALGORITHM, 2),
                         Attribute(OakleyAttribute.AUTHENTICATION_METHOD, 3),
                         Attribute(OakleyAttribute.GROUP_DESCRIPTION, 5)])])]
    assert (vid.data, ke.data, nonce.data) == (s.VID_RFC3947, b"\x01" * 128, b"\x02" * 20)
    assert emit_message(msg) == wire


def test_scapy_built_quick_mode_and_informational_parse_in_ours():
    esp = ISAKMP_payload_Proposal(
        proposal=1, proto=3, SPI=b"\xc0\xff\xee\x01", trans_nb=1,
        trans=ISAKMP_payload_Transform(transform_count=1, transform_id=12, transforms=[
            ("LifeType", "seconds"), ("LifeDuration", 28800),
            ("EncapsulationMode", "UDP-Encapsulated-Tunnel"),
            ("AuthenticationAlgorithm", "HMAC-SHA2-256"), ("KeyLength", 128)]))
    packet = (
        ISAKMP(init_cookie=s.ICOOKIE, resp_cookie=s.RCOOKIE, exch_type=32, id=0x01020304)
        / ISAKMP_payload_Hash(hash=b"\x03" * 20)
        / ISAKMP_payload_SA(prop=esp)
        / ISAKMP_payload_ID(IDtype=1, ProtoID=17, Port=500, IdentData="198.51.100.45")
        / ISAKMP_payload_SIG(sig=b"\x04" * 64)
        / ISAKMP_payload_Notify(doi=1, proto=1, notify_msg_type=36136,
                                SPI=s.ICOOKIE + s.RCOOKIE, notify_data=b"\x00\x00\x00\x07")
        / ISAKMP_payload_Delete(doi=1, proto=3, SPIs=[b"\xc0\xff\xee\x01", b"\xc0\xff\xee\x02"]))
    wire = bytes(packet)
    msg = parse_message(wire)
    assert (msg.exchange, msg.message_id) == (32, 0x01020304)
    hash_, sa, ident, sig, notify, delete = msg.payloads
    assert hash_.data == b"\x03" * 20 and sig.data == b"\x04" * 64
    (proposal,) = sa.proposals
    assert (proposal.protocol, proposal.spi) == (ProtocolId.IPSEC_ESP, b"\xc0\xff\xee\x01")
    (transform,) = proposal.transforms
    assert transform.transform_id == EspTransformId.ESP_AES
    assert [(a.type, a.as_int()) for a in transform.attributes] == [
        (IPsecAttribute.SA_LIFE_TYPE, 1), (IPsecAttribute.SA_LIFE_DURATION, 28800),
        (IPsecAttribute.ENCAPSULATION_MODE, 3), (IPsecAttribute.AUTHENTICATION_ALGORITHM, 5),
        (IPsecAttribute.KEY_LENGTH, 128)]
    assert ident.network() == ipaddress.ip_network("198.51.100.45/32")
    assert (ident.protocol, ident.port) == (17, 500)
    assert notify == NotificationPayload(NotifyType.R_U_THERE, ProtocolId.ISAKMP,
                                         s.ICOOKIE + s.RCOOKIE, b"\x00\x00\x00\x07")
    assert delete == DeletePayload(ProtocolId.IPSEC_ESP, [b"\xc0\xff\xee\x01",
                                                          b"\xc0\xff\xee\x02"])
    assert emit_message(msg) == wire
