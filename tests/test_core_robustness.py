"""Random and mutated datagrams never crash the protocol core and never cost it its tunnel.

Datagrams recorded from real exchanges (IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA,
INFORMATIONAL) are mutated (bit flips, truncation, byte overwrites, length fields, SPIs and
message IDs) and fed to both cores of an established pair, from the peer's address and from a
stranger's. Nothing may escape ``packet_received``; afterwards the tunnel is still there, the
cores still answer whack, and the tunnel can be rekeyed and torn down normally.
"""

from __future__ import annotations

import ipaddress
import random
import struct

from tests.inprocess.harness import Pair

MUTATIONS_PER_DATAGRAM = 500
STRANGER = (ipaddress.ip_address("127.0.0.9"), 500)


def _mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    kind = rng.randrange(7)
    if kind == 0 and buf:  # flip a few bits
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
    elif kind == 1:  # truncate
        del buf[rng.randrange(len(buf) + 1):]
    elif kind == 2 and buf:  # overwrite a run with random bytes
        i = rng.randrange(len(buf))
        for j in range(i, min(len(buf), i + rng.randint(1, 8))):
            buf[j] = rng.randrange(256)
    elif kind == 3 and len(buf) >= 28:  # header length field
        struct.pack_into("!I", buf, 24, rng.choice([0, 28, len(buf) - 1, len(buf) + 1,
                                                    0xFFFFFFFF]))
    elif kind == 4 and len(buf) >= 28:  # message ID
        struct.pack_into("!I", buf, 20, rng.choice([0, 1, 2, 7, 0x7FFFFFFF, 0xFFFFFFFF]))
    elif kind == 5 and len(buf) >= 32:  # a generic payload length
        struct.pack_into("!H", buf, 30, rng.randrange(65536))
    else:  # random bytes, sometimes with a valid-looking IKE header in front
        head = bytes(buf[:28]) if rng.random() < 0.5 else b""
        buf = bytearray(head + rng.randbytes(rng.randrange(200)))
    return bytes(buf)


def test_mutated_datagrams_do_not_crash_or_lose_the_tunnel():
    pair = Pair()
    assert pair.establish().finished == 0
    rekey = pair.west.whack({"action": "rekey-child", "name": "west-east"})
    pair.pump()
    assert rekey.finished == 0, rekey.lines
    recorded = list(pair.wire.sent)
    assert len(recorded) >= 6
    rng = random.Random(20261124)
    fed = 0
    for datagram in recorded:
        for _ in range(MUTATIONS_PER_DATAGRAM):
            data = _mutate(rng, datagram.data)
            for core, local in ((pair.east.core, pair.east.endpoint),
                                (pair.west.core, pair.west.endpoint)):
                source = datagram.src if rng.random() < 0.8 else STRANGER
                core.packet_received(data, local, source)
                fed += 1
        pair.wire.queue.clear()  # answers to garbage go nowhere
        pair.advance(1.0)
    assert fed >= len(recorded) * MUTATIONS_PER_DATAGRAM * 2
    for host in (pair.west, pair.east):
        assert not [line for line in host.log if "Traceback" in line]
        status = host.whack({"action": "trafficstatus"})
        assert status.finished == 0 and any("type=ESP" in t for t in status.texts), host.log[-20:]
    for action in ("rekey-ike", "terminate"):
        reply = pair.west.whack({"action": action, "name": "west-east"})
        pair.pump()
        assert reply.finished == 0, (action, reply.lines)
    for host in (pair.west, pair.east):
        assert not host.kernel.installed_sas(), host.name
