"""Realistic IKEv2 messages shared by the codec, scapy, fuzz and impair tests.

Values that are random on the wire (SPIs, nonces, KE data, ciphertext) come from a seeded
generator, so every run builds the same bytes. Addresses are from the lab plan (DESIGN.md §10).
"""

from __future__ import annotations

import random

from pluto.packet.ikev2 import (
    AuthPayload,
    CertPayload,
    CertReqPayload,
    CfgAttribute,
    CPPayload,
    DeletePayload,
    EAPPayload,
    IDiPayload,
    IDrPayload,
    KEPayload,
    Message,
    NoncePayload,
    NotifyPayload,
    Payload,
    Proposal,
    RawTrafficSelector,
    SAPayload,
    SKFPayload,
    SKPayload,
    TrafficSelector,
    Transform,
    TransformAttribute,
    TSiPayload,
    TSrPayload,
    UnknownPayload,
    VendorIDPayload,
)
from pluto.packet.ikev2_types import (
    AuthMethod,
    CertEncoding,
    CfgAttr,
    CfgType,
    DhId,
    EapCode,
    EncrId,
    EsnId,
    ExchangeType,
    HeaderFlag,
    IdType,
    IntegId,
    NotifyType,
    PayloadType,
    PrfId,
    ProtocolId,
    TransformType,
)

T = TransformType


def _bytes(seed: int, n: int) -> bytes:
    return random.Random(seed).randbytes(n)


ISPI = _bytes(1, 8)
RSPI = _bytes(2, 8)


def encr(encr_id: int, bits: int | None = None) -> Transform:
    attrs = [TransformAttribute.key_length(bits)] if bits is not None else []
    return Transform(T.ENCR, encr_id, attrs)


def ike_proposals() -> list[Proposal]:
    return [
        Proposal(1, ProtocolId.IKE, [
            encr(EncrId.AES_GCM_16, 256), Transform(T.PRF, PrfId.HMAC_SHA2_512),
            Transform(T.PRF, PrfId.HMAC_SHA2_256), Transform(T.DH, DhId.CURVE25519),
            Transform(T.DH, DhId.ECP_256),
        ]),
        Proposal(2, ProtocolId.IKE, [
            encr(EncrId.AES_CBC, 256), encr(EncrId.AES_CBC, 128),
            Transform(T.PRF, PrfId.HMAC_SHA2_256), Transform(T.INTEG, IntegId.HMAC_SHA2_256_128),
            Transform(T.DH, DhId.MODP2048),
        ]),
        Proposal(3, ProtocolId.IKE, [
            encr(EncrId.CHACHA20_POLY1305), Transform(T.PRF, PrfId.HMAC_SHA2_256),
            Transform(T.DH, DhId.CURVE25519),
        ]),
    ]


def esp_proposals(spi: bytes = b"\xc0\x01\x02\x03") -> list[Proposal]:
    return [
        Proposal(1, ProtocolId.ESP, [
            encr(EncrId.AES_GCM_16, 256), Transform(T.ESN, EsnId.NO_ESN),
        ], spi),
        Proposal(2, ProtocolId.ESP, [
            encr(EncrId.AES_CBC, 128), Transform(T.INTEG, IntegId.HMAC_SHA2_512_256),
            Transform(T.ESN, EsnId.ESN), Transform(T.ESN, EsnId.NO_ESN),
        ], spi),
    ]


def ike_sa_init_request() -> Message:
    return Message(ISPI, bytes(8), ExchangeType.IKE_SA_INIT, HeaderFlag.INITIATOR, 0, [
        SAPayload(ike_proposals()),
        KEPayload(DhId.CURVE25519, _bytes(3, 32)),
        NoncePayload(_bytes(4, 32)),
        NotifyPayload(NotifyType.NAT_DETECTION_SOURCE_IP, _bytes(5, 20)),
        NotifyPayload(NotifyType.NAT_DETECTION_DESTINATION_IP, _bytes(6, 20)),
        NotifyPayload(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED),
        NotifyPayload(NotifyType.SIGNATURE_HASH_ALGORITHMS, bytes.fromhex("0002000300040005")),
        VendorIDPayload(b"OE-Libreswan-5"),
    ])


