"""The IKEv2 SA payload: proposals, transforms and transform attributes (RFC 7296 3.3).

Counts, lengths and "last substructure" markers are computed on emit and checked on parse;
reserved octets are kept so that parsing then emitting gives back the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from pluto.packet.ikev2_payloads import Payload, buffered, replay
from pluto.packet.ikev2_types import (
    DhId,
    EncrId,
    EsnId,
    IntegId,
    PayloadType,
    PrfId,
    ProtocolId,
    TransformAttr,
    TransformType,
)
from pluto.packet.wire import Field, Layout, Reader, Trace, show_bytes, show_enum

MORE_PROPOSALS = 2  # "last substruc" values (they echo IKEv1's payload numbers)
MORE_TRANSFORMS = 3
LAST = 0
ATTR_FORMAT_TV = 0x8000  # the AF bit: type/value form, the value is the 16-bit field itself

# SPI sizes a proposal may carry, per protocol (8 when rekeying an IKE SA).
_PROPOSAL_SPI_SIZES = {ProtocolId.IKE: (0, 8), ProtocolId.AH: (4,), ProtocolId.ESP: (4,)}

_TRANSFORM_ID_NAMES = {
    TransformType.ENCR: EncrId,
    TransformType.PRF: PrfId,
    TransformType.INTEG: IntegId,
    TransformType.DH: DhId,
    TransformType.ESN: EsnId,
}
_TRANSFORM_ID_NAMES.update({t: DhId for t in range(TransformType.ADDKE1, TransformType.ADDKE7 + 1)})


def _show_last(marker: int) -> str:
    return "last" if marker == LAST else f"more ({marker})"


def _show_attr_type(raw: int) -> str:
    text = show_enum(TransformAttr, raw & ~ATTR_FORMAT_TV)
    return ("AF+" + text) if raw & ATTR_FORMAT_TV else text


PROPOSAL = Layout("IKEv2 Proposal Substructure", [
    Field("last", "B", "last proposal", show=_show_last),
    Field("reserved", "B"),
    Field("length", "H"),
    Field("number", "B", "proposal number"),
    Field("protocol", "B", "protocol ID", ProtocolId),
    Field("spi_size", "B", "SPI size"),
    Field("num_transforms", "B", "number of transforms"),
])

TRANSFORM = Layout("IKEv2 Transform Substructure", [
    Field("last", "B", "last transform", show=_show_last),
    Field("reserved1", "B", "reserved"),
    Field("length", "H"),
    Field("transform_type", "B", "transform type", TransformType),
    Field("reserved2", "B", "reserved"),
])

# The transform ID's names depend on the transform type: one layout per type.
_TRANSFORM_ID = {t: Layout("transform ID", [Field("transform_id", "H", "transform ID", names)])
                 for t, names in _TRANSFORM_ID_NAMES.items()}
_TRANSFORM_ID_UNKNOWN = Layout("transform ID", [Field("transform_id", "H", "transform ID")])

ATTRIBUTE = Layout("IKEv2 Transform Attribute", [
    Field("raw_type", "H", "af+type", show=_show_attr_type),
    Field("length_or_value", "H", "length/value"),
])


@dataclass
class TransformAttribute:
    """An attribute in TV form (``value`` is an int) or TLV form (``value`` is bytes)."""

    attr_type: int
    value: int | bytes

    @classmethod
    def key_length(cls, bits: int) -> TransformAttribute:
        return cls(TransformAttr.KEY_LENGTH, bits)

    @classmethod
    def parse(cls, reader: Reader, trace: Trace | None) -> TransformAttribute:
        if trace is not None:
            trace.title(ATTRIBUTE.title)
        values = ATTRIBUTE.unpack(reader, trace)
        raw, second = values["raw_type"], values["length_or_value"]
        if raw & ATTR_FORMAT_TV:
            return cls(raw & ~ATTR_FORMAT_TV, second)
        value = reader.take(second, "transform attribute value")
        if trace is not None:
            trace.line("value", show_bytes(value))
        return cls(raw, value)

    def emit(self, trace: Trace | None) -> bytes:
        if not 0 <= self.attr_type < ATTR_FORMAT_TV:
            raise ValueError(f"transform attribute type {self.attr_type} does not fit 15 bits")
        if trace is not None:
            trace.title(ATTRIBUTE.title)
        if isinstance(self.value, int):
            return ATTRIBUTE.pack({"raw_type": ATTR_FORMAT_TV | self.attr_type,
                                   "length_or_value": self.value}, trace)
        out = ATTRIBUTE.pack({"raw_type": self.attr_type,
                              "length_or_value": len(self.value)}, trace)
        if trace is not None:
            trace.line("value", show_bytes(self.value))
        return out + self.value


@dataclass
class Transform:
    transform_type: int
    transform_id: int
    attributes: list[TransformAttribute] = field(default_factory=list)
    reserved1: int = 0
    reserved2: int = 0

    @property
    def key_length(self) -> int | None:
        """The KEY_LENGTH attribute's value in bits, if there is one in TV form."""
        for attr in self.attributes:
            if attr.attr_type == TransformAttr.KEY_LENGTH and isinstance(attr.value, int):
                return attr.value
        return None

    @classmethod
    def parse(cls, reader: Reader, trace: Trace | None) -> Transform:
        if trace is not None:
            trace.title(TRANSFORM.title)
        values = TRANSFORM.unpack(reader, trace)
        length = values.pop("length")
        if length < TRANSFORM.size + 2:
            raise reader.fail(f"transform length {length} is shorter than its header")
        body = reader.sub(length - TRANSFORM.size, "transform")
        _check_last(reader, values.pop("last"), MORE_TRANSFORMS, "transform")
        id_layout = _TRANSFORM_ID.get(values["transform_type"], _TRANSFORM_ID_UNKNOWN)
        values.update(id_layout.unpack(body, trace))
        nested = trace.nested() if trace is not None else None
        attributes = []
        while not body.at_end():
            attributes.append(TransformAttribute.parse(body, nested))
        return cls(attributes=attributes, **values)

    def emit(self, trace: Trace | None, last: bool) -> bytes:
        nested, later = buffered(trace)
        attributes = b"".join(a.emit(nested) for a in self.attributes)
        if trace is not None:
            trace.title(TRANSFORM.title)
        head = TRANSFORM.pack({
            "last": LAST if last else MORE_TRANSFORMS, "reserved1": self.reserved1,
            "length": TRANSFORM.size + 2 + len(attributes),
            "transform_type": self.transform_type, "reserved2": self.reserved2,
        }, trace)
        id_layout = _TRANSFORM_ID.get(self.transform_type, _TRANSFORM_ID_UNKNOWN)
        head += id_layout.pack({"transform_id": self.transform_id}, trace)
        replay(trace, later)
        return head + attributes


