"""Real exchanges recorded from an in-process pair: the seeds of the coverage-guided fuzzer
and the raw material of the live fuzzer.

Run as a script to write them as a corpus directory (one file per datagram)::

    python testing/fuzz/recorder.py testing/fuzz/corpus
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
for _path in (os.path.join(_HERE, "..", "..", "tests"), os.path.join(_HERE, "..", "..")):
    if os.path.abspath(_path) not in sys.path:
        sys.path.insert(0, os.path.abspath(_path))

from inprocess.harness import Pair  # noqa: E402


def _exchange(ikev2: bool) -> list[bytes]:
    """Every datagram of: establish, rekey the Child SA, rekey the IKE SA, tear down."""
    pair = Pair(west_options={"ikev1_policy": "accept"}, east_options={"ikev1_policy": "accept"})
    pair.add(ikev2=ikev2)
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.lines
    for action in ("rekey-child", "rekey-ike") if ikev2 else ():
        pair.west.whack({"action": action, "name": "west-east", "async": True})
        pair.pump()
    pair.west.whack({"action": "terminate", "name": "west-east"})
    pair.pump()
    # The NAT keepalive is not IKE; the 4500 marker is added by the sender's socket.
    return [d.data for d in pair.wire.sent if len(d.data) > 1]


def record() -> dict[str, list[bytes]]:
    """Datagrams by IKE version, in the order they were sent."""
    return {"ikev2": _exchange(True), "ikev1": _exchange(False)}


def write_corpus(directory: str) -> int:
    os.makedirs(directory, exist_ok=True)
    count = 0
    for version, datagrams in record().items():
        for i, data in enumerate(datagrams):
            with open(os.path.join(directory, f"{version}-{i:02d}"), "wb") as handle:
                handle.write(data)
            count += 1
    return count


if __name__ == "__main__":
    print(write_corpus(sys.argv[1] if len(sys.argv) > 1 else os.path.join(_HERE, "corpus")))