def ike_sa_init_response() -> Message:
    chosen = Proposal(1, ProtocolId.IKE, [
        encr(EncrId.AES_GCM_16, 256), Transform(T.PRF, PrfId.HMAC_SHA2_512),
        Transform(T.DH, DhId.CURVE25519),
    ])
    return Message(ISPI, RSPI, ExchangeType.IKE_SA_INIT, HeaderFlag.RESPONSE, 0, [
        SAPayload([chosen]),
        KEPayload(DhId.CURVE25519, _bytes(7, 32)),
        NoncePayload(_bytes(8, 32)),
        NotifyPayload(NotifyType.NAT_DETECTION_SOURCE_IP, _bytes(9, 20)),
        NotifyPayload(NotifyType.NAT_DETECTION_DESTINATION_IP, _bytes(10, 20)),
        CertReqPayload(CertEncoding.X509_SIGNATURE, _bytes(11, 40)),
        NotifyPayload(NotifyType.CHILDLESS_IKEV2_SUPPORTED),
    ])


def invalid_ke_response() -> Message:
    return Message(ISPI, bytes(8), ExchangeType.IKE_SA_INIT, HeaderFlag.RESPONSE, 0, [
        NotifyPayload(NotifyType.INVALID_KE_PAYLOAD, b"\x00\x13"),
    ])


def ike_auth_inner_request() -> list[Payload]:
    """The plaintext payloads of an IKE_AUTH request (inside SK)."""
    return [
        IDiPayload(IdType.ID_FQDN, b"west.example"),
        CertPayload(CertEncoding.X509_SIGNATURE, _bytes(12, 300)),
        CertReqPayload(CertEncoding.X509_SIGNATURE, _bytes(13, 20)),
        NotifyPayload(NotifyType.INITIAL_CONTACT),
        IDrPayload(IdType.ID_IPV4_ADDR, bytes([198, 51, 100, 23])),
        AuthPayload(AuthMethod.DIGITAL_SIGNATURE, _bytes(14, 80)),
        CPPayload(CfgType.CFG_REQUEST, [
            CfgAttribute(CfgAttr.INTERNAL_IP4_ADDRESS), CfgAttribute(CfgAttr.INTERNAL_IP4_DNS),
            CfgAttribute(CfgAttr.INTERNAL_IP6_ADDRESS),
        ]),
        NotifyPayload(NotifyType.USE_TRANSPORT_MODE),
        SAPayload(esp_proposals()),
        TSiPayload([TrafficSelector.ipv4("198.18.1.0", "198.18.1.255"),
                    TrafficSelector.ipv6("2001:db8:0:1::", "2001:db8:0:1:ffff:ffff:ffff:ffff",
                                         6, (443, 443))]),
        TSrPayload([TrafficSelector.ipv4("198.18.2.0", "198.18.2.255", 17, (500, 4500)),
                    TrafficSelector.ipv6("2001:db8:0:2::", "2001:db8:0:2::ffff")]),
        NotifyPayload(NotifyType.ESP_TFC_PADDING_NOT_SUPPORTED),
        NotifyPayload(NotifyType.NON_FIRST_FRAGMENTS_ALSO),
        NotifyPayload(NotifyType.MOBIKE_SUPPORTED),
    ]


def ike_auth_inner_response() -> list[Payload]:
    return [
        IDrPayload(IdType.ID_FQDN, b"east.example"),
        AuthPayload(AuthMethod.PSK, _bytes(15, 64)),
        CPPayload(CfgType.CFG_REPLY, [
            CfgAttribute(CfgAttr.INTERNAL_IP4_ADDRESS, bytes([198, 18, 3, 7])),
            CfgAttribute(CfgAttr.INTERNAL_IP4_DNS, bytes([198, 18, 3, 254])),
        ]),
        SAPayload([Proposal(2, ProtocolId.ESP, esp_proposals()[1].transforms[:3],
                            b"\xc0\x0a\x0b\x0c")]),
        TSiPayload([TrafficSelector.ipv4("198.18.3.7", "198.18.3.7")]),
        TSrPayload([TrafficSelector.ipv4("0.0.0.0", "255.255.255.255"),
                    RawTrafficSelector(10, b"\x00system_u:object_r:ipsec_spd_t:s0\x00")]),
    ]


