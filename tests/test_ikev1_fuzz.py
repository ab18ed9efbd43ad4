"""Property test: random and mutated IKEv1 messages never crash the codec, and whatever parses
re-emits to exactly the same bytes.

Each hypothesis example draws a seed; a ``random.Random`` seeded with it makes a batch of
inputs from the sample messages: bit flips, byte overwrites, truncation, insertion and deletion,
length and count fields nudged (found by a small walker that does not use the codec), payload
spans swapped or repeated at the byte level, payloads, proposals and transforms reordered or
repeated at the object level, next-payload bytes rewritten, and plain random bytes. Half of the
message mutations also fix the header length, so the payload parsers (not just the header
check) see them. Inputs are counted; at least 100,000 are required.
"""

from __future__ import annotations

import dataclasses
import random
import struct

import ikev1_samples as s
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pluto.packet.errors import MalformedMessage
from pluto.packet.ikev1 import (
    Attribute,
    CertificatePayload,
    CertificateRequestPayload,
    DeletePayload,
    EncryptedBody,
    HashPayload,
    IdentificationPayload,
    KeyExchangePayload,
    Message,
    ModeConfigPayload,
    NatDetectionPayload,
    NatOriginalAddressPayload,
    NoncePayload,
    NotificationPayload,
    Proposal,
    SecurityAssociationPayload,
    SignaturePayload,
    Transform,
    UnknownPayload,
    VendorIdPayload,
    emit_message,
    emit_payloads,
    parse_message,
    parse_payloads,
)

EXAMPLES = 200
BATCH = 520
MINIMUM_INPUTS = 100_000

# Whole messages, plus every decrypted sample wrapped in a clear header so SA, ID, N, D, ATTR
# and NAT-OA bodies are reached through parse_message too.
MESSAGES = list(s.MESSAGES.values()) + list(s.clear_messages().values())
CONTENTS = list(s.CONTENTS.values())
PARSED = [parse_message(m) for m in MESSAGES]
CLEAR_PARSED = [m for m in PARSED if m.encrypted is None]
INTERESTING_TYPES = [0, 1, 2, 3, 4, 5, 8, 11, 12, 13, 14, 15, 20, 21, 22, 23, 50, 127, 128,
                     130, 131, 132, 255]
INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x03, 0x04, 0x7F, 0x80, 0xFE, 0xFF]


# --- where the length and count fields are (independent of the codec) ---------------------


def _spans(data: bytes, offset: int, first: int) -> list[tuple[int, int, int]]:
    """(offset, length, type) of the generic payloads of a chain, as far as it can be walked."""
    spans, ptype = [], first
    while ptype and offset + 4 <= len(data):
        length = struct.unpack_from("!H", data, offset + 2)[0]
        spans.append((offset, length, ptype))
        if length < 4:
            break
        ptype, offset = data[offset], offset + length
    return spans


def _fields(data: bytes, offset: int, first: int) -> tuple[list[int], list[int]]:
    """Offsets of 2-byte length fields and of 1-byte size/count fields."""
    lengths, counts = [], []
    for start, length, ptype in _spans(data, offset, first):
        lengths.append(start + 2)
        end = min(start + length, len(data))
        if ptype == s.N and start + 10 <= end:
            counts.append(start + 9)  # SPI size
        elif ptype == s.D and start + 12 <= end:
            counts += [start + 9, start + 11]  # SPI size, number of SPIs
        elif ptype == s.SA:
            p = start + 12
            while p + 8 <= end:
                plen = struct.unpack_from("!H", data, p + 2)[0]
                lengths.append(p + 2)
                counts += [p + 6, p + 7]  # SPI size, number of transforms
                t = p + 8 + data[p + 6]
                while t + 8 <= min(p + plen, end):
                    tlen = struct.unpack_from("!H", data, t + 2)[0]
                    lengths.append(t + 2)
                    a = t + 8
                    while a + 4 <= min(t + tlen, end):
                        af_type, value = struct.unpack_from("!HH", data, a)
                        if not af_type & 0x8000:
                            lengths.append(a + 2)  # TLV attribute length
                        a += 4 + (0 if af_type & 0x8000 else value)
                    t += max(tlen, 8)
                p += max(plen, 8)
    return lengths, counts


