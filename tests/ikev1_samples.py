"""Realistic IKEv1 messages as bytes, assembled straight from the RFC 2408/2407/3947 layouts.

These builders are deliberately independent of pluto.packet.ikev1 (a handful of struct.pack
calls), so the codec tests compare the codec against the RFC layouts, not against itself.
Filler values (cookies, KE values, nonces, hashes) come from a seeded generator.
"""

from __future__ import annotations

import random
import struct

# Payload numbers (RFC 2408 3.1, RFC 3947) and other registry values used below, spelled out
# here rather than imported so that a wrong enum in the codec would show up as a failure.
SA, P, T, KE, ID, CERT, CR, HASH, SIG, NONCE, N, D, VID, ATTR = range(1, 15)
NAT_D, NAT_OA, NAT_D_DRAFT, NAT_OA_DRAFT = 20, 21, 130, 131
MAIN, AGGRESSIVE, INFORMATIONAL, TRANSACTION, QUICK = 2, 4, 5, 6, 32
PROTO_ISAKMP, PROTO_AH, PROTO_ESP, PROTO_IPCOMP = 1, 2, 3, 4

# Vendor IDs: MD5 of the strings the RFCs and drafts name (checked in the tests).
VID_RFC3947 = bytes.fromhex("4a131c81070358455c5728f20e95452f")
VID_NATT_DRAFT_02N = bytes.fromhex("90cb80913ebb696e086381b5ec427b1f")
VID_DPD = bytes.fromhex("afcad71368a1f1c96b8696fc77570100")
VID_XAUTH = bytes.fromhex("09002689dfd6b712")

_rng = random.Random(0x15A4B)
ICOOKIE = _rng.randbytes(8)
RCOOKIE = _rng.randbytes(8)
ZERO_COOKIE = bytes(8)


def filler(n: int) -> bytes:
    return _rng.randbytes(n)


def header(icookie: bytes, rcookie: bytes, first: int, exchange: int, body: bytes,
           flags: int = 0, message_id: int = 0, version: int = 0x10) -> bytes:
    """RFC 2408 3.1: cookies, next payload, version, exchange, flags, message ID, length."""
    return (icookie + rcookie + bytes([first, version, exchange, flags])
            + struct.pack("!II", message_id, 28 + len(body)) + body)


def chain(*items: tuple[int, bytes]) -> tuple[int, bytes]:
    """Payload bodies chained with generic headers (RFC 2408 3.2); returns (first, bytes)."""
    out = b""
    for i, (_, body) in enumerate(items):
        following = items[i + 1][0] if i + 1 < len(items) else 0
        out += struct.pack("!BBH", following, 0, 4 + len(body)) + body
    return (items[0][0] if items else 0), out


def message(icookie: bytes, rcookie: bytes, exchange: int, *items: tuple[int, bytes],
            flags: int = 0, message_id: int = 0) -> bytes:
    first, body = chain(*items)
    return header(icookie, rcookie, first, exchange, body, flags, message_id)


def tv(attribute_type: int, value: int) -> bytes:
    """A basic attribute: AF bit set, 15-bit type, 16-bit value (RFC 2408 3.3)."""
    return struct.pack("!HH", 0x8000 | attribute_type, value)


def tlv(attribute_type: int, value: bytes) -> bytes:
    return struct.pack("!HH", attribute_type, len(value)) + value


def transform_body(number: int, transform_id: int, *attributes: bytes) -> bytes:
    """RFC 2408 3.6: number, ID, two reserved bytes, attributes."""
    return bytes([number, transform_id, 0, 0]) + b"".join(attributes)


def proposal_body(number: int, protocol: int, spi: bytes, *transforms: bytes) -> bytes:
    """RFC 2408 3.5: number, protocol, SPI size, transform count, SPI, transforms (chained)."""
    _, chained = chain(*((T, t) for t in transforms))
    return bytes([number, protocol, len(spi), len(transforms)]) + spi + chained


def sa_body(*proposals: bytes, doi: int = 1, situation: int = 1) -> bytes:
    _, chained = chain(*((P, p) for p in proposals))
    return struct.pack("!II", doi, situation) + chained


def id_body(id_type: int, data: bytes, protocol: int = 0, port: int = 0) -> bytes:
    return struct.pack("!BBH", id_type, protocol, port) + data


def notify_body(notify_type: int, protocol: int = PROTO_ISAKMP, spi: bytes = b"",
                data: bytes = b"", doi: int = 1) -> bytes:
    return struct.pack("!IBBH", doi, protocol, len(spi), notify_type) + spi + data


