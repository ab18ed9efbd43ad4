"""The declarative core shared by the IKEv2 and IKEv1 codecs.

A payload's fixed part is described once as a :class:`Layout` (a title and a list of
:class:`Field`). The same description drives parsing (through a bounds-checked
:class:`Reader`), emitting, and the ``parsing``/``emitting`` debug output, which prints one line
per field, indented per payload::

    | parse IKEv2 Key Exchange Payload:
    |    next payload type: NONCE (40)
    |    critical: no
    |    length: 40 (0x28)
    |    DH group: CURVE25519 (31)

:class:`Struct` turns a dataclass into a codec from its ``LAYOUT`` (fields mapped to attributes
of the same name) and an optional ``TAIL`` attribute that takes the rest of the bytes. Payloads
with nested parts (proposals, selectors, attributes) override ``parse_body``/``emit_body`` and
still use the same layouts for their pieces.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pluto.log import Logger
from pluto.packet.errors import MalformedMessage


class Reader:
    """Bytes being parsed; every read is checked against what is left."""

    __slots__ = ("buf", "pos", "end", "notify")

    def __init__(self, buf: bytes, notify: int, start: int = 0, end: int | None = None) -> None:
        self.buf = bytes(buf)
        self.pos = start
        self.end = len(self.buf) if end is None else end
        self.notify = notify  # what to answer when the bytes run out

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def at_end(self) -> bool:
        return self.pos >= self.end

    def fail(self, reason: str, notify: int | None = None, data: bytes = b"") -> MalformedMessage:
        return MalformedMessage(reason, self.notify if notify is None else notify, data)

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or n > self.remaining:
            raise self.fail(f"{what}: needs {n} bytes but only {self.remaining} are left")
        data = self.buf[self.pos:self.pos + n]
        self.pos += n
        return data

    def unpack(self, st: struct.Struct, what: str) -> tuple:
        if st.size > self.remaining:
            raise self.fail(f"{what}: needs {st.size} bytes but only {self.remaining} are left")
        values = st.unpack_from(self.buf, self.pos)
        self.pos += st.size
        return values

    def sub(self, n: int, what: str) -> Reader:
        """A reader over the next ``n`` bytes, which this reader then skips."""
        if n < 0 or n > self.remaining:
            raise self.fail(f"{what}: length {n} runs past the {self.remaining} bytes left")
        child = Reader.__new__(Reader)
        child.buf, child.pos, child.end, child.notify = self.buf, self.pos, self.pos + n, self.notify
        self.pos += n
        return child

    def rest(self) -> bytes:
        data = self.buf[self.pos:self.end]
        self.pos = self.end
        return data

    def peek_u8(self, offset: int = 0) -> int:
        if offset >= self.remaining:
            raise self.fail("needs 1 more byte")
        return self.buf[self.pos + offset]


def show_enum(names: type[enum.IntEnum] | None, value: int) -> str:
    """``NAME (N)`` for a registry value, ``N`` or ``UNKNOWN (N)`` otherwise."""
    if names is None:
        return f"{value} ({value:#x})" if value > 9 else str(value)
    try:
        return f"{names(value).name} ({value})"
    except ValueError:
        return f"UNKNOWN-{names.__name__} ({value})"


def show_bytes(data: bytes, limit: int = 32) -> str:
    if len(data) <= limit:
        return data.hex(" ") if data else "(empty)"
    return f"{data[:limit].hex(' ')} ... ({len(data)} bytes)"


class Trace:
    """Debug output for one payload being parsed or emitted; ``None`` when the class is off."""

    __slots__ = ("logger", "verb", "depth")

    def __init__(self, logger: Logger, verb: str, depth: int = 0) -> None:
        self.logger, self.verb, self.depth = logger, verb, depth

    @staticmethod
    def start(logger: Logger | None, cls: str) -> Trace | None:
        """A trace if ``logger`` has debug class ``cls`` (``parsing`` or ``emitting``) on."""
        if logger is None or cls not in logger.flags:
            return None
        return Trace(logger, "parse" if cls == "parsing" else "emit", 0)

    def title(self, text: str) -> None:
        self.logger.sink("| " + "   " * self.depth + f"{self.verb} {text}:")

    def line(self, name: str, value: str) -> None:
        self.logger.sink("| " + "   " * (self.depth + 1) + f"{name}: {value}")

    def nested(self) -> Trace:
        return Trace(self.logger, self.verb, self.depth + 1)


@dataclass(frozen=True)
class Field:
    """One fixed-size field: a struct code (``B``, ``H``, ``I``, ``Q`` or ``Ns``) and a label."""

    name: str
    fmt: str
    label: str = ""
    names: type[enum.IntEnum] | None = None
    show: Callable[[Any], str] | None = None

    def describe(self, value: Any) -> str:
        if self.show is not None:
            return self.show(value)
        if isinstance(value, bytes):
            return show_bytes(value)
        return show_enum(self.names, value)


class Layout:
    """A title and the fields of a fixed-size structure, in wire order."""

    def __init__(self, title: str, fields: Sequence[Field]) -> None:
        self.title = title
        self.fields = tuple(fields)
        self.struct = struct.Struct("!" + "".join(f.fmt for f in self.fields))
        self.size = self.struct.size
        # Worked out once: every message parses and emits several layouts.
        self.names = tuple(f.name for f in self.fields)
        self.byte_sizes = tuple((f.name, int(f.fmt[:-1])) for f in self.fields
                                if f.fmt.endswith("s"))

    def unpack(self, reader: Reader, trace: Trace | None = None) -> dict[str, Any]:
        values = dict(zip(self.names, reader.unpack(self.struct, self.title), strict=True))
        if trace is not None:
            self.trace(trace, values)
        return values

    def unpack_values(self, reader: Reader, trace: Trace | None = None) -> tuple:
        """The fields' values in wire order (no dict built unless tracing)."""
        values = reader.unpack(self.struct, self.title)
        if trace is not None:
            self.trace(trace, dict(zip(self.names, values, strict=True)))
        return values

    def pack(self, values: dict[str, Any], trace: Trace | None = None) -> bytes:
        if trace is not None:
            self.trace(trace, values)
        return self.pack_values([values[name] for name in self.names])

    def pack_values(self, values: Sequence[Any], trace: Trace | None = None) -> bytes:
        """The fields' values in wire order, packed."""
        if trace is not None:
            self.trace(trace, dict(zip(self.names, values, strict=True)))
        try:
            return self.struct.pack(*values)
        except struct.error as err:
            raise ValueError(f"cannot emit {self.title}: {err}") from None

    def trace(self, trace: Trace, values: dict[str, Any]) -> None:
        for f in self.fields:
            trace.line(f.label or f.name.replace("_", " "), f.describe(values[f.name]))