MESSAGE_FIELDS = [_fields(m, 28, m[16]) for m in MESSAGES]
CONTENT_FIELDS = [_fields(data, 0, first) for first, data in CONTENTS]


# --- mutations ----------------------------------------------------------------------------


def _flip_bits(rng: random.Random, data: bytearray, _fields) -> None:
    for _ in range(rng.randint(1, 4)):
        if data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)


def _set_byte(rng: random.Random, data: bytearray, _fields) -> None:
    if data:
        data[rng.randrange(len(data))] = rng.choice(INTERESTING_BYTES + [rng.randrange(256)])


def _truncate(rng: random.Random, data: bytearray, _fields) -> None:
    del data[rng.randrange(len(data) + 1):]


def _insert_or_delete(rng: random.Random, data: bytearray, _fields) -> None:
    at = rng.randrange(len(data) + 1)
    if rng.random() < 0.5:
        data[at:at] = rng.randbytes(rng.randint(1, 8))
    else:
        del data[at:at + rng.randint(1, 8)]


def _nudge_length(rng: random.Random, data: bytearray, fields) -> None:
    lengths, _ = fields
    if not lengths:
        return
    at = rng.choice(lengths)
    if at + 2 > len(data):
        return
    old = struct.unpack_from("!H", data, at)[0]
    new = rng.choice([old + rng.randint(-8, 8), 0, 1, 3, 4, 5, 8, 0xFFFF, rng.randrange(0x10000)])
    struct.pack_into("!H", data, at, new & 0xFFFF)


def _nudge_count(rng: random.Random, data: bytearray, fields) -> None:
    _, counts = fields
    if counts:
        at = rng.choice(counts)
        if at < len(data):
            data[at] = (data[at] + rng.choice([-2, -1, 1, 2, 3, 13, 16])) & 0xFF


def _rewrite_next_payload(rng: random.Random, data: bytearray, fields) -> None:
    lengths, _ = fields
    if lengths:
        at = rng.choice(lengths) - 2  # the next-payload byte opens every generic header
        if 0 <= at < len(data):
            data[at] = rng.choice(INTERESTING_TYPES)


def _swap_or_repeat_span(rng: random.Random, data: bytearray, fields) -> None:
    """Byte-level reordering or repetition of two generic-header-sized regions."""
    lengths, _ = fields
    if len(lengths) < 2:
        return
    a, b = sorted(rng.sample(lengths, 2))
    a, b = a - 2, b - 2
    size_a = struct.unpack_from("!H", data, a + 2)[0] if a + 4 <= len(data) else 0
    chunk_a = bytes(data[a:a + max(size_a, 4)])
    if rng.random() < 0.5:
        data[b:b] = chunk_a  # repeat
    else:
        size_b = struct.unpack_from("!H", data, b + 2)[0] if b + 4 <= len(data) else 0
        chunk_b = bytes(data[b:b + max(size_b, 4)])
        data[b:b + len(chunk_b)] = chunk_a
        data[a:a + len(chunk_a)] = chunk_b


BYTE_MUTATIONS = [_flip_bits, _set_byte, _truncate, _insert_or_delete, _nudge_length,
                  _nudge_length, _nudge_count, _rewrite_next_payload, _swap_or_repeat_span]


def _object_mutation(rng: random.Random) -> Message:
    """A message reordered or repeated at the object level (emits valid chains)."""
    msg = rng.choice(CLEAR_PARSED)
    payloads = list(msg.payloads)
    choice = rng.randrange(3)
    if choice == 0:
        rng.shuffle(payloads)
    elif choice == 1 and payloads:
        payloads.insert(rng.randrange(len(payloads) + 1), rng.choice(payloads))
    else:
        for i, payload in enumerate(payloads):
            if isinstance(payload, SecurityAssociationPayload):
                payloads[i] = dataclasses.replace(
                    payload, proposals=_reordered([_shuffled_transforms(rng, p)
                                                   for p in payload.proposals], rng))
    return dataclasses.replace(msg, payloads=payloads)