def delete_body(protocol: int, *spis: bytes, doi: int = 1) -> bytes:
    size = len(spis[0]) if spis else 0
    return struct.pack("!IBBH", doi, protocol, size, len(spis)) + b"".join(spis)


def attr_body(cfg_type: int, identifier: int, *attributes: bytes) -> bytes:
    return struct.pack("!BBH", cfg_type, 0, identifier) + b"".join(attributes)


def ipv4(text: str) -> bytes:
    return bytes(int(part) for part in text.split("."))


# Oakley attribute classes and values (RFC 2409 appendix A) used by the samples.
ENC, HASH_ALG, AUTH, GROUP, LIFE_TYPE, LIFE_DURATION, KEY_LENGTH = 1, 2, 3, 4, 11, 12, 14
AES_CBC, DES3_CBC, SHA1, SHA2_256, SHA2_512 = 7, 5, 2, 4, 6
PSK, RSA_SIG, XAUTH_INIT_PSK, MODP1536, MODP2048, ECP_256 = 1, 3, 65001, 5, 14, 19

# IPsec DOI attribute classes (RFC 2407 4.5).
SA_LIFE_TYPE, SA_LIFE_DURATION, GROUP_DESC, ENCAP, AUTH_ALG, KEY_LEN = 1, 2, 3, 4, 5, 6
ESP_3DES, ESP_AES, ESP_AES_GCM_16, AH_SHA = 3, 12, 20, 3
ENCAP_TUNNEL, ENCAP_UDP_TUNNEL, ENCAP_UDP_TRANSPORT_DRAFT = 1, 3, 61444
HMAC_SHA1, HMAC_SHA2_256 = 2, 5


def _phase1_sa(*transforms: bytes) -> bytes:
    return sa_body(proposal_body(1, PROTO_ISAKMP, b"", *transforms))


MI1_TRANSFORMS = (
    transform_body(1, 1, tv(ENC, AES_CBC), tv(KEY_LENGTH, 256), tv(HASH_ALG, SHA2_256),
                   tv(AUTH, PSK), tv(GROUP, MODP2048), tv(LIFE_TYPE, 1),
                   tlv(LIFE_DURATION, struct.pack("!I", 28800))),
    transform_body(2, 1, tv(ENC, AES_CBC), tv(KEY_LENGTH, 128), tv(HASH_ALG, SHA1),
                   tv(AUTH, XAUTH_INIT_PSK), tv(GROUP, MODP2048), tv(LIFE_TYPE, 1),
                   tv(LIFE_DURATION, 3600)),
    transform_body(3, 1, tv(ENC, DES3_CBC), tv(HASH_ALG, SHA1), tv(AUTH, PSK),
                   tv(GROUP, MODP1536)),
    transform_body(4, 1, tv(ENC, AES_CBC), tv(KEY_LENGTH, 256), tv(HASH_ALG, SHA2_512),
                   tv(AUTH, RSA_SIG), tv(GROUP, ECP_256), tv(LIFE_TYPE, 2),
                   tlv(LIFE_DURATION, b"\x01\x00\x00")),
)

MAIN_MI1 = message(
    ICOOKIE, ZERO_COOKIE, MAIN,
    (SA, _phase1_sa(*MI1_TRANSFORMS)),
    (VID, VID_RFC3947), (VID, VID_NATT_DRAFT_02N), (VID, VID_DPD), (VID, VID_XAUTH))

MAIN_MR1 = message(
    ICOOKIE, RCOOKIE, MAIN,
    (SA, _phase1_sa(MI1_TRANSFORMS[0])), (VID, VID_RFC3947), (VID, VID_DPD))

MAIN_MI2 = message(
    ICOOKIE, RCOOKIE, MAIN,
    (KE, filler(256)), (NONCE, filler(32)), (NAT_D, filler(32)), (NAT_D, filler(32)))

DN_EAST = bytes.fromhex("3031310b3009060355040613025858310f300d060355040a0c064c696272")
MAIN_MR2 = message(
    ICOOKIE, RCOOKIE, MAIN,
    (KE, filler(256)), (NONCE, filler(32)), (CR, bytes([4]) + DN_EAST),
    (NAT_D_DRAFT, filler(20)), (NAT_D_DRAFT, filler(20)))

