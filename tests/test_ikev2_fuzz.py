"""Property test: random and mutated IKEv2 messages never crash the codec.

Each hypothesis example draws one seed; a generator seeded with it produces a batch of inputs:
mutations of valid messages (bit flips, byte changes, truncation, insertion, length fields
nudged, payloads reordered or repeated at the byte level and at the object level) and random
bytes. For every input, the codec either raises MalformedMessage or returns something that
emits back to exactly the input bytes. The test counts inputs and requires at least 100,000.
"""

from __future__ import annotations

import random
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ikev2_samples import all_inner_chains, all_messages

from pluto.packet.errors import MalformedMessage
from pluto.packet.ikev2 import (
    Message,
    emit_message,
    emit_payloads,
    parse_message,
    parse_payloads,
)

EXAMPLES = 250
INPUTS_PER_EXAMPLE = 420
MINIMUM_INPUTS = 100_000

MESSAGES = list(all_messages().values())
OUTER = [emit_message(m) for m in MESSAGES]
INNER = [emit_payloads(p) for p in all_inner_chains().values()]
# Payload type numbers worth trying as the first type of an inner chain.
TYPES = list(range(33, 56)) + [0, 1, 2, 3, 32, 56, 128, 200, 255]


# --- a small wire walker, independent of the codec: where the payloads and lengths are ----


def payload_spans(data: bytes, offset: int, first: int) -> list[tuple[int, int, int]]:
    """(offset, length, type) of each payload of a chain, as far as it can be followed."""
    spans, ptype = [], first
    while ptype and offset + 4 <= len(data):
        length = struct.unpack_from("!H", data, offset + 2)[0]
        if length < 4:
            break
        spans.append((offset, length, ptype))
        if ptype in (46, 53):  # SK/SKF: the next field names the inner payload
            break
        ptype = data[offset]
        offset += length
    return spans


def _substructure_lengths(data: bytes, start: int, end: int, header: int) -> list[int]:
    """Offsets of the length fields of a run of substructures (length at +2)."""
    fields, at = [], start
    while at + header <= min(end, len(data)):
        fields.append(at + 2)
        at += max(struct.unpack_from("!H", data, at + 2)[0], header)
    return fields


def length_fields(data: bytes, offset: int, first: int) -> list[int]:
    """Offsets of the 2-byte length fields of payloads, proposals, transforms, selectors."""
    fields = []
    for start, length, ptype in payload_spans(data, offset, first):
        fields.append(start + 2)
        end = min(start + length, len(data))
        if ptype == 33:  # SA: proposals, then their transforms
            for p in _substructure_lengths(data, start + 4, end, 8):
                fields.append(p)
                plen = struct.unpack_from("!H", data, p)[0]
                t = p - 2 + 8 + data[p + 4]  # after the proposal header and its SPI
                fields += _substructure_lengths(data, t, min(p - 2 + plen, end), 8)
        elif ptype in (44, 45):  # TSi/TSr: selectors after the 4-byte count/reserved
            fields += _substructure_lengths(data, start + 8, end, 4)
    return fields


# --- mutations ----------------------------------------------------------------------------


def flip_bits(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(buf))
        buf[i] ^= 1 << rng.randrange(8)
    return bytes(buf)