def _shuffled_transforms(rng: random.Random, proposal):
    transforms = list(proposal.transforms)
    if rng.random() < 0.5:
        transforms.append(rng.choice(transforms))  # repetition
    rng.shuffle(transforms)
    return dataclasses.replace(proposal, transforms=transforms)


def _reordered(items: list, rng: random.Random) -> list:
    rng.shuffle(items)
    return items


def _fix_header_length(data: bytearray) -> None:
    if len(data) >= 28:
        struct.pack_into("!I", data, 24, len(data))


# --- the property -------------------------------------------------------------------------


class Tally:
    inputs = 0
    parsed = 0


def _check_message(data: bytes, expected: Message | None = None) -> None:
    """emit(parse(data)) == data; and parse(emit(x)) == x when ``data`` was emitted from x."""
    Tally.inputs += 1
    try:
        msg = parse_message(data)
    except MalformedMessage:
        return
    Tally.parsed += 1
    assert emit_message(msg) == data
    if expected is not None:
        assert msg == expected


def _check_contents(data: bytes, first: int) -> None:
    Tally.inputs += 1
    try:
        payloads, padding = parse_payloads(data, first)
    except MalformedMessage:
        return
    Tally.parsed += 1
    assert emit_payloads(payloads) == (first if payloads else 0, data[:len(data) - len(padding)])


def _one_input(rng: random.Random) -> None:
    kind = rng.random()
    if kind < 0.55:
        i = rng.randrange(len(MESSAGES))
        data = bytearray(MESSAGES[i])
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            rng.choice(BYTE_MUTATIONS)(rng, data, MESSAGE_FIELDS[i])
        if rng.random() < 0.5:
            _fix_header_length(data)
        _check_message(bytes(data))
    elif kind < 0.8:
        i = rng.randrange(len(CONTENTS))
        first, original = CONTENTS[i]
        data = bytearray(original)
        rng.choice(BYTE_MUTATIONS)(rng, data, CONTENT_FIELDS[i])
        if rng.random() < 0.1:
            first = rng.choice(INTERESTING_TYPES)
        _check_contents(bytes(data), first)
    elif kind < 0.9:
        msg = _object_mutation(rng)
        data = bytearray(emit_message(msg))
        if rng.random() < 0.5:
            _flip_bits(rng, data, None)
            _fix_header_length(data)
            _check_message(bytes(data))
        else:
            _check_message(bytes(data), expected=msg)
    elif kind < 0.95:
        # random bytes behind a plausible header, so the payload parsers see them
        body = rng.randbytes(rng.randrange(64))
        data = s.header(s.ICOOKIE, s.RCOOKIE, rng.choice(INTERESTING_TYPES), 2, body,
                        flags=rng.choice((0, 0, 2, 0x80)))
        _check_message(data)
    else:
        if rng.random() < 0.5:
            _check_message(rng.randbytes(rng.randrange(80)))
        else:
            _check_contents(rng.randbytes(rng.randrange(40)), rng.choice(INTERESTING_TYPES))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=2**64 - 1))
