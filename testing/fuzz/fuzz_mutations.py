"""Byte-level mutations shared by the codec fuzzers and the live fuzzer.

Each mutation takes a seeded ``random.Random`` so that a failing input can be rebuilt from
its seed. None of them uses the codecs: they must be able to make what the codecs reject.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable

INTERESTING = (0, 1, 2, 3, 4, 7, 8, 0x7F, 0x80, 0xFE, 0xFF)


def flip_bits(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    return bytes(buf)


def set_bytes(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return bytes([rng.choice(INTERESTING)])
    buf = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        buf[rng.randrange(len(buf))] = rng.choice(INTERESTING + (rng.randrange(256),))
    return bytes(buf)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[:rng.randrange(len(data))] if data else data


def extend(rng: random.Random, data: bytes) -> bytes:
    return data + rng.randbytes(rng.randint(1, 64))


def insert_or_delete(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    if rng.random() < 0.5 or not data:
        return data[:at] + rng.randbytes(rng.randint(1, 8)) + data[at:]
    return data[:at] + data[at + rng.randint(1, 8):]


def any_length_field(rng: random.Random, data: bytes) -> bytes:
    """A 16-bit big-endian field anywhere set to a boundary value (lengths, counts)."""
    if len(data) < 2:
        return extend(rng, data)
    buf = bytearray(data)
    at = rng.randrange(len(buf) - 1)
    old = struct.unpack_from("!H", buf, at)[0]
    new = rng.choice([0, 1, 3, 4, 5, 7, 8, 0xFFFF, old + 1, old - 1, old + 4, old - 4,
                      len(data) - at, len(data) - at + 1])
    struct.pack_into("!H", buf, at, new % 0x10000)
    return bytes(buf)


def splice(rng: random.Random, data: bytes) -> bytes:
    """A slice of the input copied elsewhere in it (repeats a payload or a field run)."""
    if len(data) < 2:
        return extend(rng, data)
    a = rng.randrange(len(data))
    b = rng.randrange(a, min(len(data), a + 64) + 1)
    at = rng.randrange(len(data) + 1)
    return data[:at] + data[a:b] + data[at:]


MUTATIONS: tuple[Callable[[random.Random, bytes], bytes], ...] = (
    flip_bits, set_bytes, truncate, extend, insert_or_delete, any_length_field,
    any_length_field, splice,
)


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One to three stacked mutations."""
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        data = rng.choice(MUTATIONS)(rng, data)
    return data
