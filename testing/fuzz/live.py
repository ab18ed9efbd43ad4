"""The live fuzzer: mutated IKE datagrams sent to a running pluto, in every state.

It runs beside the peer that has a tunnel up with the target (in the lab: in west's
namespace, sending from west's address, so the target's connection matches its datagrams).
Templates are real exchanges recorded in-process (``recorder.write_corpus``); each phase
sends mutations of them to the target's ports 500 and 4500 (there behind the four-zero-byte
non-ESP marker of RFC 3948):

- ``before-init``: anything with fresh SPIs, no state at the target yet;
- ``half-open``: a valid IKE_SA_INIT request (or Main Mode MI1) with fresh SPIs first, then
  mutations carrying the SPIs of the half-open SA the target answered with;
- ``established``: mutations carrying the SPIs of the established IKE SAs given with
  ``--spis`` (run it while a rekey is in progress for the ``during a rekey`` state).

Mutations: the byte-level ones of :mod:`fuzz_mutations` (bit flips, truncation, length and
count fields, insertion, splices), payload reordering and repetition, wrong SPIs and message
IDs, plain replays, huge (up to 65,000 bytes) and tiny (0-27 bytes) datagrams.

    python testing/fuzz/live.py --corpus DIR --target 198.51.100.23 --phase half-open \\
        --count 1000 --seed 1 [--spis ISPI:RSPI ...]

It prints one JSON line with what it sent and received.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import socket
import struct
import sys
import time
from collections import Counter

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from fuzz_mutations import mutate  # noqa: E402

NON_ESP_MARKER = b"\0\0\0\0"
HEADER = 28
RESPONSE_FLAG_V2 = 0x20
PHASES = ("before-init", "half-open", "established")


def load_corpus(directory: str) -> dict[str, list[bytes]]:
    """Recorded datagrams by IKE version, in the order they were sent."""
    corpus: dict[str, list[bytes]] = {"ikev1": [], "ikev2": []}
    for name in sorted(os.listdir(directory)):
        version = name.split("-")[0]
        if version in corpus:
            with open(os.path.join(directory, name), "rb") as handle:
                corpus[version].append(handle.read())
    if not corpus["ikev1"] or not corpus["ikev2"]:
        raise SystemExit(f"live fuzzer: corpus {directory} lacks ikev1-* or ikev2-* files")
    return corpus


def set_header(data: bytes, ispi: bytes | None = None, rspi: bytes | None = None,
               message_id: int | None = None) -> bytes:
    if len(data) < HEADER:
        return data
    buf = bytearray(data)
    if ispi is not None:
        buf[0:8] = ispi
    if rspi is not None:
        buf[8:16] = rspi
    if message_id is not None:
        struct.pack_into("!I", buf, 20, message_id)
    return bytes(buf)


def payload_spans(data: bytes) -> list[tuple[int, int]]:
    """(offset, length) of the top-level payloads, as far as the chain can be followed."""
    spans, at, ptype = [], HEADER, data[16] if len(data) > 16 else 0
    while ptype and at + 4 <= len(data):
        length = struct.unpack_from("!H", data, at + 2)[0]
        if length < 4:
            break
        spans.append((at, length))
        if ptype in (46, 53):  # SK/SKF: what follows is encrypted
            break
        ptype, at = data[at], at + length
    return spans


def reorder_payloads(rng: random.Random, data: bytes) -> bytes:
    """Payloads shuffled, repeated or dropped; the header length kept right."""
    spans = payload_spans(data)
    if not spans:
        return mutate(rng, data)
    pieces = [data[o:o + n] for o, n in spans]
    roll = rng.random()
    if roll < 0.4:
        rng.shuffle(pieces)
    elif roll < 0.8:
        for _ in range(rng.randint(1, 20)):
            pieces.insert(rng.randrange(len(pieces) + 1), rng.choice(pieces))
    else:
        del pieces[rng.randrange(len(pieces))]
    body = b"".join(pieces)
    head = bytearray(data[:HEADER])
    struct.pack_into("!I", head, 24, HEADER + len(body))
    return bytes(head) + body


class LiveFuzzer:
    """Sends mutated datagrams to ``target`` from one socket, counting what comes back."""

    def __init__(self, corpus: dict[str, list[bytes]], target: str, rng: random.Random,
                 bind: str = "", ike_port: int = 500, natt_port: int = 4500) -> None:
        self.corpus = corpus
        self.target = target
        self.rng = rng
        self.ports = (ike_port, natt_port)
        family = socket.AF_INET6 if ":" in target else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((bind, 0))
        self.stats: Counter[str] = Counter()

    def close(self) -> None:
        self.sock.close()

    # -- the wire

    def send(self, data: bytes, natt: bool | None = None) -> None:
        natt = self.rng.random() < 0.4 if natt is None else natt
        port = self.ports[1] if natt else self.ports[0]
        try:
            self.sock.sendto((NON_ESP_MARKER + data) if natt else data, (self.target, port))
        except OSError as err:  # EMSGSIZE for the largest: counted, not fatal
            self.stats[f"send-error-{err.errno}"] += 1
            return
        self.stats["sent"] += 1
        self.stats["sent-4500" if natt else "sent-500"] += 1
        self.drain(0)

    def drain(self, wait: float) -> list[bytes]:
        """Datagrams received within ``wait`` seconds (marker stripped)."""
        got = []
        while select.select([self.sock], [], [], wait)[0]:
            data, _addr = self.sock.recvfrom(65535)
            if data.startswith(NON_ESP_MARKER):
                data = data[4:]
            got.append(data)
            self.stats["received"] += 1
            wait = 0
        return got

    # -- mutations

    def template(self, version: str | None = None) -> bytes:
        version = version or self.rng.choice(("ikev1", "ikev2"))
        return self.rng.choice(self.corpus[version])

    def mutation(self, data: bytes, spis: tuple[bytes, bytes] | None) -> bytes:
        rng = self.rng
        if spis is not None:
            data = set_header(data, *spis)
        kind = rng.randrange(12)
        self.stats[f"kind-{kind}"] += 1
        if kind <= 4:
            return mutate(rng, data)
        if kind == 5:
            return reorder_payloads(rng, data)
        if kind == 6:  # wrong SPIs: random, swapped, or one side zero
            ispi, rspi = data[:8], data[8:16]
            choice = rng.randrange(3)
            if choice == 0:
                return set_header(data, rng.randbytes(8), rng.randbytes(8))
            if choice == 1:
                return set_header(data, rspi, ispi)
            return set_header(data, rspi=bytes(8))
        if kind == 7:  # message IDs: replayed, skipped ahead, the largest
            return set_header(data, message_id=rng.choice(
                [0, 1, 2, 3, 7, rng.randrange(2**32), 2**31, 2**32 - 1]))
        if kind == 8:
            return data  # a replay of a real message
        if kind == 9:
            return data + rng.randbytes(rng.choice((1000, 9000, 65000 - len(data))))
        if kind == 10:
            return data[:rng.randrange(HEADER)]
        return mutate(rng, mutate(rng, data))

    # -- phases

    def before_init(self, count: int) -> None:
        for _ in range(count):
            data = self.template()
            fresh = (self.rng.randbytes(8), bytes(8))
            self.send(self.mutation(data, fresh))

    def open_half(self, version: str) -> tuple[bytes, bytes] | None:
        """Send a valid first message with fresh SPIs; the SPIs of the target's answer."""
        first = self.corpus[version][0]
        ispi = self.rng.randbytes(8)
        self.send(set_header(first, ispi, bytes(8)), natt=False)
        deadline = time.monotonic() + 1.0
        while (left := deadline - time.monotonic()) > 0:
            # Answers to earlier mutations may come first: wait for the one to this.
            for reply in self.drain(left):
                if len(reply) >= HEADER and reply[:8] == ispi and reply[8:16] != bytes(8):
                    self.stats[f"half-open-{version}"] += 1
                    return ispi, reply[8:16]
        self.stats[f"half-open-{version}-unanswered"] += 1
        return None

    def half_open(self, count: int, per_sa: int = 50) -> None:
        sent = 0
        while sent < count:
            version = self.rng.choice(("ikev1", "ikev2"))
            spis = self.open_half(version)
            for _ in range(min(per_sa, count - sent)):
                # Mostly the messages that come after the first one of this version.
                data = self.rng.choice(self.corpus[version][1:])
                self.send(self.mutation(data, spis))
                sent += 1

    def established(self, count: int, spis: list[tuple[bytes, bytes]]) -> None:
        if not spis:
            raise SystemExit("live fuzzer: --phase established needs --spis")
        for _ in range(count):
            pair = self.rng.choice(spis)
            version = "ikev2" if self.rng.random() < 0.7 else "ikev1"
            self.send(self.mutation(self.template(version), pair))


def _spis(text: str) -> tuple[bytes, bytes]:
    try:
        ispi, rspi = (bytes.fromhex(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--spis {text!r}: not ISPI:RSPI in hex") from None
    if len(ispi) != 8 or len(rspi) != 8:
        raise argparse.ArgumentTypeError(f"--spis {text!r}: SPIs are 8 bytes each")
    return ispi, rspi


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="send mutated IKE datagrams to a pluto")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--bind", default="")
    parser.add_argument("--phase", choices=PHASES, required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--spis", type=_spis, action="append", default=[])
    args = parser.parse_args(argv)
    fuzzer = LiveFuzzer(load_corpus(args.corpus), args.target, random.Random(args.seed),
                        args.bind)
    try:
        if args.phase == "before-init":
            fuzzer.before_init(args.count)
        elif args.phase == "half-open":
            fuzzer.half_open(args.count)
        else:
            fuzzer.established(args.count, args.spis)
        fuzzer.drain(0.2)
    finally:
        fuzzer.close()
    print(json.dumps({"phase": args.phase, **dict(sorted(fuzzer.stats.items()))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