def _batch(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(BATCH):
        _one_input(rng)


def test_random_and_mutated_messages_parse_or_fail_cleanly():
    Tally.inputs = Tally.parsed = 0
    _batch()
    assert Tally.inputs >= MINIMUM_INPUTS
    # the round-trip half of the property must actually be exercised
    assert Tally.parsed >= Tally.inputs // 10, (Tally.parsed, Tally.inputs)


def test_the_field_walker_finds_the_nested_lengths():
    lengths, counts = MESSAGE_FIELDS[0]  # Main Mode MI1: SA, 1 proposal, 4 transforms, 4 VIDs
    # header-level payloads: 5, proposal: 1, transforms: 4, TLV attributes: 2
    assert len(lengths) == 5 + 1 + 4 + 2
    assert len(counts) == 2


# --- parse(emit(x)) == x for random valid objects --------------------------------------------

SPI_SIZES = {1: (0, 8, 16), 2: (4,), 3: (4,), 4: (2, 4), 9: (0, 3, 7)}
DELETE_SPI_SIZES = {1: (16,), 2: (4,), 3: (4,), 4: (2, 4), 9: (0, 5)}
ID_SIZES = {1: 4, 4: 8, 7: 8, 5: 16, 6: 32, 8: 32}


def _attributes(rng: random.Random) -> list[Attribute]:
    return [Attribute(rng.randrange(0x8000), rng.randrange(0x10000)) if rng.random() < 0.7
            else Attribute(rng.randrange(0x8000), rng.randbytes(rng.randrange(10)))
            for _ in range(rng.randrange(6))]


def _sa(rng: random.Random) -> SecurityAssociationPayload:
    proposals, number = [], rng.randrange(4)
    for _ in range(rng.randint(1, 4)):
        number += rng.randrange(2)  # equal numbers form a bundle; they never go down
        protocol = rng.choice(list(SPI_SIZES))
        transforms = [Transform(rng.randrange(256), rng.randrange(256), _attributes(rng),
                                rng.choice((0, 0, rng.randrange(0x10000))), rng.randrange(2))
                      for _ in range(rng.randint(1, 4))]
        spi = rng.randbytes(rng.choice(SPI_SIZES[protocol]))
        proposals.append(Proposal(number, protocol, transforms, spi, rng.randrange(2)))
    return SecurityAssociationPayload(proposals, situation=rng.choice((0, 1, 8)))


def _random_payload(rng: random.Random):
    data = rng.randbytes(rng.randrange(40))
    kind = rng.randrange(16)
    if kind == 0:
        return _sa(rng)
    if kind == 1:
        id_type = rng.choice(list(ID_SIZES) + [2, 3, 9, 11])
        size = ID_SIZES.get(id_type, rng.randrange(30))
        return IdentificationPayload(id_type, rng.randbytes(size), rng.randrange(256),
                                     rng.randrange(0x10000))
    if kind == 2:
        protocol = rng.choice(list(SPI_SIZES))
        return NotificationPayload(rng.randrange(0x10000), protocol,
                                   rng.randbytes(rng.choice(SPI_SIZES[protocol])), data,
                                   rng.randrange(3))
    if kind == 3:
        protocol = rng.choice(list(DELETE_SPI_SIZES))
        size = rng.choice(DELETE_SPI_SIZES[protocol])
        return DeletePayload(protocol, [rng.randbytes(size) for _ in range(rng.randrange(4))],
                             rng.randrange(3), size)
    if kind == 4:
        return ModeConfigPayload(rng.randrange(256), _attributes(rng), rng.randrange(0x10000),
                                 rng.randrange(2))
    if kind == 5:
        size = rng.choice((4, 16))
        return NatOriginalAddressPayload(1 if size == 4 else 5, rng.randbytes(size),
                                         rng.randrange(2), rng.randrange(2),
                                         draft=rng.random() < 0.5)
    if kind == 6:
        return NatDetectionPayload(data, draft=rng.random() < 0.5)
    if kind == 7:
        return UnknownPayload(rng.choice((15, 16, 22, 128, 133, 200, 255)), data)
    if kind == 8:
        return CertificatePayload(rng.randrange(256), data)
    if kind == 9:
        return CertificateRequestPayload(rng.randrange(256), data)
    simple = (KeyExchangePayload, HashPayload, SignaturePayload, NoncePayload, VendorIdPayload)
    return simple[kind % len(simple)](data, reserved=rng.choice((0, 0, 0, 1, 0x80)))


def _random_message(rng: random.Random) -> Message:
    msg = Message(rng.randbytes(8), rng.randbytes(8), rng.randrange(256),
                  flags=rng.randrange(256) & ~1, message_id=rng.randrange(2**32),
                  minor=rng.randrange(16))
    if rng.random() < 0.1:
        msg.flags |= 1
        msg.encrypted = EncryptedBody(rng.randrange(256), rng.randbytes(rng.randrange(64)))
    else:
        msg.payloads = [_random_payload(rng) for _ in range(rng.randrange(8))]
    return msg


@settings(max_examples=50, deadline=None, derandomize=True, database=None)
@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_random_valid_objects_survive_emit_then_parse(seed):
    rng = random.Random(seed)
    for _ in range(40):
        msg = _random_message(rng)
        wire = emit_message(msg)
        assert parse_message(wire) == msg
        first, contents = emit_payloads(msg.payloads)
        assert parse_payloads(contents + bytes(rng.randrange(16)), first)[0] == msg.payloads