def ike_auth_request() -> Message:
    return Message(ISPI, RSPI, ExchangeType.IKE_AUTH, HeaderFlag.INITIATOR, 1, [
        SKPayload(PayloadType.IDi, _bytes(16, 16 + 320 + 16)),
    ])


def ike_auth_fragment(number: int, total: int) -> Message:
    inner = PayloadType.IDi if number == 1 else PayloadType.NONE
    return Message(ISPI, RSPI, ExchangeType.IKE_AUTH, HeaderFlag.INITIATOR, 1, [
        SKFPayload(inner, number, total, _bytes(100 + number, 8 + 200 + 16)),
    ])


def eap_request() -> Message:
    return Message(ISPI, RSPI, ExchangeType.IKE_AUTH, HeaderFlag.RESPONSE, 1, [
        IDrPayload(IdType.ID_FQDN, b"east.example"),
        EAPPayload(EapCode.REQUEST, 7, b"\x01"),  # EAP-Identity request
        EAPPayload(EapCode.SUCCESS, 8),
    ])


def create_child_sa_inner() -> list[Payload]:
    """Rekey of a Child SA: N(REKEY_SA) with SPI, SA, Ni, KE, TSi, TSr."""
    return [
        NotifyPayload(NotifyType.REKEY_SA, protocol=ProtocolId.ESP, spi=b"\xc0\x01\x02\x03"),
        SAPayload(esp_proposals(b"\xc1\x11\x22\x33")),
        NoncePayload(_bytes(17, 32)),
        KEPayload(DhId.ECP_256, _bytes(18, 64)),
        TSiPayload([TrafficSelector.ipv4("198.18.1.0", "198.18.1.255")]),
        TSrPayload([TrafficSelector.ipv4("198.18.2.0", "198.18.2.255")]),
    ]


def rekey_ike_inner() -> list[Payload]:
    """Rekey of the IKE SA: the new SPI sits in the proposal (8 bytes)."""
    proposal = ike_proposals()[0]
    proposal.spi = _bytes(19, 8)
    return [SAPayload([proposal]), NoncePayload(_bytes(20, 32)),
            KEPayload(DhId.CURVE25519, _bytes(21, 32))]


def informational_delete_inner() -> list[Payload]:
    return [
        DeletePayload(ProtocolId.ESP, [b"\xc0\x01\x02\x03", b"\xc0\x0a\x0b\x0c"]),
        DeletePayload(ProtocolId.IKE),
    ]


def informational_cleartext() -> Message:
    """An unprotected INFORMATIONAL, with a payload type from the future (kept raw)."""
    return Message(ISPI, RSPI, ExchangeType.INFORMATIONAL, HeaderFlag.RESPONSE, 5, [
        NotifyPayload(NotifyType.INVALID_IKE_SPI),
        UnknownPayload(payload_type=200, body=b"from the future"),
        DeletePayload(ProtocolId.ESP, [b"\xc0\x01\x02\x03"]),
    ])


def all_messages() -> dict[str, Message]:
    return {
        "ike_sa_init_request": ike_sa_init_request(),
        "ike_sa_init_response": ike_sa_init_response(),
        "invalid_ke_response": invalid_ke_response(),
        "ike_auth_request": ike_auth_request(),
        "ike_auth_fragment_1": ike_auth_fragment(1, 3),
        "ike_auth_fragment_3": ike_auth_fragment(3, 3),
        "eap_request": eap_request(),
        "informational_cleartext": informational_cleartext(),
    }


def all_inner_chains() -> dict[str, list[Payload]]:
    return {
        "ike_auth_request": ike_auth_inner_request(),
        "ike_auth_response": ike_auth_inner_response(),
        "create_child_sa": create_child_sa_inner(),
        "rekey_ike": rekey_ike_inner(),
        "informational_delete": informational_delete_inner(),
    }
