"""IKEv1 payloads other than SA: one declarative description each (RFC 2408 3.4-3.16,
RFC 2407 4.6, RFC 3947 3.2/5.2, draft-dukes-ike-mode-cfg), plus the pieces every payload shares:
the generic payload header and the TV/TLV data attributes.

Every payload keeps the reserved byte of its generic header (``reserved``) and every other
reserved field, so parse-then-emit gives back the same bytes. Lengths, counts and next-payload
chaining are computed on emit and checked on parse; parse raises only
:class:`~pluto.packet.errors.MalformedMessage` with an IKEv1 notify number.
"""

from __future__ import annotations

import enum
import ipaddress
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from pluto.log import Logger
from pluto.packet.errors import MalformedMessage
from pluto.packet.ikev1_types import (
    DOI,
    GENERIC_HEADER_SIZE,
    MODECFG_ATTRIBUTES,
    SECRET_MODECFG_ATTRIBUTES,
    AttributeNames,
    CertEncoding,
    IdType,
    ModeCfgType,
    NotifyType,
    PayloadType,
    ProtocolId,
)
from pluto.packet.wire import Field, Layout, Reader, Trace, show_bytes, show_enum

MALFORMED = NotifyType.PAYLOAD_MALFORMED

GENERIC_HEADER = Layout("ISAKMP generic payload header", [
    Field("next_payload", "B", "next payload type", PayloadType),
    Field("reserved", "B", "reserved"),
    Field("length", "H", "length"),
])


def malformed(reason: str, notify: int = MALFORMED, data: bytes = b"") -> MalformedMessage:
    return MalformedMessage(reason, notify, data)


# --- generic payload header ------------------------------------------------------------------

def parse_generic(reader: Reader, title: str, trace: Trace | None) -> tuple[int, int, Reader]:
    """Read one generic header; returns (next payload, reserved byte, reader over the body)."""
    if trace is not None:
        trace.title(title)
    header = GENERIC_HEADER.unpack(reader, trace)
    length = header["length"]
    if length < GENERIC_HEADER_SIZE:
        raise malformed(f"{title}: length {length} is shorter than the generic payload header")
    body = reader.sub(length - GENERIC_HEADER_SIZE, title)
    return header["next_payload"], header["reserved"], body


def emit_generic(title: str, next_type: int, reserved: int,
                 emit_body: Callable[[Trace | None], bytes], trace: Trace | None) -> bytes:
    """Generic header plus body. With a trace, the body's lines are held back until the
    header (whose length needs the body) has been printed, so the output stays in wire order."""
    if trace is None:
        return _pack_generic(title, next_type, reserved, emit_body(None))
    held: list[str] = []
    body = emit_body(Trace(Logger(held.append, trace.logger.flags), trace.verb, trace.depth))
    out = _pack_generic(title, next_type, reserved, body)
    trace.title(title)
    GENERIC_HEADER.trace(trace, {"next_payload": next_type, "reserved": reserved,
                                 "length": len(out)})
    for line in held:
        trace.logger.sink(line)
    return out


def _pack_generic(title: str, next_type: int, reserved: int, body: bytes) -> bytes:
    length = GENERIC_HEADER_SIZE + len(body)
    if length > 0xFFFF:
        raise ValueError(f"cannot emit {title}: {length} bytes overflow the 16-bit length")
    return GENERIC_HEADER.struct.pack(next_type, reserved, length) + body


def show_secret(trace: Trace, data: bytes) -> str:
    """Bytes for a debug line, redacted unless the ``private`` class is on."""
    if "private" in trace.logger.flags:
        return show_bytes(data)
    return f"<{len(data)} secret bytes>"


# --- data attributes (RFC 2408 3.3) ------------------------------------------------------------

_ATTRIBUTE_HEADER = struct.Struct("!HH")
_AF_TV = 0x8000