# Main Mode message 5 contents (before encryption), signature and PSK flavours, with padding.
MI3_RSA_FIRST, MI3_RSA_BODY = chain(
    (ID, id_body(9, DN_EAST)),
    (CERT, bytes([4]) + filler(300)),
    (SIG, filler(256)),
    (N, notify_body(24578, PROTO_ISAKMP, ICOOKIE + RCOOKIE)))
MI3_RSA_PADDING = bytes(12)
MI3_RSA_PLAINTEXT = MI3_RSA_BODY + MI3_RSA_PADDING

MI3_PSK_FIRST, MI3_PSK_PLAINTEXT = chain(
    (ID, id_body(1, ipv4("198.51.100.45"), 17, 500)),
    (HASH, filler(32)))

MAIN_MI3_ENCRYPTED = header(ICOOKIE, RCOOKIE, ID, MAIN, filler(96), flags=0x01)

AGGR_AI1 = message(
    ICOOKIE, ZERO_COOKIE, AGGRESSIVE,
    (SA, _phase1_sa(MI1_TRANSFORMS[1])), (KE, filler(256)), (NONCE, filler(16)),
    (ID, id_body(3, b"road@example.net", 17, 500)),
    (VID, VID_XAUTH), (VID, VID_RFC3947), (VID, VID_DPD))

AGGR_AR1 = message(
    ICOOKIE, RCOOKIE, AGGRESSIVE,
    (SA, _phase1_sa(MI1_TRANSFORMS[1])), (KE, filler(256)), (NONCE, filler(16)),
    (ID, id_body(2, b"east.example.net", 17, 500)), (HASH, filler(20)),
    (VID, VID_RFC3947), (NAT_D, filler(20)), (NAT_D, filler(20)))

ESP_SPI = bytes.fromhex("c0ffee01")
QUICK_SA = sa_body(
    proposal_body(
        1, PROTO_ESP, ESP_SPI,
        transform_body(1, ESP_AES, tv(SA_LIFE_TYPE, 1),
                       tlv(SA_LIFE_DURATION, struct.pack("!I", 28800)),
                       tv(ENCAP, ENCAP_UDP_TUNNEL), tv(AUTH_ALG, HMAC_SHA2_256),
                       tv(KEY_LEN, 256), tv(GROUP_DESC, MODP2048)),
        transform_body(2, ESP_AES_GCM_16, tv(SA_LIFE_TYPE, 1), tv(SA_LIFE_DURATION, 3600),
                       tv(ENCAP, ENCAP_UDP_TUNNEL), tv(KEY_LEN, 128), tv(GROUP_DESC, MODP2048)),
        transform_body(3, ESP_3DES, tv(ENCAP, ENCAP_UDP_TRANSPORT_DRAFT),
                       tv(AUTH_ALG, HMAC_SHA1))),
    proposal_body(
        2, PROTO_AH, bytes.fromhex("c0ffee02"),
        transform_body(1, AH_SHA, tv(ENCAP, ENCAP_TUNNEL), tv(AUTH_ALG, HMAC_SHA1))),
    proposal_body(
        2, PROTO_ESP, bytes.fromhex("c0ffee03"),
        transform_body(1, ESP_AES, tv(ENCAP, ENCAP_TUNNEL), tv(KEY_LEN, 128))),
    proposal_body(3, PROTO_IPCOMP, bytes.fromhex("1234"), transform_body(1, 2)))

QI1_FIRST, QI1_PLAINTEXT = chain(
    (HASH, filler(32)), (SA, QUICK_SA), (NONCE, filler(32)), (KE, filler(256)),
    (ID, id_body(4, ipv4("198.18.1.0") + ipv4("255.255.255.0"))),
    (ID, id_body(4, ipv4("198.18.2.0") + ipv4("255.255.255.0"))),
    (NAT_OA, struct.pack("!BBH", 1, 0, 0) + ipv4("203.0.113.209")),
    (NAT_OA_DRAFT, struct.pack("!BBH", 5, 0, 0) + bytes.fromhex("20010db8000100030000000000000209")))

QUICK_QI1_ENCRYPTED = header(ICOOKIE, RCOOKIE, HASH, QUICK, filler(160), flags=0x01,
                             message_id=0x1A2B3C4D)

INFO_DPD_FIRST, INFO_DPD_PLAINTEXT = chain(
    (HASH, filler(20)),
    (N, notify_body(36136, PROTO_ISAKMP, ICOOKIE + RCOOKIE, struct.pack("!I", 0x01020304))))

