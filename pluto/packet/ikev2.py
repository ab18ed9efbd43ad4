"""The IKEv2 message codec (RFC 7296, RFC 7383): header, payload chain, public API.

    parse_message(data, logger=None) -> Message
    emit_message(msg, logger=None) -> bytes
    parse_payloads(data, first_type, logger=None) -> list[Payload]   (decrypted SK contents)
    emit_payloads(payloads, logger=None) -> (first type, bytes)        (SK contents to encrypt)

Emitting computes the next-payload chain and every length. Parsing checks every length
against what is left and against the header's length, and raises only MalformedMessage:
INVALID_MAJOR_VERSION for a major version other than 2, UNSUPPORTED_CRITICAL_PAYLOAD (data:
the payload type) for a critical payload it does not understand, INVALID_SYNTAX for anything
else. For every input that parses, emitting the result gives back the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from pluto.log import Logger
from pluto.packet.errors import MalformedMessage
from pluto.packet.ikev2_payloads import (
    GENERIC_HEADER,
    AuthPayload,
    CertPayload,
    CertReqPayload,
    CfgAttribute,
    CPPayload,
    DeletePayload,
    EAPPayload,
    IDiPayload,
    IdPayload,
    IDrPayload,
    KEPayload,
    NoncePayload,
    NotifyPayload,
    Payload,
    SKFPayload,
    SKPayload,
    UnknownPayload,
    VendorIDPayload,
    buffered,
    replay,
)
from pluto.packet.ikev2_sa import Proposal, SAPayload, Transform, TransformAttribute
from pluto.packet.ikev2_ts import RawTrafficSelector, TrafficSelector, TSiPayload, TSrPayload
from pluto.packet.ikev2_types import (
    GENERIC_HEADER_SIZE,
    IKE_HEADER_SIZE,
    IKEV2_MAJOR_VERSION,
    PAYLOAD_CRITICAL,
    PAYLOAD_RESERVED_FLAGS,
    ExchangeType,
    HeaderFlag,
    NotifyType,
    PayloadType,
)
from pluto.packet.wire import Field, Layout, Reader, Trace, show_bytes, show_enum

__all__ = [
    "AuthPayload", "CertPayload", "CertReqPayload", "CfgAttribute", "CPPayload",
    "DeletePayload", "EAPPayload", "IDiPayload", "IDrPayload", "IdPayload", "KEPayload",
    "Message",
    "NoncePayload", "NotifyPayload", "Payload", "PAYLOAD_CLASSES", "Proposal",
    "RawTrafficSelector", "SAPayload", "SKFPayload", "SKPayload", "TrafficSelector",
    "Transform", "TransformAttribute", "TSiPayload", "TSrPayload", "UnknownPayload",
    "VendorIDPayload", "emit_message", "emit_payloads", "parse_message", "parse_payloads",
]

INVALID_SYNTAX = NotifyType.INVALID_SYNTAX

PAYLOAD_CLASSES: dict[int, type[Payload]] = {cls.payload_type: cls for cls in (
    SAPayload, KEPayload, IDiPayload, IDrPayload, CertPayload, CertReqPayload, AuthPayload,
    NoncePayload, NotifyPayload, DeletePayload, VendorIDPayload, TSiPayload, TSrPayload,
    SKPayload, CPPayload, EAPPayload, SKFPayload,
)}


def _show_version(octet: int) -> str:
    return f"{octet >> 4}.{octet & 0xF}"


_UNDEFINED_FLAGS = 0xFF ^ int(HeaderFlag.INITIATOR | HeaderFlag.VERSION | HeaderFlag.RESPONSE)


def _show_header_flags(flags: int) -> str:
    names = [f.name for f in HeaderFlag if flags & f]
    if flags & _UNDEFINED_FLAGS:
        names.append(f"UNDEFINED {flags & _UNDEFINED_FLAGS:#04x}")
    return f"{'+'.join(names) or 'none'} ({flags:#04x})"


HEADER = Layout("IKEv2 Message Header", [
    Field("ispi", "8s", "initiator SPI"),
    Field("rspi", "8s", "responder SPI"),
    Field("next_payload", "B", "next payload type", PayloadType),
    Field("version", "B", "version", show=_show_version),
    Field("exchange", "B", "exchange type", ExchangeType),
    Field("flags", "B", "flags", show=_show_header_flags),
    Field("message_id", "I", "message ID"),
    Field("length", "I"),
])

P = TypeVar("P", bound=Payload)
# Plain ints for the per-message flag tests (IntFlag operators are slow).
_INITIATOR_FLAG = int(HeaderFlag.INITIATOR)
_RESPONSE_FLAG = int(HeaderFlag.RESPONSE)


@dataclass
class Message:
    """One IKEv2 message: the header's fields (lengths and chaining aside) and its payloads."""

    ispi: bytes
    rspi: bytes
    exchange: int
    flags: int
    message_id: int
    payloads: list[Payload] = field(default_factory=list)
    major: int = IKEV2_MAJOR_VERSION
    minor: int = 0

    @property
    def is_initiator(self) -> bool:
        return bool(self.flags & _INITIATOR_FLAG)

    @property
    def is_response(self) -> bool:
        return bool(self.flags & _RESPONSE_FLAG)

    @property
    def encrypted(self) -> SKPayload | SKFPayload | None:
        """The SK or SKF payload, which can only be the last one."""
        last = self.payloads[-1] if self.payloads else None
        return last if isinstance(last, (SKPayload, SKFPayload)) else None

    def first(self, cls: type[P]) -> P | None:
        return first_of(self.payloads, cls)

    def all(self, cls: type[P]) -> list[P]:
        return [p for p in self.payloads if isinstance(p, cls)]