@dataclass(frozen=True)
class Attribute:
    """One data attribute: an ``int`` value is the basic TV form, ``bytes`` the TLV form."""

    type: int
    value: int | bytes

    @classmethod
    def number(cls, type: int, value: int) -> Attribute:
        """TV when the value fits 16 bits, else TLV with the shortest big-endian encoding
        (how variable attributes such as life durations are sent)."""
        if 0 <= value <= 0xFFFF:
            return cls(type, value)
        return cls(type, value.to_bytes((value.bit_length() + 7) // 8, "big"))

    @property
    def is_basic(self) -> bool:
        return isinstance(self.value, int)

    def as_int(self) -> int:
        """The value as a number, whichever form it was sent in."""
        if isinstance(self.value, int):
            return self.value
        return int.from_bytes(self.value, "big")


def parse_attributes(reader: Reader, names: AttributeNames,
                     trace: Trace | None) -> list[Attribute]:
    """Attributes until the reader is exhausted; a TLV length must fit what is left."""
    attributes = []
    nested = trace.nested() if trace is not None else None
    while not reader.at_end():
        af_type, value = reader.unpack(_ATTRIBUTE_HEADER, names.title)
        if af_type & _AF_TV:
            attribute = Attribute(af_type & 0x7FFF, value)
        else:
            attribute = Attribute(af_type, reader.take(value, f"{names.title} value"))
        if nested is not None:
            trace_attribute(nested, names, attribute)
        attributes.append(attribute)
    return attributes


def emit_attributes(attributes: list[Attribute], names: AttributeNames,
                    trace: Trace | None) -> bytes:
    out = []
    nested = trace.nested() if trace is not None else None
    for attribute in attributes:
        if not 0 <= attribute.type <= 0x7FFF:
            raise ValueError(f"attribute type {attribute.type} does not fit 15 bits")
        if isinstance(attribute.value, int):
            if not 0 <= attribute.value <= 0xFFFF:
                raise ValueError(f"TV attribute value {attribute.value} does not fit 16 bits")
            out.append(_ATTRIBUTE_HEADER.pack(_AF_TV | attribute.type, attribute.value))
        else:
            if len(attribute.value) > 0xFFFF:
                raise ValueError(f"TLV attribute of {len(attribute.value)} bytes is too long")
            out.append(_ATTRIBUTE_HEADER.pack(attribute.type, len(attribute.value)))
            out.append(bytes(attribute.value))
        if nested is not None:
            trace_attribute(nested, names, attribute)
    return b"".join(out)


def trace_attribute(trace: Trace, names: AttributeNames, attribute: Attribute) -> None:
    name = _name(names.types, attribute.type)
    value_names = names.values.get(attribute.type)
    trace.title(names.title)
    if isinstance(attribute.value, int):
        trace.line("af+type", f"AF+{name} ({_AF_TV | attribute.type:#06x})")
        trace.line("value", show_enum(value_names, attribute.value))
        return
    trace.line("af+type", f"{name} ({attribute.type:#06x})")
    trace.line("length", str(len(attribute.value)))
    if names is MODECFG_ATTRIBUTES:
        # Mode config values are addresses or text (user names, banners), not numbers.
        if attribute.type in SECRET_MODECFG_ATTRIBUTES:
            trace.line("value", show_secret(trace, attribute.value))
        elif attribute.value and all(32 <= b < 127 for b in attribute.value):
            trace.line("value", repr(attribute.value.decode("ascii")))
        else:
            trace.line("value", show_bytes(attribute.value))
    elif 0 < len(attribute.value) <= 8:
        trace.line("value", f"{show_bytes(attribute.value)} ({attribute.as_int()})")
    else:
        trace.line("value", show_bytes(attribute.value))


def _name(names: type[enum.IntEnum] | None, value: int) -> str:
    if names is not None:
        try:
            return names(value).name
        except ValueError:
            pass
    return f"UNKNOWN-{value}"


# --- SPI sizes ---------------------------------------------------------------------------------

# Allowed SPI sizes per protocol. ISAKMP SAs are named by their cookies (16 bytes) or not at all;
# like libreswan we accept any size up to 16 for them where RFC 2408 leaves room. Protocols we
# do not know are not checked here: the exchange answers INVALID_PROTOCOL_ID.
_ISAKMP_SPI_SIZES = frozenset(range(17))
NOTIFY_SPI_SIZES: dict[int, frozenset[int]] = {
    ProtocolId.ISAKMP: _ISAKMP_SPI_SIZES,
    ProtocolId.IPSEC_AH: frozenset({4}),
    ProtocolId.IPSEC_ESP: frozenset({4}),
    ProtocolId.IPCOMP: frozenset({2, 4}),  # a CPI, sent as 2 bytes or padded to 4
}
DELETE_SPI_SIZES: dict[int, frozenset[int]] = {
    **NOTIFY_SPI_SIZES,
    ProtocolId.ISAKMP: frozenset({16}),  # deleting an ISAKMP SA needs both cookies
}


def check_spi_size(where: str, protocol: int, size: int,
                   allowed: dict[int, frozenset[int]]) -> None:
    sizes = allowed.get(protocol)
    if sizes is not None and size not in sizes:
        raise malformed(f"{where}: SPI size {size} is not valid for protocol "
                        f"{show_enum(ProtocolId, protocol)}", NotifyType.INVALID_SPI)


# --- payload base ------------------------------------------------------------------------------

_NO_FIELDS = Layout("no fixed fields", [])


@dataclass
class Payload:
    """Base of every IKEv1 payload: a ``LAYOUT`` of fixed fields and an optional byte ``TAIL``.

    Subclasses with nested parts override :meth:`parse_body` and :meth:`emit_body`.
    """

    TYPE: ClassVar[int]
    TITLE: ClassVar[str]
    LAYOUT: ClassVar[Layout] = _NO_FIELDS
    TAIL: ClassVar[str | None] = None
    TAIL_LABEL: ClassVar[str] = "data"
    SECRET_TAIL: ClassVar[bool] = False  # redact the tail in debug output unless `private`

    reserved: int = field(default=0, kw_only=True)  # the generic header's reserved byte

    @property
    def payload_type(self) -> int:
        return self.TYPE

    @property
    def title(self) -> str:
        return self.title_for(self.payload_type)

    @classmethod
    def title_for(cls, payload_type: int) -> str:
        return cls.TITLE

    @classmethod
    def parse_payload(cls, payload_type: int, reader: Reader, trace: Trace | None) -> Payload:
        """Parse a body that arrived under ``payload_type`` (classes serving two numbers
        remember which)."""
        return cls.parse_body(reader, trace)

    @classmethod
    def parse_body(cls, reader: Reader, trace: Trace | None) -> Payload:
        values = cls.LAYOUT.unpack(reader, trace)
        if cls.TAIL is not None:
            tail = reader.rest()
            values[cls.TAIL] = tail
            if trace is not None:
                trace.line(cls.TAIL_LABEL, cls._show_tail(trace, values))
        elif not reader.at_end():
            raise malformed(f"{cls.TITLE}: {reader.remaining} unexpected trailing bytes")
        payload = cls(**values)
        payload.check()
        return payload

    def emit_body(self, trace: Trace | None) -> bytes:
        values = {f.name: getattr(self, f.name) for f in self.LAYOUT.fields}
        out = self.LAYOUT.pack(values, trace)
        if self.TAIL is not None:
            tail = getattr(self, self.TAIL)
            if trace is not None:
                values[self.TAIL] = tail
                trace.line(self.TAIL_LABEL, self._show_tail(trace, values))
            out += tail
        return out

    def check(self) -> None:
        """Reject contents that parse but cannot be valid (raises MalformedMessage)."""

    @classmethod
    def _show_tail(cls, trace: Trace, values: dict) -> str:
        tail = values[cls.TAIL]
        return show_secret(trace, tail) if cls.SECRET_TAIL else show_bytes(tail)


# --- simple payloads ---------------------------------------------------------------------------

@dataclass
class KeyExchangePayload(Payload):
    TYPE = PayloadType.KE
    TITLE = "ISAKMP Key Exchange Payload"
    TAIL = "data"
    TAIL_LABEL = "key exchange data"
    SECRET_TAIL = True

    data: bytes


@dataclass
class HashPayload(Payload):
    TYPE = PayloadType.HASH
    TITLE = "ISAKMP Hash Payload"
    TAIL = "data"
    TAIL_LABEL = "hash data"

    data: bytes


@dataclass
class SignaturePayload(Payload):
    TYPE = PayloadType.SIG
    TITLE = "ISAKMP Signature Payload"
    TAIL = "data"
    TAIL_LABEL = "signature data"

    data: bytes


@dataclass
class NoncePayload(Payload):
    TYPE = PayloadType.NONCE
    TITLE = "ISAKMP Nonce Payload"
    TAIL = "data"
    TAIL_LABEL = "nonce data"
    SECRET_TAIL = True

    data: bytes


@dataclass
class VendorIdPayload(Payload):
    TYPE = PayloadType.VID
    TITLE = "ISAKMP Vendor ID Payload"
    TAIL = "data"
    TAIL_LABEL = "vendor ID"

    data: bytes


@dataclass
class CertificatePayload(Payload):
    TYPE = PayloadType.CERT
    TITLE = "ISAKMP Certificate Payload"
    LAYOUT = Layout("ISAKMP Certificate Payload", [
        Field("encoding", "B", "certificate encoding", CertEncoding),
    ])
    TAIL = "data"
    TAIL_LABEL = "certificate data"

    encoding: int
    data: bytes


@dataclass
class CertificateRequestPayload(Payload):
    TYPE = PayloadType.CR
    TITLE = "ISAKMP Certificate Request Payload"
    LAYOUT = Layout("ISAKMP Certificate Request Payload", [
        Field("encoding", "B", "certificate type", CertEncoding),
    ])
    TAIL = "authority"
    TAIL_LABEL = "certificate authority"

    encoding: int
    authority: bytes = b""


# Address-carrying ID types and the exact length of their data (RFC 2407 4.6.2.2 - 4.6.2.8).
ID_ADDRESS_SIZES = {
    IdType.IPV4_ADDR: 4,
    IdType.IPV4_ADDR_SUBNET: 8,
    IdType.IPV4_ADDR_RANGE: 8,
    IdType.IPV6_ADDR: 16,
    IdType.IPV6_ADDR_SUBNET: 32,
    IdType.IPV6_ADDR_RANGE: 32,
}
_TEXT_IDS = (IdType.FQDN, IdType.USER_FQDN)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass
class IdentificationPayload(Payload):
    """RFC 2407 4.6.2: the IPsec DOI form (protocol and port select traffic in Quick Mode)."""

    TYPE = PayloadType.ID
    TITLE = "ISAKMP Identification Payload (IPsec DOI)"
    LAYOUT = Layout("ISAKMP Identification Payload", [
        Field("id_type", "B", "ID type", IdType),
        Field("protocol", "B", "protocol ID"),
        Field("port", "H", "port"),
    ])
    TAIL = "data"
    TAIL_LABEL = "identification data"

    id_type: int
    data: bytes
    protocol: int = 0
    port: int = 0

    def check(self) -> None:
        size = ID_ADDRESS_SIZES.get(self.id_type)
        if size is not None and len(self.data) != size:
            raise malformed(
                f"{self.TITLE}: {show_enum(IdType, self.id_type)} needs {size} bytes of "
                f"data, not {len(self.data)}", NotifyType.INVALID_ID_INFORMATION)

    @classmethod
    def _show_tail(cls, trace: Trace, values: dict) -> str:
        data, id_type = values["data"], values["id_type"]
        try:
            if ID_ADDRESS_SIZES.get(id_type) == len(data):
                half = len(data) // 2
                if id_type in (IdType.IPV4_ADDR, IdType.IPV6_ADDR):
                    return str(ipaddress.ip_address(data))
                first, second = ipaddress.ip_address(data[:half]), ipaddress.ip_address(data[half:])
                return f"{first} {'mask' if id_type in _SUBNET_IDS else '-'} {second}"
            if id_type in _TEXT_IDS:
                return repr(data.decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            pass
        return show_bytes(data)

    @classmethod
    def for_address(cls, address: IPAddress, protocol: int = 0,
                    port: int = 0) -> IdentificationPayload:
        id_type = IdType.IPV4_ADDR if address.version == 4 else IdType.IPV6_ADDR
        return cls(id_type, address.packed, protocol, port)

    @classmethod
    def for_network(cls, network: IPNetwork, protocol: int = 0,
                    port: int = 0) -> IdentificationPayload:
        """A subnet ID (what Quick Mode sends for ``leftsubnet=``)."""
        id_type = IdType.IPV4_ADDR_SUBNET if network.version == 4 else IdType.IPV6_ADDR_SUBNET
        return cls(id_type, network.network_address.packed + network.netmask.packed,
                   protocol, port)

    def network(self) -> IPNetwork | None:
        """The address or subnet this ID names; None for other types or a non-prefix mask."""
        size = ID_ADDRESS_SIZES.get(self.id_type)
        if size is None or len(self.data) != size or self.id_type not in _NETWORK_IDS:
            return None
        if self.id_type in (IdType.IPV4_ADDR, IdType.IPV6_ADDR):
            return ipaddress.ip_network(ipaddress.ip_address(self.data))
        half = size // 2
        address = ipaddress.ip_address(self.data[:half])
        mask = ipaddress.ip_address(self.data[half:])
        try:
            return ipaddress.ip_network(f"{address}/{mask}")
        except ValueError:
            return None


_SUBNET_IDS = (IdType.IPV4_ADDR_SUBNET, IdType.IPV6_ADDR_SUBNET)
_NETWORK_IDS = (IdType.IPV4_ADDR, IdType.IPV6_ADDR) + _SUBNET_IDS


@dataclass
class NatDetectionPayload(Payload):
    """NAT-D (RFC 3947 3.2): a hash of cookies, address and port. ``draft`` picks the
    pre-RFC payload number 130."""

    TYPE = PayloadType.NAT_D
    TITLE = "ISAKMP NAT-D Payload"
    TAIL = "data"
    TAIL_LABEL = "hash of address and port"

    data: bytes
    draft: bool = field(default=False, kw_only=True)

    @property
    def payload_type(self) -> int:
        return PayloadType.NAT_D_DRAFT if self.draft else PayloadType.NAT_D

    @classmethod
    def title_for(cls, payload_type: int) -> str:
        return cls.TITLE + (" (draft)" if payload_type == PayloadType.NAT_D_DRAFT else "")

    @classmethod
    def parse_payload(cls, payload_type: int, reader: Reader, trace: Trace | None) -> Payload:
        payload = cls.parse_body(reader, trace)
        payload.draft = payload_type == PayloadType.NAT_D_DRAFT
        return payload


_NAT_OA_SIZES = {IdType.IPV4_ADDR: 4, IdType.IPV6_ADDR: 16}


@dataclass
class NatOriginalAddressPayload(Payload):
    """NAT-OA (RFC 3947 5.2): the original address of a transport-mode peer behind a NAT."""

    TYPE = PayloadType.NAT_OA
    TITLE = "ISAKMP NAT-OA Payload"
    LAYOUT = Layout("ISAKMP NAT-OA Payload", [
        Field("id_type", "B", "ID type", IdType),
        Field("reserved1", "B", "reserved"),
        Field("reserved2", "H", "reserved"),
    ])
    TAIL = "address"
    TAIL_LABEL = "original address"

    id_type: int
    address: bytes
    reserved1: int = 0
    reserved2: int = 0
    draft: bool = field(default=False, kw_only=True)

    @property
    def payload_type(self) -> int:
        return PayloadType.NAT_OA_DRAFT if self.draft else PayloadType.NAT_OA

    @classmethod
    def title_for(cls, payload_type: int) -> str:
        return cls.TITLE + (" (draft)" if payload_type == PayloadType.NAT_OA_DRAFT else "")

    @classmethod
    def parse_payload(cls, payload_type: int, reader: Reader, trace: Trace | None) -> Payload:
        payload = cls.parse_body(reader, trace)
        payload.draft = payload_type == PayloadType.NAT_OA_DRAFT
        return payload

    def check(self) -> None:
        size = _NAT_OA_SIZES.get(self.id_type)
        if size is None:
            raise malformed(f"{self.TITLE}: ID type {show_enum(IdType, self.id_type)} is "
                            "not an IPv4 or IPv6 address", NotifyType.INVALID_ID_INFORMATION)
        if len(self.address) != size:
            raise malformed(f"{self.TITLE}: {show_enum(IdType, self.id_type)} needs {size} "
                            f"bytes, not {len(self.address)}")

    @classmethod
    def _show_tail(cls, trace: Trace, values: dict) -> str:
        address = values["address"]
        if len(address) in (4, 16):
            return str(ipaddress.ip_address(address))
        return show_bytes(address)

    @classmethod
    def for_address(cls, address: IPAddress, draft: bool = False) -> NatOriginalAddressPayload:
        id_type = IdType.IPV4_ADDR if address.version == 4 else IdType.IPV6_ADDR
        return cls(id_type, address.packed, draft=draft)


@dataclass
class NotificationPayload(Payload):
    """RFC 2408 3.14: DOI, protocol, SPI and a notify message type with optional data."""

    TYPE = PayloadType.N
    TITLE = "ISAKMP Notification Payload"
    LAYOUT = Layout("ISAKMP Notification Payload", [
        Field("doi", "I", "domain of interpretation", DOI),
        Field("protocol", "B", "protocol ID", ProtocolId),
        Field("spi_size", "B", "SPI size"),
        Field("notify_type", "H", "notify message type", NotifyType),
    ])

    notify_type: int
    protocol: int = ProtocolId.ISAKMP
    spi: bytes = b""
    data: bytes = b""
    doi: int = DOI.IPSEC

    @classmethod
    def parse_body(cls, reader: Reader, trace: Trace | None) -> Payload:
        values = cls.LAYOUT.unpack(reader, trace)
        check_spi_size(cls.TITLE, values["protocol"], values["spi_size"], NOTIFY_SPI_SIZES)
        spi = reader.take(values["spi_size"], f"{cls.TITLE} SPI")
        data = reader.rest()
        if trace is not None:
            trace.line("SPI", show_bytes(spi))
            trace.line("notification data", show_bytes(data))
        return cls(values["notify_type"], values["protocol"], spi, data, values["doi"])

    def emit_body(self, trace: Trace | None) -> bytes:
        if len(self.spi) > 0xFF:
            raise ValueError(f"cannot emit {self.TITLE}: SPI of {len(self.spi)} bytes")
        out = self.LAYOUT.pack({"doi": self.doi, "protocol": self.protocol,
                                "spi_size": len(self.spi), "notify_type": self.notify_type},
                               trace)
        if trace is not None:
            trace.line("SPI", show_bytes(self.spi))
            trace.line("notification data", show_bytes(self.data))
        return out + self.spi + self.data


@dataclass
class DeletePayload(Payload):
    """RFC 2408 3.15: SPIs of one protocol to delete. ``spi_size`` defaults to the length of
    the SPIs given (it must be stated when there are none)."""

    TYPE = PayloadType.D
    TITLE = "ISAKMP Delete Payload"
    LAYOUT = Layout("ISAKMP Delete Payload", [
        Field("doi", "I", "domain of interpretation", DOI),
        Field("protocol", "B", "protocol ID", ProtocolId),
        Field("spi_size", "B", "SPI size"),
        Field("spi_count", "H", "number of SPIs"),
    ])

    protocol: int
    spis: list[bytes]
    doi: int = DOI.IPSEC
    spi_size: int | None = None

    def __post_init__(self) -> None:
        if self.spi_size is None:
            self.spi_size = len(self.spis[0]) if self.spis else 0

    @classmethod
    def parse_body(cls, reader: Reader, trace: Trace | None) -> Payload:
        values = cls.LAYOUT.unpack(reader, trace)
        size, count = values["spi_size"], values["spi_count"]
        check_spi_size(cls.TITLE, values["protocol"], size, DELETE_SPI_SIZES)
        if size * count != reader.remaining:
            raise malformed(f"{cls.TITLE}: {count} SPIs of {size} bytes do not fill the "
                            f"{reader.remaining} bytes left")
        spis = [reader.take(size, "SPI") for _ in range(count)]
        if trace is not None:
            for spi in spis:
                trace.line("SPI", show_bytes(spi))
        return cls(values["protocol"], spis, values["doi"], size)

    def emit_body(self, trace: Trace | None) -> bytes:
        if any(len(spi) != self.spi_size for spi in self.spis) or len(self.spis) > 0xFFFF:
            raise ValueError(f"cannot emit {self.TITLE}: SPIs do not all have "
                             f"{self.spi_size} bytes (or too many)")
        out = self.LAYOUT.pack({"doi": self.doi, "protocol": self.protocol,
                                "spi_size": self.spi_size, "spi_count": len(self.spis)}, trace)
        if trace is not None:
            for spi in self.spis:
                trace.line("SPI", show_bytes(spi))
        return out + b"".join(self.spis)


@dataclass
class ModeConfigPayload(Payload):
    """The ATTR payload of mode config and XAUTH (draft-dukes-ike-mode-cfg 3.2)."""

    TYPE = PayloadType.ATTR
    TITLE = "ISAKMP Attribute Payload"
    LAYOUT = Layout("ISAKMP Attribute Payload", [
        Field("cfg_type", "B", "attribute message type", ModeCfgType),
        Field("reserved1", "B", "reserved"),
        Field("identifier", "H", "identifier"),
    ])

    cfg_type: int
    attributes: list[Attribute] = field(default_factory=list)
    identifier: int = 0
    reserved1: int = 0

    @classmethod
    def parse_body(cls, reader: Reader, trace: Trace | None) -> Payload:
        values = cls.LAYOUT.unpack(reader, trace)
        attributes = parse_attributes(reader, MODECFG_ATTRIBUTES, trace)
        return cls(values["cfg_type"], attributes, values["identifier"], values["reserved1"])

    def emit_body(self, trace: Trace | None) -> bytes:
        out = self.LAYOUT.pack({"cfg_type": self.cfg_type, "reserved1": self.reserved1,
                                "identifier": self.identifier}, trace)
        return out + emit_attributes(self.attributes, MODECFG_ATTRIBUTES, trace)


@dataclass
class UnknownPayload(Payload):
    """A payload we have no description for (GDOI, private use): kept as raw bytes."""

    TYPE = PayloadType.NONE
    TITLE = "ISAKMP unknown payload"
    TAIL = "data"

    type: int
    data: bytes

    @property
    def payload_type(self) -> int:
        return self.type

    @classmethod
    def title_for(cls, payload_type: int) -> str:
        try:
            return f"{cls.TITLE} {PayloadType(payload_type).name} ({payload_type})"
        except ValueError:
            return f"{cls.TITLE} of type {payload_type}"

    @classmethod
    def parse_payload(cls, payload_type: int, reader: Reader, trace: Trace | None) -> Payload:
        data = reader.rest()
        if trace is not None:
            trace.line(cls.TAIL_LABEL, show_bytes(data))
        return cls(payload_type, data)
