"""Steady UDP traffic through the tunnels, counted per tunnel on both ends.

    python -m testing.soak.traffic sink PORT OUT.json --seconds S
    python -m testing.soak.traffic source PORT OUT.json --rate R --seconds S SRC:DST ...

Each datagram carries ``tunnel-index sequence send-time``. The sink records every
(tunnel, sequence) it receives; the source records the send time of every sequence. Comparing
the two files gives the lost datagrams and when they were sent (to match against rekeys).
Both stop after ``--seconds`` or on SIGTERM, and then write their JSON; the sink creates
``OUT.json.ready`` once it listens.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import socket
import sys
import time

PAYLOAD_PAD = b"." * 32  # a small but non-trivial datagram


def _stop_on_sigterm() -> list[bool]:
    stopped = [False]

    def handler(signum, frame) -> None:
        stopped[0] = True

    signal.signal(signal.SIGTERM, handler)
    return stopped


def ready_file(out: str) -> str:
    """Where the sink says it is listening."""
    return out + ".ready"


def wait_ready(out: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(ready_file(out)):
            return True
        time.sleep(0.1)
    return False


def run_sink(port: int, seconds: float, out: str) -> None:
    stopped = _stop_on_sigterm()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sock.bind(("0.0.0.0", port))
    # the source must not start before this: its first datagrams would count as lost
    with open(ready_file(out), "w") as f:
        f.write("bound\n")
    received: dict[str, list[int]] = {}
    deadline = time.monotonic() + seconds
    while not stopped[0] and time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], 0.5)
        if not ready:
            continue
        data = sock.recv(2048)
        fields = data.split(b" ", 3)
        if len(fields) < 3:
            continue
        received.setdefault(fields[0].decode(), []).append(int(fields[1]))
    with open(out, "w") as f:
        json.dump({"received": received}, f)


def run_source(port: int, seconds: float, rate: float, pairs: list[tuple[int, str, str]],
               out: str) -> None:
    """Send ``rate`` datagrams a second on every tunnel, round robin, until time is up."""
    stopped = _stop_on_sigterm()
    sockets = []
    for index, src, dst in pairs:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((src, 0))
        sockets.append((str(index), sock, dst))
    sent: dict[str, list[float]] = {name: [] for name, _, _ in sockets}
    errors: dict[str, int] = {name: 0 for name, _, _ in sockets}
    interval = 1.0 / rate
    start = time.monotonic()
    tick = 0
    while not stopped[0] and time.monotonic() - start < seconds:
        for name, sock, dst in sockets:
            now = time.time()
            seq = len(sent[name])
            try:
                sock.sendto(f"{name} {seq} {now:.6f} ".encode() + PAYLOAD_PAD, (dst, port))
            except OSError:
                # e.g. EAGAIN while no SA matches: counted, and the datagram counts as lost
                errors[name] += 1
            sent[name].append(now)
        tick += 1
        delay = start + tick * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    with open(out, "w") as f:
        json.dump({"sent": sent, "send_errors": errors}, f)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testing.soak.traffic")
    parser.add_argument("role", choices=("sink", "source"))
    parser.add_argument("port", type=int)
    parser.add_argument("out")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--rate", type=float, default=5.0, help="datagrams/s per tunnel")
    parser.add_argument("pairs", nargs="*", help="INDEX:SRC:DST for the source")
    args = parser.parse_intermixed_args(argv)
    if args.role == "sink":
        run_sink(args.port, args.seconds, args.out)
        return 0
    try:
        pairs = [(int(i), s, d) for i, s, d in (p.split(":") for p in args.pairs)]
    except ValueError:
        print(f"bad INDEX:SRC:DST in {args.pairs}", file=sys.stderr)
        return 2
    run_source(args.port, args.seconds, args.rate, pairs, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