INFO_DELETE_FIRST, INFO_DELETE_PLAINTEXT = chain(
    (HASH, filler(20)),
    (D, delete_body(PROTO_ESP, bytes.fromhex("c0ffee01"), bytes.fromhex("c0ffee03"))),
    (D, delete_body(PROTO_ISAKMP, ICOOKIE + RCOOKIE)))

# An unencrypted notification (e.g. NO_PROPOSAL_CHOSEN before any keys exist).
INFO_CLEAR = message(ICOOKIE, RCOOKIE, INFORMATIONAL,
                     (N, notify_body(14, PROTO_ISAKMP)), message_id=0x5EED)

# Mode config: XAUTH request/reply and a mode config reply (RFC draft layouts).
XAUTH_TYPE, XAUTH_USER_NAME, XAUTH_USER_PASSWORD, XAUTH_STATUS = 16520, 16521, 16522, 16527
INTERNAL_IP4_ADDRESS, INTERNAL_IP4_NETMASK, INTERNAL_IP4_DNS = 1, 2, 3
CFG_REQUEST, CFG_REPLY, CFG_SET = 1, 2, 3

XAUTH_REQUEST_FIRST, XAUTH_REQUEST_PLAINTEXT = chain(
    (HASH, filler(20)),
    (ATTR, attr_body(CFG_REQUEST, 0x4242, tv(XAUTH_TYPE, 0), tlv(XAUTH_USER_NAME, b""),
                     tlv(XAUTH_USER_PASSWORD, b""))))
XAUTH_REPLY_FIRST, XAUTH_REPLY_PLAINTEXT = chain(
    (HASH, filler(20)),
    (ATTR, attr_body(CFG_REPLY, 0x4242, tv(XAUTH_TYPE, 0), tlv(XAUTH_USER_NAME, b"road"),
                     tlv(XAUTH_USER_PASSWORD, b"hunter2"))))
MODECFG_SET_FIRST, MODECFG_SET_PLAINTEXT = chain(
    (HASH, filler(20)),
    (ATTR, attr_body(CFG_SET, 7, tlv(INTERNAL_IP4_ADDRESS, ipv4("198.18.1.77")),
                     tlv(INTERNAL_IP4_NETMASK, ipv4("255.255.255.0")),
                     tlv(INTERNAL_IP4_DNS, ipv4("198.18.1.254")),
                     tlv(INTERNAL_IP4_DNS, b""))))

# Whole messages (parse_message) and decrypted contents (parse_payloads with a first type).
MESSAGES = {
    "main-mi1": MAIN_MI1,
    "main-mr1": MAIN_MR1,
    "main-mi2": MAIN_MI2,
    "main-mr2": MAIN_MR2,
    "main-mi3-encrypted": MAIN_MI3_ENCRYPTED,
    "aggr-ai1": AGGR_AI1,
    "aggr-ar1": AGGR_AR1,
    "quick-qi1-encrypted": QUICK_QI1_ENCRYPTED,
    "info-clear": INFO_CLEAR,
}
CONTENTS = {
    "mi3-rsa": (MI3_RSA_FIRST, MI3_RSA_PLAINTEXT),
    "mi3-psk": (MI3_PSK_FIRST, MI3_PSK_PLAINTEXT),
    "quick-qi1": (QI1_FIRST, QI1_PLAINTEXT),
    "info-dpd": (INFO_DPD_FIRST, INFO_DPD_PLAINTEXT),
    "info-delete": (INFO_DELETE_FIRST, INFO_DELETE_PLAINTEXT),
    "xauth-request": (XAUTH_REQUEST_FIRST, XAUTH_REQUEST_PLAINTEXT),
    "xauth-reply": (XAUTH_REPLY_FIRST, XAUTH_REPLY_PLAINTEXT),
    "modecfg-set": (MODECFG_SET_FIRST, MODECFG_SET_PLAINTEXT),
}


def clear_message(exchange: int, first: int, contents: bytes, message_id: int = 0) -> bytes:
    """Decrypted contents wrapped in a clear header (for tools that cannot decrypt)."""
    return header(ICOOKIE, RCOOKIE, first, exchange, contents, message_id=message_id)


PADDING = {"mi3-rsa": len(MI3_RSA_PADDING)}


def clear_messages() -> dict[str, bytes]:
    """Every decrypted sample, padding removed, as a clear Quick Mode message."""
    out = {}
    for name, (first, data) in CONTENTS.items():
        out[name] = clear_message(QUICK, first, data[:len(data) - PADDING.get(name, 0)])
    return out
