"""What the protocol core needs from its host: a clock, a way to send, a whack reply stream.

The server (pluto/server) gives the core real ones; tests give it a :class:`FakeClock` and a
memory transport, so an exchange, a rekey after an hour or a retransmit storm is a fast,
deterministic in-process test.

The core's own API (pluto/engine/core.py, class ``Pluto``)::

    Pluto(clock=..., rand=RandomSource(...), kernel=KernelOps, transport=Transport,
          logger=Logger, impairs=Impairs, secrets=..., options=...)
    .packet_received(data, local: Endpoint, remote: Endpoint) -> None
    .whack(actions: list[dict], reply: WhackReply) -> None   # see pluto/whack_protocol.py
    .next_deadline() -> float | None     # clock.now() value of the next timer
    .run_timers() -> None                # fire every timer due at clock.now()
    .shutdown() -> None                  # delete every SA, telling peers
    .kernel_acquire(acquire) -> None     # the kernel's ACQUIRE: initiate the routed conn
    .kernel_expire(expire) -> None       # the kernel's EXPIRE: soft rekeys, hard deletes
    .close() -> None                     # exiting: unroute, flush the kernel, run on_close
    .routes: {conn name: Route}          # trap policies (pluto/engine/routes.py)
    .on_close: list[callable]            # run by close() (e.g. the XFRM monitor's close)
"""

from __future__ import annotations

import ipaddress
from typing import Protocol

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Endpoint = tuple[IPAddress, int]


def format_endpoint(endpoint: Endpoint) -> str:
    """``127.0.0.2:UDP/500`` / ``[2001:db8::1]:UDP/500``, libreswan's shape."""
    address, port = endpoint
    text = f"[{address}]" if address.version == 6 else str(address)
    return f"{text}:UDP/{port}"


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds, for timers."""

    def wall(self) -> float:
        """Seconds since the epoch, for what status prints (add_time=...)."""


class SystemClock:
    def now(self) -> float:
        import time
        return time.monotonic()

    def wall(self) -> float:
        import time
        return time.time()


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1000.0, wall_start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._wall_offset = wall_start - start

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._now + self._wall_offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._now += seconds

    def set(self, now: float) -> None:
        if now < self._now:
            raise ValueError("time does not go backwards")
        self._now = now


class Transport(Protocol):
    def send(self, data: bytes, local: Endpoint, remote: Endpoint) -> None:
        """Send one IKE message as a UDP datagram; on the NAT-T port the server adds the non-ESP marker."""


class WhackReply(Protocol):
    """The reply stream of one whack request."""

    def line(self, rc: int, text: str) -> None:
        """One line to whack; the core writes the same line to the log itself, as pluto does."""

    def done(self, rc: int = 0) -> None:
        """The request is finished; the stream closes."""
