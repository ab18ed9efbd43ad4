"""An in-process micro-benchmark of our responder: no root, no namespaces, seconds to run.

``python -m testing.bench.microbench [--n 1000] [--profile FILE]``

One initiator core and one responder core on the in-process memory wire with a fake clock
(tests/inprocess/harness.py), set up like the bench's responder: a PSK template with
``right=%any``/``rightid=%any``, ``ike=aes_gcm128-sha2_256;x25519``, childless IKE SAs
(RFC 6023), every SA with its own initiator ID. Only the responder's handling of each
datagram is timed (CPU time), so the figure is the responder's cost per IKE SA without the
sockets and the event loop of the real daemon. The responder keeps every SA, as in the bench.
"""

from __future__ import annotations

import argparse
import cProfile
import statistics
import sys
import time
from pathlib import Path

from pluto.crypto.rand import RandomSource
from tests.inprocess.harness import PSK, Pair, connection

RESPONDER = "198.18.0.1"
INITIATOR = "198.18.0.2"
IKE = "aes_gcm128-sha2_256;x25519"


def _pair(count: int) -> Pair:
    secrets = f'%any @responder.bench : PSK "{PSK}"\n'
    pair = Pair(west=INITIATOR, east=RESPONDER, west_secrets=secrets, east_secrets=secrets)
    pair.west.impairs.apply("omit-v2-ike-auth-child")
    # The daemon's randomness (os.urandom), not the harness's seeded HMAC_DRBG.
    pair.east.core.rand = RandomSource()
    template = connection("bench", west="%any", east=RESPONDER, west_client=None,
                          east_client=None, ike=IKE, esp="aes_gcm128", rekey=False)
    template["left"]["id"] = "%any"
    template["right"]["id"] = "@responder.bench"
    reply = pair.east.whack({"action": "add", "connection": template})
    assert reply.finished == 0, reply.lines
    for i in range(count):
        desc = connection(f"load-{i}", west=INITIATOR, east=RESPONDER, west_client=None,
                          east_client=None, ike=IKE, esp="aes_gcm128", rekey=False)
        desc["left"]["id"] = f"@load-{i}.bench"
        desc["right"]["id"] = "@responder.bench"
        reply = pair.west.whack({"action": "add", "connection": desc})
        assert reply.finished == 0, reply.lines
    return pair


def run(count: int, profiler: cProfile.Profile | None = None) -> list[float]:
    """Establish ``count`` childless IKE SAs; the responder's CPU seconds for each one."""
    pair = _pair(count)
    wire, east = pair.wire, pair.east.core
    costs = []
    for i in range(count):
        reply = pair.west.whack({"action": "initiate", "name": f"load-{i}"})
        spent = 0.0
        while wire.queue:
            datagram = wire.queue.popleft()
            if datagram.dst == pair.east.endpoint:
                if profiler is not None:
                    profiler.enable()
                start = time.process_time()
                wire.deliver(datagram)
                spent += time.process_time() - start
                if profiler is not None:
                    profiler.disable()
            else:
                wire.deliver(datagram)
        if reply.finished != 0:
            raise SystemExit(f"SA {i} failed: {reply.texts}")
        costs.append(spent)
    established = sum(1 for s in east.states if s.kind.name == "STATE_V2_ESTABLISHED_IKE_SA")
    if established != count:
        raise SystemExit(f"responder holds {established} established IKE SAs, not {count}")
    return costs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m testing.bench.microbench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=1000, help="IKE SAs to establish (1000)")
    p.add_argument("--profile", type=Path, metavar="FILE",
                   help="cProfile statistics of the responder's part only, written to FILE")
    args = p.parse_args(argv)
    if args.n < 1:
        p.error("--n: must be at least 1")
    profiler = cProfile.Profile() if args.profile else None
    costs = run(args.n, profiler)
    if profiler is not None:
        profiler.dump_stats(args.profile)
    ms = [c * 1000 for c in costs]
    print(f"responder CPU per childless PSK x25519 IKE SA over {args.n}: "
          f"mean {statistics.fmean(ms):.3f} ms, median {statistics.median(ms):.3f} ms, "
          f"first 10% {statistics.fmean(ms[:max(1, args.n // 10)]):.3f} ms, "
          f"last 10% {statistics.fmean(ms[-max(1, args.n // 10):]):.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