class Struct:
    """Base for dataclasses whose wire form is ``LAYOUT`` plus an optional byte ``TAIL``.

    Subclasses are dataclasses with one attribute per layout field (and the tail). Fields
    named ``reserved*`` are kept so that parse-then-emit gives back the same bytes.
    """

    LAYOUT: ClassVar[Layout]
    TAIL: ClassVar[str | None] = None
    TAIL_LABEL: ClassVar[str] = "data"

    @classmethod
    def parse_body(cls, reader: Reader, trace: Trace | None = None) -> Struct:
        values = cls.LAYOUT.unpack(reader, trace)
        if cls.TAIL is not None:
            values[cls.TAIL] = reader.rest()
            if trace is not None:
                trace.line(cls.TAIL_LABEL, show_bytes(values[cls.TAIL]))
        elif not reader.at_end():
            raise reader.fail(f"{cls.LAYOUT.title}: {reader.remaining} unexpected trailing bytes")
        return cls(**values)

    def emit_body(self, trace: Trace | None = None) -> bytes:
        layout = self.LAYOUT
        if trace is None:
            out = layout.pack_values([getattr(self, name) for name in layout.names])
        else:
            out = layout.pack({name: getattr(self, name) for name in layout.names}, trace)
        if self.TAIL is not None:
            tail = getattr(self, self.TAIL)
            if trace is not None:
                trace.line(self.TAIL_LABEL, show_bytes(tail))
            out += tail
        return out
