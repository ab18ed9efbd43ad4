"""The IKEv2 Traffic Selector payloads TSi and TSr (RFC 7296 section 3.13).

IPv4 and IPv6 address ranges are decoded; selectors of other types (Fibre Channel, security
labels, ...) are kept raw so that they survive a round trip.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import ClassVar

from pluto.packet.ikev2_payloads import NO_RESERVED, Payload, check_fixed_bytes
from pluto.packet.ikev2_types import PayloadType, TsType
from pluto.packet.wire import Field, Layout, Reader, Trace, show_bytes

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _show_address(raw: bytes) -> str:
    return str(ipaddress.ip_address(raw))


SELECTOR_HEADER = Layout("IKEv2 Traffic Selector", [
    Field("ts_type", "B", "TS type", TsType),
    Field("ip_protocol", "B", "IP protocol ID"),
    Field("length", "H"),
])


def _range_layout(address_size: int) -> Layout:
    return Layout("address range", [
        Field("start_port", "H", "start port"),
        Field("end_port", "H", "end port"),
        Field("start_address", f"{address_size}s", "start address", show=_show_address),
        Field("end_address", f"{address_size}s", "end address", show=_show_address),
    ])


_RANGES = {TsType.TS_IPV4_ADDR_RANGE: (_range_layout(4), ipaddress.IPv4Address),
           TsType.TS_IPV6_ADDR_RANGE: (_range_layout(16), ipaddress.IPv6Address)}


@dataclass
class TrafficSelector:
    """An IPv4 or IPv6 address range with a protocol and a port range."""

    ts_type: int
    start_address: IPAddress
    end_address: IPAddress
    ip_protocol: int = 0
    start_port: int = 0
    end_port: int = 65535

    @classmethod
    def ipv4(cls, start: str, end: str, protocol: int = 0, ports: tuple[int, int] = (0, 65535)
             ) -> TrafficSelector:
        return cls(TsType.TS_IPV4_ADDR_RANGE, ipaddress.IPv4Address(start),
                   ipaddress.IPv4Address(end), protocol, *ports)

    @classmethod
    def ipv6(cls, start: str, end: str, protocol: int = 0, ports: tuple[int, int] = (0, 65535)
             ) -> TrafficSelector:
        return cls(TsType.TS_IPV6_ADDR_RANGE, ipaddress.IPv6Address(start),
                   ipaddress.IPv6Address(end), protocol, *ports)

    def emit(self, trace: Trace | None) -> bytes:
        layout, address_type = _RANGES[self.ts_type]
        if not (isinstance(self.start_address, address_type)
                and isinstance(self.end_address, address_type)):
            raise ValueError(f"TS type {self.ts_type} needs {address_type.__name__} addresses")
        if trace is not None:
            trace.title(SELECTOR_HEADER.title)
        head = SELECTOR_HEADER.pack({"ts_type": self.ts_type, "ip_protocol": self.ip_protocol,
                                     "length": SELECTOR_HEADER.size + layout.size}, trace)
        return head + layout.pack({
            "start_port": self.start_port, "end_port": self.end_port,
            "start_address": self.start_address.packed, "end_address": self.end_address.packed,
        }, trace)


@dataclass
class RawTrafficSelector:
    """A selector of a type this codec does not decode: everything after its length field."""

    ts_type: int
    data: bytes = b""
    ip_protocol: int = 0  # the octet after the type (reserved in some selector types)

    def emit(self, trace: Trace | None) -> bytes:
        if trace is not None:
            trace.title(SELECTOR_HEADER.title)
        head = SELECTOR_HEADER.pack({"ts_type": self.ts_type, "ip_protocol": self.ip_protocol,
                                     "length": SELECTOR_HEADER.size + len(self.data)}, trace)
        if trace is not None:
            trace.line("data", show_bytes(self.data))
        return head + self.data


Selector = TrafficSelector | RawTrafficSelector


def parse_selector(reader: Reader, trace: Trace | None) -> Selector:
    if trace is not None:
        trace.title(SELECTOR_HEADER.title)
    head = SELECTOR_HEADER.unpack(reader, trace)
    ts_type, length = head["ts_type"], head["length"]
    if length < SELECTOR_HEADER.size:
        raise reader.fail(f"traffic selector length {length} is shorter than its header")
    body = reader.sub(length - SELECTOR_HEADER.size, "traffic selector")
    known = _RANGES.get(ts_type)
    if known is None:
        data = body.rest()
        if trace is not None:
            trace.line("data", show_bytes(data))
        return RawTrafficSelector(ts_type, data, head["ip_protocol"])
    layout, address_type = known
    if body.remaining != layout.size:
        raise reader.fail(f"traffic selector of type {ts_type} has length {length}, "
                          f"not {SELECTOR_HEADER.size + layout.size}")
    values = layout.unpack(body, trace)
    return TrafficSelector(ts_type, address_type(values["start_address"]),
                           address_type(values["end_address"]), head["ip_protocol"],
                           values["start_port"], values["end_port"])


@dataclass
class _TSPayload(Payload):
    LAYOUT: ClassVar = Layout("IKEv2 Traffic Selector Payload", [
        Field("num_selectors", "B", "number of TS"),
        Field("reserved", "3s"),
    ])

    selectors: list[Selector] = field(default_factory=list)
    reserved: bytes = NO_RESERVED

    @classmethod
    def parse_body(cls, reader: Reader, trace: Trace | None = None) -> _TSPayload:
        values = cls.LAYOUT.unpack(reader, trace)
        nested = trace.nested() if trace is not None else None
        selectors = []
        while not reader.at_end():
            selectors.append(parse_selector(reader, nested))
        if len(selectors) != values["num_selectors"]:
            raise reader.fail(f"{cls.LAYOUT.title} announces {values['num_selectors']} "
                              f"selectors but holds {len(selectors)}")
        return cls(selectors=selectors, reserved=values["reserved"])

    def emit_body(self, trace: Trace | None = None) -> bytes:
        check_fixed_bytes(self, self.LAYOUT)
        out = self.LAYOUT.pack({"num_selectors": len(self.selectors),
                                "reserved": self.reserved}, trace)
        nested = trace.nested() if trace is not None else None
        return out + b"".join(s.emit(nested) for s in self.selectors)


@dataclass
class TSiPayload(_TSPayload):
    LAYOUT: ClassVar = Layout("IKEv2 Traffic Selector - Initiator Payload",
                              _TSPayload.LAYOUT.fields)
    payload_type: ClassVar[int] = PayloadType.TSi


@dataclass
class TSrPayload(_TSPayload):
    LAYOUT: ClassVar = Layout("IKEv2 Traffic Selector - Responder Payload",
                              _TSPayload.LAYOUT.fields)
    payload_type: ClassVar[int] = PayloadType.TSr