def first_of(payloads: Iterable[Payload], cls: type[P]) -> P | None:
    return next((p for p in payloads if isinstance(p, cls)), None)


# --- parsing ------------------------------------------------------------------------------


def parse_message(data: bytes, logger: Logger | None = None) -> Message:
    """Parse one IKEv2 message (without the non-ESP marker of port 4500)."""
    trace = Trace.start(logger, "parsing")
    reader = Reader(data, INVALID_SYNTAX)
    if reader.remaining < IKE_HEADER_SIZE:
        raise reader.fail(f"message of {reader.remaining} bytes is shorter than the IKE header")
    if trace is not None:
        trace.title(HEADER.title)
    values = HEADER.unpack(reader, trace)
    version = values.pop("version")
    if version >> 4 != IKEV2_MAJOR_VERSION:
        raise MalformedMessage(f"major version {version >> 4} is not {IKEV2_MAJOR_VERSION}",
                               NotifyType.INVALID_MAJOR_VERSION)
    length = values.pop("length")
    if length != len(reader.buf):
        raise reader.fail(f"header length {length} differs from the {len(reader.buf)} "
                          "bytes received")
    first_type = values.pop("next_payload")
    payloads = _parse_chain(reader, first_type, trace, inside_encrypted=False)
    return Message(payloads=payloads, major=version >> 4, minor=version & 0xF, **values)


def parse_payloads(data: bytes, first_type: int, logger: Logger | None = None) -> list[Payload]:
    """Parse a chain of payloads, such as the decrypted contents of an SK payload."""
    trace = Trace.start(logger, "parsing")
    return _parse_chain(Reader(data, INVALID_SYNTAX), first_type, trace, inside_encrypted=True)


