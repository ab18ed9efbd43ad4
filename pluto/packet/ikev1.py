"""The IKEv1 / ISAKMP message codec (RFC 2408 3.1 header, payload chains; RFC 2409, 3947).

    parse_message(data, logger=None) -> Message
    emit_message(msg, logger=None) -> bytes
    parse_payloads(data, first_type, logger=None) -> (payloads, trailing padding)
    emit_payloads(payloads, logger=None) -> (first payload type, bytes)

A message whose header has the E flag keeps its body as opaque ciphertext
(:class:`EncryptedBody`, with the header's next-payload value); the crypto layer decrypts it
and hands the plaintext to :func:`parse_payloads`, which also returns the padding that follows
the last payload so the plaintext can be re-emitted byte for byte.

Only :class:`MalformedMessage` escapes from parsing, with the notify RFC 2408 section 5
prescribes: INVALID_MAJOR_VERSION, UNEQUAL_PAYLOAD_LENGTHS (header length is not the datagram
length), INVALID_PAYLOAD_TYPE (a proposal or transform outside an SA, or an unassigned type;
GDOI and private-use types are kept raw as :class:`UnknownPayload`), PAYLOAD_MALFORMED and the
SA-specific ones of :mod:`pluto.packet.ikev1_sa`. The minor version, exchange type, flags and
message ID are the exchange's business, not the codec's: they are parsed and kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pluto.log import Logger
from pluto.packet.errors import MalformedMessage
from pluto.packet.ikev1_payloads import (
    Attribute,
    CertificatePayload,
    CertificateRequestPayload,
    DeletePayload,
    HashPayload,
    IdentificationPayload,
    KeyExchangePayload,
    ModeConfigPayload,
    NatDetectionPayload,
    NatOriginalAddressPayload,
    NoncePayload,
    NotificationPayload,
    Payload,
    SignaturePayload,
    UnknownPayload,
    VendorIdPayload,
    emit_generic,
    parse_generic,
)
from pluto.packet.ikev1_sa import Proposal, SecurityAssociationPayload, Transform
from pluto.packet.ikev1_types import (
    COOKIE_SIZE,
    FIRST_PRIVATE_PAYLOAD,
    FIRST_UNASSIGNED_PAYLOAD,
    MAJOR_VERSION,
    MINOR_VERSION,
    ExchangeType,
    HeaderFlag,
    NotifyType,
    PayloadType,
)
from pluto.packet.wire import Field, Layout, Reader, Trace, show_enum

__all__ = [
    "Attribute", "CertificatePayload", "CertificateRequestPayload", "DeletePayload",
    "EncryptedBody", "HashPayload", "IdentificationPayload", "KeyExchangePayload", "Message",
    "ModeConfigPayload", "NatDetectionPayload", "NatOriginalAddressPayload", "NoncePayload",
    "NotificationPayload", "PAYLOAD_CLASSES", "Payload", "Proposal",
    "SecurityAssociationPayload", "SignaturePayload", "Transform", "UnknownPayload",
    "VendorIdPayload", "emit_message", "emit_payloads", "parse_message", "parse_payloads",
]

PAYLOAD_CLASSES: dict[int, type[Payload]] = {
    PayloadType.SA: SecurityAssociationPayload,
    PayloadType.KE: KeyExchangePayload,
    PayloadType.ID: IdentificationPayload,
    PayloadType.CERT: CertificatePayload,
    PayloadType.CR: CertificateRequestPayload,
    PayloadType.HASH: HashPayload,
    PayloadType.SIG: SignaturePayload,
    PayloadType.NONCE: NoncePayload,
    PayloadType.N: NotificationPayload,
    PayloadType.D: DeletePayload,
    PayloadType.VID: VendorIdPayload,
    PayloadType.ATTR: ModeConfigPayload,
    PayloadType.NAT_D: NatDetectionPayload,
    PayloadType.NAT_D_DRAFT: NatDetectionPayload,
    PayloadType.NAT_OA: NatOriginalAddressPayload,
    PayloadType.NAT_OA_DRAFT: NatOriginalAddressPayload,
}


def _show_version(value: int) -> str:
    return f"{value >> 4}.{value & 0xF} ({value:#04x})"


def _show_flags(value: int) -> str:
    names = [flag.name for flag in HeaderFlag if value & flag]
    unknown = value & ~(HeaderFlag.ENCRYPTION | HeaderFlag.COMMIT
                        | HeaderFlag.AUTHENTICATION_ONLY)
    if unknown:
        names.append(f"{unknown:#x}")
    return f"{'+'.join(names) if names else 'none'} ({value:#x})"


HEADER_TITLE = "ISAKMP Message"
HEADER = Layout(HEADER_TITLE, [
    Field("icookie", f"{COOKIE_SIZE}s", "initiator cookie"),
    Field("rcookie", f"{COOKIE_SIZE}s", "responder cookie"),
    Field("next_payload", "B", "next payload type", PayloadType),
    Field("version", "B", "ISAKMP version", show=_show_version),
    Field("exchange", "B", "exchange type", ExchangeType),
    Field("flags", "B", "flags", show=_show_flags),
    Field("message_id", "I", "message ID", show=lambda v: f"{v} ({v:#010x})"),
    Field("length", "I", "length"),
])


@dataclass
class EncryptedBody:
    """The body of a message with the E flag: ciphertext, and the type of its first payload."""

    first_payload: int
    data: bytes


@dataclass
class Message:
    """One ISAKMP message. Exactly one of ``payloads`` (clear) and ``encrypted`` (E flag set)
    carries the body; unknown flag bits are kept in ``flags``."""

    icookie: bytes
    rcookie: bytes
    exchange: int
    payloads: list[Payload] = field(default_factory=list)
    flags: int = 0
    message_id: int = 0
    major: int = MAJOR_VERSION
    minor: int = MINOR_VERSION
    encrypted: EncryptedBody | None = None

    @property
    def is_encrypted(self) -> bool:
        return bool(self.flags & HeaderFlag.ENCRYPTION)

    def find(self, cls: type[Payload]) -> list[Payload]:
        """The clear payloads of one class, in order."""
        return [p for p in self.payloads if isinstance(p, cls)]


def payload_class(payload_type: int) -> type[Payload]:
    """The class that parses ``payload_type`` at the top level of a message.

    Raises INVALID_PAYLOAD_TYPE for proposals and transforms (they live only inside an SA) and
    for unassigned numbers; assigned payloads we do not describe are kept raw.
    """
    cls = PAYLOAD_CLASSES.get(payload_type)
    if cls is not None:
        return cls
    if (payload_type in (PayloadType.P, PayloadType.T)
            or FIRST_UNASSIGNED_PAYLOAD <= payload_type < FIRST_PRIVATE_PAYLOAD):
        raise MalformedMessage(
            f"next payload type {show_enum(PayloadType, payload_type)} is not valid here",
            NotifyType.INVALID_PAYLOAD_TYPE, bytes([payload_type]))
    return UnknownPayload


def _parse_chain(reader: Reader, first_type: int, trace: Trace | None) -> list[Payload]:
    payloads = []
    payload_type = first_type
    while payload_type != PayloadType.NONE:
        cls = payload_class(payload_type)
        next_type, reserved, body = parse_generic(reader, cls.title_for(payload_type), trace)
        payload = cls.parse_payload(payload_type, body, trace)
        payload.reserved = reserved
        payloads.append(payload)
        payload_type = next_type
    return payloads


def _emit_chain(payloads: list[Payload], trace: Trace | None) -> tuple[int, bytes]:
    parts = []
    for i, payload in enumerate(payloads):
        next_type = payloads[i + 1].payload_type if i + 1 < len(payloads) else PayloadType.NONE
        parts.append(emit_generic(payload.title, next_type, payload.reserved,
                                  payload.emit_body, trace))
    first = payloads[0].payload_type if payloads else PayloadType.NONE
    return first, b"".join(parts)


def parse_payloads(data: bytes, first_type: int,
                   logger: Logger | None = None) -> tuple[list[Payload], bytes]:
    """Decrypted contents: the payload chain starting with ``first_type``, and the bytes after
    its last payload (encryption padding, kept so the plaintext can be re-emitted)."""
    reader = Reader(data, NotifyType.PAYLOAD_MALFORMED)
    payloads = _parse_chain(reader, first_type, Trace.start(logger, "parsing"))
    return payloads, reader.rest()


def emit_payloads(payloads: list[Payload],
                  logger: Logger | None = None) -> tuple[int, bytes]:
    """The payload chain (to encrypt, or to put in a message): first type and bytes."""
    return _emit_chain(payloads, Trace.start(logger, "emitting"))


def parse_message(data: bytes, logger: Logger | None = None) -> Message:
    trace = Trace.start(logger, "parsing")
    reader = Reader(data, NotifyType.PAYLOAD_MALFORMED)
    if trace is not None:
        trace.title(HEADER_TITLE)
    header = HEADER.unpack(reader, trace)
    version = header["version"]
    if version >> 4 != MAJOR_VERSION:
        raise MalformedMessage(f"ISAKMP major version {version >> 4} is not {MAJOR_VERSION}",
                               NotifyType.INVALID_MAJOR_VERSION, bytes([version]))
    if header["length"] != len(data):
        raise MalformedMessage(
            f"ISAKMP header length {header['length']} differs from the {len(data)} bytes "
            "received", NotifyType.UNEQUAL_PAYLOAD_LENGTHS)
    msg = Message(header["icookie"], header["rcookie"], header["exchange"],
                  flags=header["flags"], message_id=header["message_id"],
                  major=version >> 4, minor=version & 0xF)
    if header["flags"] & HeaderFlag.ENCRYPTION:
        msg.encrypted = EncryptedBody(header["next_payload"], reader.rest())
        return msg
    msg.payloads = _parse_chain(reader, header["next_payload"], trace)
    if not reader.at_end():
        raise MalformedMessage(f"{reader.remaining} bytes follow the last payload",
                               NotifyType.PAYLOAD_MALFORMED)
    return msg


def emit_message(msg: Message, logger: Logger | None = None) -> bytes:
    """The wire form of ``msg``: chaining and lengths computed, E flag and body consistent."""
    if msg.is_encrypted != (msg.encrypted is not None):
        raise ValueError("cannot emit ISAKMP message: the E flag and the encrypted body disagree")
    if len(msg.icookie) != COOKIE_SIZE or len(msg.rcookie) != COOKIE_SIZE:
        raise ValueError("cannot emit ISAKMP message: cookies must be 8 bytes")
    if not (0 <= msg.major <= 0xF and 0 <= msg.minor <= 0xF):
        raise ValueError("cannot emit ISAKMP message: version numbers are 4-bit nibbles")
    trace = Trace.start(logger, "emitting")
    held: list[str] = []
    if msg.encrypted is not None:
        next_type, body = msg.encrypted.first_payload, msg.encrypted.data
    else:
        body_trace = None
        if trace is not None:
            # Payload lines wait until the header (which needs the total length) is printed.
            body_trace = Trace(Logger(held.append, trace.logger.flags), trace.verb, trace.depth)
        next_type, body = _emit_chain(msg.payloads, body_trace)
    values = {"icookie": msg.icookie, "rcookie": msg.rcookie, "next_payload": next_type,
              "version": msg.major << 4 | msg.minor, "exchange": msg.exchange,
              "flags": msg.flags, "message_id": msg.message_id,
              "length": HEADER.size + len(body)}
    if trace is not None:
        trace.title(HEADER_TITLE)
    header = HEADER.pack(values, trace)
    for line in held:
        trace.logger.sink(line)
    return header + body
