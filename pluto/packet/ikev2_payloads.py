"""IKEv2 payloads other than SA and TSi/TSr: the payload base class and the flat payloads.

Every payload is a dataclass deriving from :class:`Payload`. The generic payload header (next
payload, flags, length) is not stored: ``emit`` computes it. What is stored of the header is
what cannot be computed: the critical bit and the seven reserved flag bits, so that parsing
then emitting gives back the same bytes. Reserved fields of the bodies are kept for the same
reason. Most bodies are a fixed part described by a Layout plus opaque bytes; Notify and
Delete carry SPIs, CP a list of attributes, EAP its own length. SA lives in ikev2_sa.py and
TSi/TSr in ikev2_ts.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from pluto.log import Logger
from pluto.packet.ikev2_types import (
    PAYLOAD_CRITICAL,
    PAYLOAD_RESERVED_FLAGS,
    AuthMethod,
    CertEncoding,
    CfgAttr,
    CfgType,
    DhId,
    EapCode,
    IdType,
    NotifyType,
    PayloadType,
    ProtocolId,
)
from pluto.packet.wire import Field, Layout, Reader, Struct, Trace, show_bytes, show_enum

NO_RESERVED = b"\x00\x00\x00"


def _show_payload_flags(flags: int) -> str:
    text = "yes" if flags & PAYLOAD_CRITICAL else "no"
    if flags & PAYLOAD_RESERVED_FLAGS:
        text += f" (reserved bits {flags & PAYLOAD_RESERVED_FLAGS:#04x})"
    return text


GENERIC_HEADER = Layout("IKEv2 Generic Payload Header", [
    Field("next_payload", "B", "next payload type", PayloadType),
    Field("flags", "B", "critical", show=_show_payload_flags),
    Field("length", "H", "length"),
])


@dataclass(kw_only=True)
class Payload(Struct):
    """Base of every IKEv2 payload.

    ``payload_type`` is a class constant (an instance field for :class:`UnknownPayload`).
    ``ENDS_CHAIN`` marks SK and SKF, whose "next payload" field names the first payload inside
    the encrypted data, so nothing may follow them in the message.
    """

    payload_type: ClassVar[int]
    ENDS_CHAIN: ClassVar[bool] = False

    critical: bool = False
    reserved_flags: int = 0  # the seven bits after the critical bit

    @classmethod
    def title(cls) -> str:
        return cls.LAYOUT.title

    @classmethod
    def parse_with_header(cls, reader: Reader, trace: Trace | None, next_type: int) -> Payload:
        """Parse the body; ``next_type`` (from the generic header) matters only to SK/SKF."""
        return cls.parse_body(reader, trace)

    def flags_octet(self) -> int:
        if not 0 <= self.reserved_flags <= PAYLOAD_RESERVED_FLAGS:
            raise ValueError(f"reserved payload flags {self.reserved_flags:#x} do not fit 7 bits")
        return (PAYLOAD_CRITICAL if self.critical else 0) | self.reserved_flags

    def emit_body(self, trace: Trace | None = None) -> bytes:
        check_fixed_bytes(self, self.LAYOUT)
        return super().emit_body(trace)


def buffered(trace: Trace | None, indent: int = 1) -> tuple[Trace | None, list[str]]:
    """A trace (``indent`` levels deeper) whose lines wait in a list.

    Emitting builds inner parts first (their lengths are needed) but debug output must read
    in wire order; :func:`replay` sends the waiting lines after the header's.
    """
    if trace is None:
        return None, []
    lines: list[str] = []
    sink = Logger(lines.append, trace.logger.flags)
    return Trace(sink, trace.verb, trace.depth + indent), lines


def replay(trace: Trace | None, lines: list[str]) -> None:
    if trace is not None:
        for line in lines:
            trace.logger.sink(line)


def check_fixed_bytes(obj: object, layout: Layout) -> None:
    """struct pads or cuts ``Ns`` fields silently; a wrong size would break round trips."""
    for name, size in layout.byte_sizes:
        if len(getattr(obj, name)) != size:
            raise ValueError(f"{layout.title}: {name} must be {size} bytes")


# --- payloads that are a fixed part plus opaque data -------------------------------------


@dataclass
class KEPayload(Payload):
    LAYOUT: ClassVar = Layout("IKEv2 Key Exchange Payload", [
        Field("dh_group", "H", "DH group", DhId),
        Field("reserved", "H"),
    ])
    TAIL: ClassVar = "data"
    TAIL_LABEL: ClassVar = "key exchange data"
    payload_type: ClassVar[int] = PayloadType.KE

    dh_group: int
    data: bytes
    reserved: int = 0


@dataclass
class IdPayload(Payload):
    """IDi and IDr share one body (RFC 7296 section 3.5)."""

    LAYOUT: ClassVar = Layout("IKEv2 Identification Payload", [
        Field("id_type", "B", "ID type", IdType),
        Field("reserved", "3s"),
    ])
    TAIL: ClassVar = "data"
    TAIL_LABEL: ClassVar = "identification data"

    id_type: int
    data: bytes
    reserved: bytes = NO_RESERVED


@dataclass
class IDiPayload(IdPayload):
    LAYOUT: ClassVar = Layout("IKEv2 Identification - Initiator Payload", IdPayload.LAYOUT.fields)
    payload_type: ClassVar[int] = PayloadType.IDi


@dataclass
class IDrPayload(IdPayload):
    LAYOUT: ClassVar = Layout("IKEv2 Identification - Responder Payload", IdPayload.LAYOUT.fields)
    payload_type: ClassVar[int] = PayloadType.IDr


@dataclass
class CertPayload(Payload):
    LAYOUT: ClassVar = Layout("IKEv2 Certificate Payload", [
        Field("encoding", "B", "certificate encoding", CertEncoding),
    ])
    TAIL: ClassVar = "data"
    TAIL_LABEL: ClassVar = "certificate data"
    payload_type: ClassVar[int] = PayloadType.CERT

    encoding: int
    data: bytes


@dataclass
class CertReqPayload(Payload):
    LAYOUT: ClassVar = Layout("IKEv2 Certificate Request Payload", [
        Field("encoding", "B", "certificate encoding", CertEncoding),
    ])
    TAIL: ClassVar = "data"
    TAIL_LABEL: ClassVar = "certification authority"
    payload_type: ClassVar[int] = PayloadType.CERTREQ

    encoding: int
    data: bytes = b""


@dataclass
class AuthPayload(Payload):
    LAYOUT: ClassVar = Layout("IKEv2 Authentication Payload", [
        Field("method", "B", "auth method", AuthMethod),
        Field("reserved", "3s"),
    ])
    TAIL: ClassVar = "data"
    TAIL_LABEL: ClassVar = "authentication data"
    payload_type: ClassVar[int] = PayloadType.AUTH

    method: int
    data: bytes
    reserved: bytes = NO_RESERVED


@dataclass
class NoncePayload(Payload):
    LAYOUT: ClassVar = Layout("IKEv2 Nonce Payload", [])
    TAIL: ClassVar = "data"
    TAIL_LABEL: ClassVar = "nonce data"
    payload_type: ClassVar[int] = PayloadType.NONCE

    data: bytes


@dataclass
class VendorIDPayload(Payload):
    LAYOUT: ClassVar = Layout("IKEv2 Vendor ID Payload", [])
    TAIL: ClassVar = "data"
    TAIL_LABEL: ClassVar = "vendor ID"
    payload_type: ClassVar[int] = PayloadType.VENDOR_ID

    data: bytes


class _Encrypted(Payload):
    """SK and SKF: opaque body, and a next-payload field that names the first inner payload.

    ``inner_type`` holds that field, so nothing may follow these payloads in a message.
    """

    ENDS_CHAIN: ClassVar[bool] = True
    TAIL: ClassVar = "body"
    TAIL_LABEL: ClassVar = "IV, ciphertext, ICV"

    @classmethod
    def parse_with_header(cls, reader: Reader, trace: Trace | None, next_type: int) -> Payload:
        values = cls.LAYOUT.unpack(reader, trace)
        values["body"] = reader.rest()
        if trace is not None:
            trace.line(cls.TAIL_LABEL, show_bytes(values["body"]))
        payload = cls(inner_type=next_type, **values)
        payload.check(reader)
        return payload

    def check(self, reader: Reader) -> None:
        """Raise MalformedMessage if the fixed fields make no sense."""


@dataclass
class SKPayload(_Encrypted):
    """The Encrypted payload (RFC 7296 section 3.14): IV, ciphertext and ICV as one body."""

    LAYOUT: ClassVar = Layout("IKEv2 Encrypted Payload", [])
    payload_type: ClassVar[int] = PayloadType.SK

    inner_type: int
    body: bytes


@dataclass
class SKFPayload(_Encrypted):
    """The Encrypted Fragment payload (RFC 7383 section 2.5).

    ``inner_type`` is the first inner payload type in fragment 1 and zero in the others.
    """

    LAYOUT: ClassVar = Layout("IKEv2 Encrypted Fragment Payload", [
        Field("fragment_number", "H", "fragment number"),
        Field("total_fragments", "H", "total fragments"),
    ])
    payload_type: ClassVar[int] = PayloadType.SKF

    inner_type: int
    fragment_number: int
    total_fragments: int
    body: bytes

    def check(self, reader: Reader) -> None:
        # RFC 7383: neither number may be zero and the number may not exceed the total.
        if not 1 <= self.fragment_number <= self.total_fragments:
            raise reader.fail(f"fragment {self.fragment_number} of {self.total_fragments} "
                              "is not a valid fragment")


@dataclass
class UnknownPayload(Payload):
    """A payload type this codec does not understand, kept as raw bytes."""

    LAYOUT: ClassVar = Layout("IKEv2 Unknown Payload", [])
    TAIL: ClassVar = "body"

    payload_type: int
    body: bytes = b""


# --- Notify and Delete: SPIs whose size the body announces --------------------------------

_SPI_SIZES = {  # protocol -> SPI sizes a Notify may carry
    ProtocolId.NONE: (0, 8),  # 8: IKE SPIs, sent by some RFC 4306 peers
    ProtocolId.IKE: (0, 8),
    ProtocolId.AH: (0, 4),
    ProtocolId.ESP: (0, 4),
}


@dataclass
class NotifyPayload(Payload):
    LAYOUT: ClassVar = Layout("IKEv2 Notify Payload", [
        Field("protocol", "B", "protocol ID", ProtocolId),
        Field("spi_size", "B", "SPI size"),
        Field("notify_type", "H", "notify type", NotifyType),
    ])
    payload_type: ClassVar[int] = PayloadType.NOTIFY

    notify_type: int
    data: bytes = b""
    protocol: int = ProtocolId.NONE
    spi: bytes = b""

    @classmethod
    def parse_body(cls, reader: Reader, trace: Trace | None = None) -> NotifyPayload:
        values = cls.LAYOUT.unpack(reader, trace)
        spi_size = values.pop("spi_size")
        allowed = _SPI_SIZES.get(values["protocol"])
        if allowed is not None and spi_size not in allowed:
            raise reader.fail(f"Notify: SPI size {spi_size} is wrong for protocol "
                              f"{show_enum(ProtocolId, values['protocol'])}")
        spi = reader.take(spi_size, "Notify SPI")
        data = reader.rest()
        if trace is not None:
            _trace_notify_tail(trace, spi, data)
        return cls(spi=spi, data=data, **values)

    def emit_body(self, trace: Trace | None = None) -> bytes:
        values = {"protocol": self.protocol, "spi_size": len(self.spi),
                  "notify_type": self.notify_type}
        out = self.LAYOUT.pack(values, trace)
        if trace is not None:
            _trace_notify_tail(trace, self.spi, self.data)
        return out + self.spi + self.data


def _trace_notify_tail(trace: Trace, spi: bytes, data: bytes) -> None:
    if spi:
        trace.line("SPI", show_bytes(spi))
    trace.line("notification data", show_bytes(data))


@dataclass
class DeletePayload(Payload):
    """SPIs to delete; their size follows from the protocol (RFC 7296 section 3.11)."""

    LAYOUT: ClassVar = Layout("IKEv2 Delete Payload", [
        Field("protocol", "B", "protocol ID", ProtocolId),
        Field("spi_size", "B", "SPI size"),
        Field("num_spis", "H", "number of SPIs"),
    ])
    payload_type: ClassVar[int] = PayloadType.DELETE
    SPI_SIZE: ClassVar[dict[int, int]] = {ProtocolId.IKE: 0, ProtocolId.AH: 4, ProtocolId.ESP: 4}

    protocol: int
    spis: list[bytes] = field(default_factory=list)

    @classmethod
    def parse_body(cls, reader: Reader, trace: Trace | None = None) -> DeletePayload:
        values = cls.LAYOUT.unpack(reader, trace)
        protocol, spi_size, count = values["protocol"], values["spi_size"], values["num_spis"]
        if protocol not in cls.SPI_SIZE:
            raise reader.fail(f"Delete: protocol {protocol} is not IKE, AH or ESP")
        if spi_size != cls.SPI_SIZE[protocol]:
            raise reader.fail(f"Delete: SPI size {spi_size} is wrong for "
                              f"{ProtocolId(protocol).name}")
        if protocol == ProtocolId.IKE and count:
            raise reader.fail(f"Delete of the IKE SA lists {count} SPIs")
        if count * spi_size != reader.remaining:
            raise reader.fail(f"Delete: {count} SPIs of {spi_size} bytes do not fill the "
                              f"{reader.remaining} bytes left")
        spis = [reader.take(spi_size, "Delete SPI") for _ in range(count)]
        if trace is not None:
            for spi in spis:
                trace.line("SPI", show_bytes(spi))
        return cls(protocol=protocol, spis=spis)

    def emit_body(self, trace: Trace | None = None) -> bytes:
        size = self.SPI_SIZE.get(self.protocol, len(self.spis[0]) if self.spis else 0)
        if any(len(spi) != size for spi in self.spis):
            raise ValueError(f"Delete: every SPI must be {size} bytes")
        values = {"protocol": self.protocol, "spi_size": size, "num_spis": len(self.spis)}
        out = self.LAYOUT.pack(values, trace)
        if trace is not None:
            for spi in self.spis:
                trace.line("SPI", show_bytes(spi))
        return out + b"".join(self.spis)


# --- CP: a list of attributes -------------------------------------------------------------

CFG_RESERVED_BIT = 0x8000


def _show_cfg_attr_type(raw: int) -> str:
    text = show_enum(CfgAttr, raw & ~CFG_RESERVED_BIT)
    return ("R+" + text) if raw & CFG_RESERVED_BIT else text


CFG_ATTRIBUTE = Layout("IKEv2 Configuration Attribute", [
    Field("raw_type", "H", "attribute type", show=_show_cfg_attr_type),
    Field("length", "H"),
])


@dataclass
class CfgAttribute:
    attr_type: int
    value: bytes = b""
    reserved: int = 0  # the R bit in front of the type

    @classmethod
    def parse(cls, reader: Reader, trace: Trace | None) -> CfgAttribute:
        if trace is not None:
            trace.title(CFG_ATTRIBUTE.title)
        values = CFG_ATTRIBUTE.unpack(reader, trace)
        value = reader.take(values["length"], "configuration attribute value")
        if trace is not None:
            trace.line("value", show_bytes(value))
        raw = values["raw_type"]
        return cls(raw & ~CFG_RESERVED_BIT, value, raw >> 15)

    def emit(self, trace: Trace | None) -> bytes:
        if not 0 <= self.attr_type < CFG_RESERVED_BIT or self.reserved not in (0, 1):
            raise ValueError(f"configuration attribute type {self.attr_type} does not fit")
        if trace is not None:
            trace.title(CFG_ATTRIBUTE.title)
        values = {"raw_type": self.reserved << 15 | self.attr_type, "length": len(self.value)}
        out = CFG_ATTRIBUTE.pack(values, trace)
        if trace is not None:
            trace.line("value", show_bytes(self.value))
        return out + self.value


@dataclass
class CPPayload(Payload):
    LAYOUT: ClassVar = Layout("IKEv2 Configuration Payload", [
        Field("cfg_type", "B", "CFG type", CfgType),
        Field("reserved", "3s"),
    ])
    payload_type: ClassVar[int] = PayloadType.CP

    cfg_type: int
    attributes: list[CfgAttribute] = field(default_factory=list)
    reserved: bytes = NO_RESERVED

    @classmethod
    def parse_body(cls, reader: Reader, trace: Trace | None = None) -> CPPayload:
        values = cls.LAYOUT.unpack(reader, trace)
        nested = trace.nested() if trace is not None else None
        attributes = []
        while not reader.at_end():
            attributes.append(CfgAttribute.parse(reader, nested))
        return cls(attributes=attributes, **values)

    def emit_body(self, trace: Trace | None = None) -> bytes:
        check_fixed_bytes(self, self.LAYOUT)
        out = self.LAYOUT.pack({"cfg_type": self.cfg_type, "reserved": self.reserved}, trace)
        nested = trace.nested() if trace is not None else None
        return out + b"".join(a.emit(nested) for a in self.attributes)


# --- EAP: one EAP packet whose own length must agree with the payload's -------------------


@dataclass
class EAPPayload(Payload):
    """An EAP message (RFC 3748): code, identifier, length, then type and type data."""

    LAYOUT: ClassVar = Layout("IKEv2 Extensible Authentication Payload", [
        Field("code", "B", "EAP code", EapCode),
        Field("identifier", "B", "EAP identifier"),
        Field("eap_length", "H", "EAP length"),
    ])
    payload_type: ClassVar[int] = PayloadType.EAP

    code: int
    identifier: int
    data: bytes = b""  # type and type data; empty for Success and Failure

    @classmethod
    def parse_body(cls, reader: Reader, trace: Trace | None = None) -> EAPPayload:
        total = reader.remaining
        values = cls.LAYOUT.unpack(reader, trace)
        if values.pop("eap_length") != total:
            raise reader.fail(f"EAP length does not match the {total} bytes of the payload")
        data = reader.rest()
        if trace is not None:
            trace.line("EAP data", show_bytes(data))
        return cls(data=data, **values)

    def emit_body(self, trace: Trace | None = None) -> bytes:
        values = {"code": self.code, "identifier": self.identifier,
                  "eap_length": self.LAYOUT.size + len(self.data)}
        out = self.LAYOUT.pack(values, trace)
        if trace is not None:
            trace.line("EAP data", show_bytes(self.data))
        return out + self.data