def _parse_chain(reader: Reader, ptype: int, trace: Trace | None,
                 inside_encrypted: bool) -> list[Payload]:
    payloads: list[Payload] = []
    while ptype != PayloadType.NONE:
        cls = PAYLOAD_CLASSES.get(ptype, UnknownPayload)
        if reader.remaining < GENERIC_HEADER_SIZE:
            raise reader.fail(f"{show_enum(PayloadType, ptype)} payload announced but only "
                              f"{reader.remaining} bytes are left")
        if trace is not None:
            trace.title(cls.title())
        next_type, flags, length = GENERIC_HEADER.unpack_values(reader, trace)
        if length < GENERIC_HEADER_SIZE or length - GENERIC_HEADER_SIZE > reader.remaining:
            raise reader.fail(f"{show_enum(PayloadType, ptype)} payload length {length} does "
                              f"not fit the {reader.remaining + GENERIC_HEADER_SIZE} bytes left")
        body = reader.sub(length - GENERIC_HEADER_SIZE, "payload")
        if cls is UnknownPayload:
            if flags & PAYLOAD_CRITICAL:
                raise MalformedMessage(f"unsupported critical payload type {ptype}",
                                       NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD, bytes([ptype]))
            payload: Payload = UnknownPayload(payload_type=ptype, body=body.rest())
            if trace is not None:
                trace.line(UnknownPayload.TAIL_LABEL, show_bytes(payload.body))
        else:
            if cls.ENDS_CHAIN and inside_encrypted:
                raise reader.fail(f"{cls.title()} inside encrypted data")
            payload = cls.parse_with_header(body, trace, next_type)
        payload.critical = bool(flags & PAYLOAD_CRITICAL)
        payload.reserved_flags = flags & PAYLOAD_RESERVED_FLAGS
        payloads.append(payload)
        if cls.ENDS_CHAIN:
            if not reader.at_end():
                raise reader.fail(f"{reader.remaining} bytes follow the {cls.title()}, "
                                  "which must be last")
            return payloads
        ptype = next_type
    if not reader.at_end():
        raise reader.fail(f"{reader.remaining} bytes follow the last payload")
    return payloads


# --- emitting -----------------------------------------------------------------------------


def emit_message(msg: Message, logger: Logger | None = None) -> bytes:
    """The wire form of ``msg``; raises ValueError for values that cannot be encoded."""
    trace = Trace.start(logger, "emitting")
    for name in ("ispi", "rspi"):
        if len(getattr(msg, name)) != 8:
            raise ValueError(f"{name} must be 8 bytes")
    if not (0 <= msg.major <= 0xF and 0 <= msg.minor <= 0xF):
        raise ValueError(f"version {msg.major}.{msg.minor} does not fit two nibbles")
    # The chain is built first for its length, but its trace lines belong after the header.
    nested, later = buffered(trace, indent=0)
    first_type, body = _emit_chain(msg.payloads, nested, inside_encrypted=False)
    if trace is not None:
        trace.title(HEADER.title)
    header = HEADER.pack_values((msg.ispi, msg.rspi, first_type, msg.major << 4 | msg.minor,
                                 msg.exchange, msg.flags, msg.message_id,
                                 IKE_HEADER_SIZE + len(body)), trace)
    replay(trace, later)
    return header + body


def emit_payloads(payloads: Sequence[Payload], logger: Logger | None = None
                  ) -> tuple[int, bytes]:
    """Emit a chain of payloads (the plaintext of an SK payload): (first type, bytes)."""
    return _emit_chain(payloads, Trace.start(logger, "emitting"), inside_encrypted=True)


def _emit_chain(payloads: Sequence[Payload], trace: Trace | None,
                inside_encrypted: bool) -> tuple[int, bytes]:
    out = []
    for i, payload in enumerate(payloads):
        last = i == len(payloads) - 1
        if payload.ENDS_CHAIN:
            if inside_encrypted or not last:
                raise ValueError(f"{payload.title()} must be the last payload of a message")
            next_type = payload.inner_type
        else:
            next_type = PayloadType.NONE if last else payloads[i + 1].payload_type
        out.append(_emit_one(payload, next_type, trace))
    first_type = payloads[0].payload_type if payloads else PayloadType.NONE
    return first_type, b"".join(out)


def _emit_one(payload: Payload, next_type: int, trace: Trace | None) -> bytes:
    flags = payload.flags_octet()
    body_trace, later = buffered(trace, indent=0)  # body fields sit beside the header's
    body = payload.emit_body(body_trace)
    length = GENERIC_HEADER_SIZE + len(body)
    if length > 0xFFFF:
        raise ValueError(f"{payload.title()} of {length} bytes is too long")
    if trace is not None:
        trace.title(payload.title())
    header = GENERIC_HEADER.pack_values((next_type, flags, length), trace)
    replay(trace, later)
    return header + body