@dataclass
class Proposal:
    number: int
    protocol: int
    transforms: list[Transform]
    spi: bytes = b""
    reserved: int = 0

    @classmethod
    def parse(cls, reader: Reader, trace: Trace | None) -> Proposal:
        if trace is not None:
            trace.title(PROPOSAL.title)
        values = PROPOSAL.unpack(reader, trace)
        length = values.pop("length")
        if length < PROPOSAL.size:
            raise reader.fail(f"proposal length {length} is shorter than its header")
        body = reader.sub(length - PROPOSAL.size, "proposal")
        _check_last(reader, values.pop("last"), MORE_PROPOSALS, "proposal")
        spi_size = values.pop("spi_size")
        allowed = _PROPOSAL_SPI_SIZES.get(values["protocol"])
        if allowed is not None and spi_size not in allowed:
            raise reader.fail(f"proposal {values['number']}: SPI size {spi_size} is wrong for "
                              f"{ProtocolId(values['protocol']).name}")
        spi = body.take(spi_size, "proposal SPI")
        if trace is not None:
            trace.line("SPI", show_bytes(spi))
        count = values.pop("num_transforms")
        nested = trace.nested() if trace is not None else None
        transforms = []
        while not body.at_end():
            transforms.append(Transform.parse(body, nested))
        if not transforms:
            raise reader.fail(f"proposal {values['number']} has no transforms")
        if len(transforms) != count:
            raise reader.fail(f"proposal {values['number']} announces {count} transforms "
                              f"but holds {len(transforms)}")
        return cls(spi=spi, transforms=transforms, **values)

    def emit(self, trace: Trace | None, last: bool) -> bytes:
        nested, later = buffered(trace)
        n = len(self.transforms)
        transforms = b"".join(t.emit(nested, i == n - 1) for i, t in enumerate(self.transforms))
        if trace is not None:
            trace.title(PROPOSAL.title)
        head = PROPOSAL.pack({
            "last": LAST if last else MORE_PROPOSALS, "reserved": self.reserved,
            "length": PROPOSAL.size + len(self.spi) + len(transforms), "number": self.number,
            "protocol": self.protocol, "spi_size": len(self.spi), "num_transforms": n,
        }, trace)
        if trace is not None:
            trace.line("SPI", show_bytes(self.spi))
        replay(trace, later)
        return head + self.spi + transforms


@dataclass
class SAPayload(Payload):
    LAYOUT: ClassVar = Layout("IKEv2 Security Association Payload", [])
    payload_type: ClassVar[int] = PayloadType.SA

    proposals: list[Proposal]

    @classmethod
    def parse_body(cls, reader: Reader, trace: Trace | None = None) -> SAPayload:
        nested = trace.nested() if trace is not None else None
        proposals = []
        while not reader.at_end():
            proposals.append(Proposal.parse(reader, nested))
        if not proposals:
            raise reader.fail("SA payload without proposals")
        # RFC 7296 3.3.1: a request numbers its proposals 1, 2, ...; an answer holds one
        # proposal carrying the number it accepted.
        first = proposals[0].number
        if first == 0 or (len(proposals) > 1 and first != 1):
            raise reader.fail(f"first proposal is number {first}")
        for prev, cur in zip(proposals, proposals[1:], strict=False):
            if cur.number != prev.number + 1:
                raise reader.fail(f"proposal {cur.number} follows proposal {prev.number}")
        return cls(proposals=proposals)

    def emit_body(self, trace: Trace | None = None) -> bytes:
        nested = trace.nested() if trace is not None else None
        n = len(self.proposals)
        return b"".join(p.emit(nested, i == n - 1) for i, p in enumerate(self.proposals))


def _check_last(reader: Reader, marker: int, more: int, what: str) -> None:
    """The substructure's "last" marker must agree with what follows it."""
    expected = LAST if reader.at_end() else more
    if marker != expected:
        raise reader.fail(f"{what} says {'last' if marker == LAST else f'more ({marker})'} "
                          f"but {'nothing' if reader.at_end() else 'more'} follows")
