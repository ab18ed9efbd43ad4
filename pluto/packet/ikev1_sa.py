"""The IKEv1 SA payload (RFC 2408 3.4-3.6, RFC 2407 4.2): proposals and transforms with their
own next-payload chains (P ... NONE, T ... NONE) inside the SA payload's length.

Parsing checks the nesting the RFC describes: at least one proposal, proposal numbers that
never go down (equal numbers form an AND bundle such as AH+ESP), at least one transform, a
transform count that matches, chains that end exactly where the enclosing length ends, and SPI
sizes that fit the protocol. Length overruns answer PAYLOAD_MALFORMED; broken chains or counts
answer BAD_PROPOSAL_SYNTAX; a wrong SPI size INVALID_SPI.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pluto.packet.ikev1_payloads import (
    Attribute,
    Payload,
    check_spi_size,
    emit_attributes,
    emit_generic,
    malformed,
    parse_attributes,
    parse_generic,
)
from pluto.packet.ikev1_types import (
    DOI,
    TRANSFORM_IDS,
    NotifyType,
    PayloadType,
    ProtocolId,
    Situation,
    attribute_names_for,
)
from pluto.packet.wire import Field, Layout, Reader, Trace, show_bytes

BAD_SYNTAX = NotifyType.BAD_PROPOSAL_SYNTAX

# Proposal SPI sizes (RFC 2407 4.4: 4-byte SPIs for AH/ESP, a 2-byte CPI for IPComp that some
# peers pad to 4; RFC 2409 lets phase 1 proposals carry no SPI or the cookies).
PROPOSAL_SPI_SIZES: dict[int, frozenset[int]] = {
    ProtocolId.ISAKMP: frozenset(range(17)),
    ProtocolId.IPSEC_AH: frozenset({4}),
    ProtocolId.IPSEC_ESP: frozenset({4}),
    ProtocolId.IPCOMP: frozenset({2, 4}),
}


def _transform_layout(names) -> Layout:
    return Layout("ISAKMP Transform Payload", [
        Field("number", "B", "transform number"),
        Field("transform_id", "B", "transform ID", names),
        Field("reserved2", "H", "reserved"),
    ])


_TRANSFORM_LAYOUTS = {proto: _transform_layout(names) for proto, names in TRANSFORM_IDS.items()}
_GENERIC_TRANSFORM_LAYOUT = _transform_layout(None)


@dataclass
class Transform:
    """One transform; its attributes are Oakley ones for ISAKMP, IPsec DOI ones otherwise."""

    TITLE = "ISAKMP Transform Payload"

    number: int
    transform_id: int
    attributes: list[Attribute] = field(default_factory=list)
    reserved2: int = 0
    reserved: int = 0  # generic header

    def find(self, attribute_type: int) -> Attribute | None:
        """The first attribute of a type (None when absent)."""
        for attribute in self.attributes:
            if attribute.type == attribute_type:
                return attribute
        return None

    @classmethod
    def parse(cls, reader: Reader, protocol: int, trace: Trace | None) -> tuple[int, Transform]:
        """One transform from ``reader``; returns its next-payload value and the transform."""
        next_type, reserved, body = parse_generic(reader, cls.TITLE, trace)
        layout = _TRANSFORM_LAYOUTS.get(protocol, _GENERIC_TRANSFORM_LAYOUT)
        values = layout.unpack(body, trace)
        attributes = parse_attributes(body, attribute_names_for(protocol), trace)
        return next_type, cls(values["number"], values["transform_id"], attributes,
                              values["reserved2"], reserved)

    def emit_body(self, protocol: int, trace: Trace | None) -> bytes:
        layout = _TRANSFORM_LAYOUTS.get(protocol, _GENERIC_TRANSFORM_LAYOUT)
        out = layout.pack({"number": self.number, "transform_id": self.transform_id,
                           "reserved2": self.reserved2}, trace)
        return out + emit_attributes(self.attributes, attribute_names_for(protocol), trace)


_PROPOSAL_LAYOUT = Layout("ISAKMP Proposal Payload", [
    Field("number", "B", "proposal number"),
    Field("protocol", "B", "protocol ID", ProtocolId),
    Field("spi_size", "B", "SPI size"),
    Field("transform_count", "B", "number of transforms"),
])


@dataclass
class Proposal:
    TITLE = "ISAKMP Proposal Payload"

    number: int
    protocol: int
    transforms: list[Transform] = field(default_factory=list)
    spi: bytes = b""
    reserved: int = 0  # generic header

    @classmethod
    def parse(cls, reader: Reader, trace: Trace | None) -> tuple[int, Proposal]:
        next_type, reserved, body = parse_generic(reader, cls.TITLE, trace)
        values = _PROPOSAL_LAYOUT.unpack(body, trace)
        protocol, count = values["protocol"], values["transform_count"]
        check_spi_size(cls.TITLE, protocol, values["spi_size"], PROPOSAL_SPI_SIZES)
        spi = body.take(values["spi_size"], "proposal SPI")
        if trace is not None:
            trace.line("SPI", show_bytes(spi))
        transforms = _parse_chain(body, PayloadType.T, "transform",
                                  lambda r, t: Transform.parse(r, protocol, t), trace)
        if len(transforms) != count:
            raise malformed(f"proposal {values['number']} says {count} transforms but "
                            f"carries {len(transforms)}", BAD_SYNTAX)
        return next_type, cls(values["number"], protocol, transforms, spi, reserved)

    def emit_body(self, trace: Trace | None) -> bytes:
        if len(self.spi) > 0xFF or len(self.transforms) > 0xFF:
            raise ValueError(f"cannot emit {self.TITLE}: SPI or transform list too long")
        out = _PROPOSAL_LAYOUT.pack({"number": self.number, "protocol": self.protocol,
                                     "spi_size": len(self.spi),
                                     "transform_count": len(self.transforms)}, trace)
        if trace is not None:
            trace.line("SPI", show_bytes(self.spi))
        parts = [out, self.spi]
        nested = trace.nested() if trace is not None else None
        for i, transform in enumerate(self.transforms):
            next_type = PayloadType.T if i + 1 < len(self.transforms) else PayloadType.NONE
            parts.append(emit_generic(
                Transform.TITLE, next_type, transform.reserved,
                lambda t, tr=transform: tr.emit_body(self.protocol, t), nested))
        return b"".join(parts)


def _parse_chain(reader: Reader, link_type: int, what: str, parse_one, trace: Trace | None):
    """Items chained with ``link_type`` ... NONE that must fill ``reader`` exactly."""
    items = []
    nested = trace.nested() if trace is not None else None
    while True:
        if reader.at_end():
            raise malformed(f"expected a {what} but its container has no bytes left", BAD_SYNTAX)
        next_type, item = parse_one(reader, nested)
        items.append(item)
        if next_type == PayloadType.NONE:
            break
        if next_type != link_type:
            raise malformed(f"{what} {len(items)} is followed by payload type {next_type}, "
                            f"expected {link_type} or 0", BAD_SYNTAX)
    if not reader.at_end():
        raise malformed(f"{reader.remaining} bytes follow the last {what}", BAD_SYNTAX)
    return items


def _show_situation(value: int) -> str:
    names = [flag.name for flag in Situation if value & flag]
    return f"{'+'.join(names) if names else 'none'} ({value:#x})"


_SA_LAYOUT = Layout("ISAKMP Security Association Payload", [
    Field("doi", "I", "domain of interpretation", DOI),
    Field("situation", "I", "situation", show=_show_situation),
])


@dataclass
class SecurityAssociationPayload(Payload):
    """RFC 2408 3.4 with the IPsec DOI situation (RFC 2407 4.2)."""

    TYPE = PayloadType.SA
    TITLE = "ISAKMP Security Association Payload"
    LAYOUT = _SA_LAYOUT

    proposals: list[Proposal]
    doi: int = DOI.IPSEC
    situation: int = Situation.IDENTITY_ONLY

    @classmethod
    def parse_body(cls, reader: Reader, trace: Trace | None) -> Payload:
        values = _SA_LAYOUT.unpack(reader, trace)
        doi, situation = values["doi"], values["situation"]
        if doi != DOI.IPSEC:
            # The situation's format (and what follows it) is DOI specific.
            raise malformed(f"SA payload DOI {doi} is not the IPsec DOI",
                            NotifyType.DOI_NOT_SUPPORTED, doi.to_bytes(4, "big"))
        if situation & (Situation.SECRECY | Situation.INTEGRITY):
            # Labeled-domain situations add fields nobody implements (RFC 2407 4.6.1).
            raise malformed(f"SA payload situation {situation:#x} asks for secrecy/integrity "
                            "labels", NotifyType.SITUATION_NOT_SUPPORTED,
                            situation.to_bytes(4, "big"))
        proposals = _parse_chain(reader, PayloadType.P, "proposal", Proposal.parse, trace)
        for before, after in zip(proposals, proposals[1:], strict=False):
            if after.number < before.number:
                raise malformed(f"proposal {after.number} follows proposal {before.number}",
                                BAD_SYNTAX)
        return cls(proposals, doi, situation)

    def emit_body(self, trace: Trace | None) -> bytes:
        parts = [_SA_LAYOUT.pack({"doi": self.doi, "situation": self.situation}, trace)]
        nested = trace.nested() if trace is not None else None
        for i, proposal in enumerate(self.proposals):
            next_type = PayloadType.P if i + 1 < len(self.proposals) else PayloadType.NONE
            parts.append(emit_generic(Proposal.TITLE, next_type, proposal.reserved,
                                      proposal.emit_body, nested))
        return b"".join(parts)
