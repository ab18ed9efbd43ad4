"""Two network namespaces joined by one veth pair, in the benchmarking range 198.18.0.0/15.

    with BenchNet("pb1234") as net:      # namespaces pb1234-resp and pb1234-gen
        net.responder_ns, net.generator_ns

Names carry a per-run prefix; everything is removed on exit, also after a failure.
"""

from __future__ import annotations

import os

from labs.shell import LabError, pids_in, run, stop_pid

RESPONDER_ADDR = "198.18.0.1"
GENERATOR_ADDR = "198.18.0.2"
PREFIX_LEN = 24


class BenchNet:
    """The responder and generator namespaces of one benchmark run."""

    def __init__(self, prefix: str | None = None) -> None:
        self.prefix = prefix or f"pb{os.getpid()}"
        self.responder_ns = f"{self.prefix}-resp"
        self.generator_ns = f"{self.prefix}-gen"

    def __enter__(self) -> BenchNet:
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    def up(self) -> None:
        r, g = self.responder_ns, self.generator_ns
        run(["ip", "netns", "add", r])
        run(["ip", "netns", "add", g])
        veth_r, veth_g = f"{self.prefix}r", f"{self.prefix}g"
        run(["ip", "link", "add", veth_r, "netns", r, "type", "veth", "peer", "name", veth_g,
             "netns", g])
        for ns, dev, addr in ((r, veth_r, RESPONDER_ADDR), (g, veth_g, GENERATOR_ADDR)):
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "-n", ns, "addr", "add", f"{addr}/{PREFIX_LEN}", "dev", dev])
            run(["ip", "-n", ns, "link", "set", dev, "up"])

    def down(self) -> None:
        """Stop what still runs in our namespaces (we started it), then delete them."""
        for ns in (self.responder_ns, self.generator_ns):
            for pid in pids_in(ns):
                stop_pid(pid)
            try:
                run(["ip", "netns", "delete", ns], check=False)
            except LabError:
                pass


def udp_counters(netns: str) -> dict[str, int]:
    """The Udp: line of /proc/net/snmp inside ``netns`` (RcvbufErrors, InErrors, ...)."""
    out = run(["ip", "netns", "exec", netns, "cat", "/proc/net/snmp"]).stdout
    rows = [line.split()[1:] for line in out.splitlines() if line.startswith("Udp:")]
    if len(rows) < 2:
        raise LabError(f"{netns}: no Udp lines in /proc/net/snmp")
    return {name: int(value) for name, value in zip(rows[0], rows[1], strict=True)}