def set_bytes(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        buf[rng.randrange(len(buf))] = rng.choice([0, 1, 2, 3, 4, 0x7F, 0x80, 0xFF,
                                                   rng.randrange(256)])
    return bytes(buf)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[:rng.randrange(len(data))]


def insert_or_delete(rng: random.Random, data: bytes) -> bytes:
    i = rng.randrange(len(data))
    if rng.random() < 0.5:
        return data[:i] + rng.randbytes(rng.randint(1, 8)) + data[i:]
    return data[:i] + data[i + rng.randint(1, 8):]


def nudge_length(rng: random.Random, data: bytes, fields: list[int]) -> bytes:
    buf = bytearray(data)
    at = rng.choice(fields)
    old = struct.unpack_from("!H", buf, at)[0]
    new = rng.choice([old + rng.randint(-8, 8), 0, 1, 3, 4, 7, 8, 0xFFFF, rng.randrange(65536)])
    struct.pack_into("!H", buf, at, new % 65536)
    return bytes(buf)


def reorder_bytes(rng: random.Random, data: bytes, header: int, first: int) -> bytes:
    """Payloads cut out and put back shuffled, dropped or repeated; chain fixed or not."""
    spans = payload_spans(data, header, first)
    if not spans or len(data) < header:
        return data
    pieces = [(data[o:o + n], t) for o, n, t in spans]
    choice = rng.random()
    if choice < 0.4:
        rng.shuffle(pieces)
    elif choice < 0.7:
        pieces.insert(rng.randrange(len(pieces) + 1), rng.choice(pieces))
    else:
        del pieces[rng.randrange(len(pieces))]
    if rng.random() < 0.7:  # make the chain consistent again
        fixed = []
        for i, (raw, ptype) in enumerate(pieces):
            nxt = pieces[i + 1][1] if i + 1 < len(pieces) else 0
            if ptype not in (46, 53):
                raw = bytes([nxt]) + raw[1:]
            fixed.append((raw, ptype))
        pieces = fixed
    chain = b"".join(raw for raw, _ in pieces)
    first_type = pieces[0][1] if pieces else 0
    if header == 0:
        return chain
    head = bytearray(data[:header])
    head[16] = first_type
    struct.pack_into("!I", head, 24, header + len(chain))
    return bytes(head) + chain


def reorder_objects(rng: random.Random, msg: Message) -> bytes:
    """A shuffled or repeated payload list, emitted properly (SK/SKF kept last)."""
    payloads = list(msg.payloads)
    encrypted = payloads.pop() if msg.encrypted is not None else None
    if payloads:
        rng.shuffle(payloads)
        payloads.insert(rng.randrange(len(payloads) + 1), rng.choice(payloads))
    if encrypted is not None:
        payloads.append(encrypted)
    return emit_message(Message(msg.ispi, msg.rspi, msg.exchange, msg.flags, msg.message_id,
                                payloads, msg.major, msg.minor))


def mutate(rng: random.Random, data: bytes, header: int, first: int) -> bytes:
    if not data:
        return rng.randbytes(rng.randrange(1, 16))
    kind = rng.randrange(8)
    if kind == 0:
        return flip_bits(rng, data)
    if kind == 1:
        return set_bytes(rng, data)
    if kind == 2:
        return truncate(rng, data)
    if kind == 3:
        return insert_or_delete(rng, data)
    if kind in (4, 5):
        fields = length_fields(data, header, first) + ([26] if header else [])
        fields = [f for f in fields if f + 2 <= len(data)]
        return nudge_length(rng, data, fields) if fields else set_bytes(rng, data)
    if kind == 6:
        return reorder_bytes(rng, data, header, first)
    # Stacked mutations.
    for _ in range(rng.randint(2, 4)):
        data = mutate(rng, data, header, first)
    return data


# --- the checks ---------------------------------------------------------------------------


def check_message(data: bytes) -> bool:
    """Parse; on success the message must emit back to the same bytes. True if parsed."""
    try:
        msg = parse_message(data)
    except MalformedMessage as err:
        assert err.notify in (1, 5, 7)
        return False
    assert emit_message(msg) == data
    assert parse_message(emit_message(msg)) == msg
    return True


def check_inner(data: bytes, first: int) -> bool:
    try:
        payloads = parse_payloads(data, first)
    except MalformedMessage as err:
        assert err.notify in (1, 7)
        return False
    assert emit_payloads(payloads) == ((payloads[0].payload_type if payloads else 0), data)
    return True


def run_batch(seed: int, count: int) -> tuple[int, int]:
    """Check ``count`` generated inputs; returns (inputs checked, inputs that parsed)."""
    rng = random.Random(seed)
    parsed = 0
    for _ in range(count):
        roll = rng.random()
        if roll < 0.55:
            i = rng.randrange(len(OUTER))
            parsed += check_message(mutate(rng, OUTER[i], 28, OUTER[i][16]))
        elif roll < 0.85:
            first, data = rng.choice(INNER)
            if rng.random() < 0.1:
                first = rng.choice(TYPES)
            parsed += check_inner(mutate(rng, data, 0, first), first)
        elif roll < 0.92:
            parsed += check_message(reorder_objects(rng, rng.choice(MESSAGES)))
        elif roll < 0.96:
            # Random bytes behind a plausible header, so the payload parsers are reached.
            body = rng.randbytes(rng.randrange(0, 120))
            head = bytearray(OUTER[rng.randrange(len(OUTER))][:28])
            head[16] = rng.choice(TYPES)
            struct.pack_into("!I", head, 24, 28 + len(body))
            parsed += check_message(bytes(head) + body)
        else:
            parsed += check_message(rng.randbytes(rng.randrange(0, 80)))
    return count, parsed


def test_random_and_mutated_messages():
    totals = {"inputs": 0, "parsed": 0}

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(seed=st.integers(min_value=0, max_value=2**64 - 1))
    def batch(seed: int) -> None:
        inputs, parsed = run_batch(seed, INPUTS_PER_EXAMPLE)
        totals["inputs"] += inputs
        totals["parsed"] += parsed

    batch()
    assert totals["inputs"] >= MINIMUM_INPUTS
    # The mutations must exercise both outcomes, not just the first length check.
    assert totals["inputs"] * 0.05 < totals["parsed"] < totals["inputs"] * 0.95


def test_every_mutation_kind_is_exercised():
    """Each mutation changes the bytes for at least one sample (the walker finds fields)."""
    rng = random.Random(7)
    data = OUTER[0]
    fields = length_fields(data, 28, data[16])
    assert 26 not in fields and len(fields) > 20  # payloads, proposals and transforms
    for mutation in (flip_bits, set_bytes, truncate, insert_or_delete):
        assert mutation(rng, data) != data
    assert nudge_length(random.Random(1), data, fields) != data
    assert reorder_bytes(random.Random(3), data, 28, data[16]) != data
