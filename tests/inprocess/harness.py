"""Two Pluto cores in one process: a memory transport, a fake clock, seeded randomness.

Datagrams wait in a queue until the test pumps them, so a test can drop, duplicate or reorder
them (``Pair.deliver``/``Pair.drop_next``) and advance the clock through retransmits. A
:class:`Nat` put on the wire (``MemoryTransport.nat``) rewrites addresses and ports on the way,
like a masquerading router.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from pluto.connections.secrets import Secrets
from pluto.crypto.rand import RandomSource
from pluto.engine.core import CoreOptions, Pluto
from pluto.engine.host import Endpoint, FakeClock
from pluto.impair import Impairs
from pluto.kernel.nostack import NoStack
from pluto.log import DebugFlags, Logger

PSK = 'west-east-shared-secret-of-some-length'
NAT_KEEPALIVE = b"\xff"  # RFC 3948 §2.3; on the wire it is not an IKE message


@dataclass
class Datagram:
    data: bytes
    src: Endpoint
    dst: Endpoint


class Nat:
    """A masquerading NAT between the ``inside`` addresses and the rest of the wire.

    A datagram from inside to outside leaves from ``outside`` with a port the NAT picks once
    per inside endpoint (the same port while it is free with ``keep_ports``, like nftables
    masquerade; the next one from ``first_port`` up otherwise, like masquerade with port
    rewriting). Datagrams to ``outside`` go in through a mapping or are dropped. ``forget``
    drops every mapping, as a NAT that reboots or times them out: new ports follow.
    """

    def __init__(self, inside: Iterable[str], outside: str, *, first_port: int = 40000,
                 keep_ports: bool = False) -> None:
        self.inside = {ipaddress.ip_address(a) for a in inside}
        self.outside = ipaddress.ip_address(outside)
        self.keep_ports = keep_ports
        self._next_port = first_port
        self.mappings: dict[Endpoint, Endpoint] = {}  # inside endpoint -> outside endpoint
        self.dropped: list[Datagram] = []

    def _map(self, inside: Endpoint) -> Endpoint:
        mapped = self.mappings.get(inside)
        if mapped is None:
            taken = {port for _address, port in self.mappings.values()}
            if self.keep_ports and inside[1] not in taken:
                port = inside[1]
            else:
                while self._next_port in taken:
                    self._next_port += 1
                port = self._next_port
                self._next_port += 1
            mapped = self.mappings[inside] = (self.outside, port)
        return mapped

    def forward(self, inside: tuple[str, int], port: int) -> None:
        """A static port forward: ``outside:port`` leads to ``inside`` (a responder behind
        the NAT), and what ``inside`` sends leaves from that port."""
        endpoint = (ipaddress.ip_address(inside[0]), inside[1])
        self.mappings[endpoint] = (self.outside, port)

    def forget(self) -> None:
        self.mappings.clear()

    def translate(self, datagram: Datagram) -> Datagram | None:
        if datagram.src[0] in self.inside and datagram.dst[0] not in self.inside:
            return Datagram(datagram.data, self._map(datagram.src), datagram.dst)
        if datagram.dst[0] == self.outside:
            inside = next((i for i, o in self.mappings.items() if o == datagram.dst), None)
            if inside is None:
                self.dropped.append(datagram)
                return None
            return Datagram(datagram.data, datagram.src, inside)
        return datagram


class MemoryTransport:
    """A shared wire: every send goes to the queue; ``pump`` hands datagrams to their owner.

    ``nat``, when set, translates each datagram on delivery. NAT keepalives are not handed
    to the cores (the server's NAT-T socket drops them too); they are kept in ``keepalives``
    as they arrived, after the NAT.
    """

    def __init__(self) -> None:
        self.queue: deque[Datagram] = deque()
        self.owners: dict[Endpoint, Pluto] = {}
        self.sent: list[Datagram] = []
        self.nat: Nat | None = None
        self.keepalives: list[Datagram] = []
        self.delivered: list[Datagram] = []  # as the receiver saw them (after the NAT)

    def endpoint(self, core_name: str):
        wire = self

        class _Port:
            def send(self, data: bytes, local: Endpoint, remote: Endpoint) -> None:
                datagram = Datagram(bytes(data), local, remote)
                wire.queue.append(datagram)
                wire.sent.append(datagram)

            def send_keepalive(self, local: Endpoint, remote: Endpoint) -> None:
                self.send(NAT_KEEPALIVE, local, remote)

        return _Port()

    def deliver(self, datagram: Datagram) -> None:
        if self.nat is not None:
            translated = self.nat.translate(datagram)
            if translated is None:
                return
            datagram = translated
        if datagram.data == NAT_KEEPALIVE:
            self.keepalives.append(datagram)
            return
        owner = self.owners.get(datagram.dst)
        if owner is not None:
            self.delivered.append(datagram)
            owner.packet_received(datagram.data, datagram.dst, datagram.src)


@dataclass
class Reply:
    """A WhackReply that records (rc, text) lines and the final done code."""

    lines: list[tuple[int, str]] = field(default_factory=list)
    finished: int | None = None

    def line(self, rc: int, text: str) -> None:
        assert self.finished is None, f"line after done: {text}"
        self.lines.append((rc, text))

    def done(self, rc: int = 0) -> None:
        assert self.finished is None, "done twice"
        self.finished = rc

    @property
    def texts(self) -> list[str]:
        return [text for _rc, text in self.lines]


class Host:
    def __init__(self, name: str, address: str, wire: MemoryTransport, clock: FakeClock,
                 secrets: str, port: int = 500, **options) -> None:
        self.name = name
        self.address = ipaddress.ip_address(address)
        self.endpoint: Endpoint = (self.address, port)
        self.log: list[str] = []
        self.flags = DebugFlags()
        self.impairs = Impairs()
        rand = RandomSource(f"seed-{name}")
        self.kernel = NoStack(RandomSource(f"kernel-{name}"), clock)
        self.core = Pluto(clock=clock, rand=rand, kernel=self.kernel,
                          transport=wire.endpoint(name), logger=Logger(self.log.append, self.flags),
                          impairs=self.impairs, secrets=Secrets.from_text(secrets),
                          options=CoreOptions(listen=[self.endpoint], **options))
        wire.owners[self.endpoint] = self.core
        natikeport = self.core.options.natikeport
        if natikeport:  # the NAT-T port, for IKE floating there (RFC 7296 §2.23)
            wire.owners.setdefault((self.address, natikeport), self.core)

    def whack(self, *actions: dict) -> Reply:
        reply = Reply()
        self.core.whack(list(actions), reply)
        return reply

    def lines_with(self, text: str) -> list[str]:
        return [line for line in self.log if text in line]


def connection(name: str = "west-east", *, west: str = "127.0.0.1", east: str = "127.0.0.2",
               west_client: str | None = "198.18.1.0/24",
               east_client: str | None = "198.18.2.0/24", **extra) -> dict:
    left = {"host": west, "id": "@west"}
    right = {"host": east, "id": "@east"}
    if west_client:
        left["client"] = west_client
    if east_client:
        right["client"] = east_client
    desc = {"name": name, "left": left, "right": right, "auth": "psk"}
    desc.update(extra)
    return desc


class Pair:
    """west (initiator) and east (responder) on one memory wire."""

    def __init__(self, *, west: str = "127.0.0.1", east: str = "127.0.0.2",
                 west_secrets: str | None = None, east_secrets: str | None = None,
                 west_options: dict | None = None, east_options: dict | None = None) -> None:
        self.clock = FakeClock()
        self.wire = MemoryTransport()
        default = f'@west @east : PSK "{PSK}"\n'
        self.west = Host("west", west, self.wire, self.clock,
                         default if west_secrets is None else west_secrets,
                         **(west_options or {}))
        self.east = Host("east", east, self.wire, self.clock,
                         default if east_secrets is None else east_secrets,
                         **(east_options or {}))

    def add(self, west_desc: dict | None = None, east_desc: dict | None = None,
            **kw) -> None:
        west_desc = west_desc or connection(west=str(self.west.address),
                                            east=str(self.east.address), **kw)
        east_desc = east_desc or west_desc
        for host, desc in ((self.west, west_desc), (self.east, east_desc)):
            reply = host.whack({"action": "add", "connection": desc})
            assert reply.finished == 0, reply.lines

    def pump(self, limit: int = 100) -> int:
        """Deliver queued datagrams (and the ones they cause) until the wire is quiet."""
        count = 0
        while self.wire.queue:
            assert count < limit, "too many datagrams: a loop?"
            self.wire.deliver(self.wire.queue.popleft())
            count += 1
        return count

    def drop_next(self) -> Datagram:
        return self.wire.queue.popleft()

    def advance(self, seconds: float) -> None:
        """Move the clock in steps, firing both cores' timers at each deadline on the way."""
        end = self.clock.now() + seconds
        while True:
            deadlines = [d for d in (self.west.core.next_deadline(),
                                     self.east.core.next_deadline()) if d is not None]
            nxt = min(deadlines, default=None)
            if nxt is None or nxt > end:
                break
            self.clock.set(max(nxt, self.clock.now()))
            self.west.core.run_timers()
            self.east.core.run_timers()
            self.pump()
        self.clock.set(end)

    def establish(self, **kw) -> Reply:
        self.add(**kw)
        reply = self.west.whack({"action": "initiate", "name": "west-east"})
        self.pump()
        return reply
