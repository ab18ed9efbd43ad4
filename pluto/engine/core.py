"""The protocol core: events in (packets, whack requests, timers), effects out.

``Pluto`` owns the connection table, the state table and the timers; everything that touches
the outside world comes in through its constructor (clock, random source, kernel, transport,
logger, impairs, secrets). The IKEv2 exchanges live in pluto/ikev2 and call back into the core
through the small set of services below (send, log, schedule, install, delete).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pluto.connections.connection import Connection
from pluto.connections.virtual_private import VirtualPrivate, parse_virtual_private
from pluto.crypto.rand import RandomSource

# Modules that register their impairs: loaded now so that --impair knows every name.
from pluto.engine import kernel_events, outcome, packet_impairs  # noqa: E402,F401,I001
from pluto.engine.ddos import DdosGuard
from pluto.engine.host import Clock, Endpoint, Transport, WhackReply, format_endpoint
from pluto.engine.states import ChildSa, IkeSa, State, StateKind, StateTable
from pluto.engine.timers import Timer, Timers
from pluto.ikev2 import ike_auth, informational, messages  # noqa: E402,F401
from pluto.impair import Impairs
from pluto.log import Logger, rate_limited
from pluto.whack_protocol import RC_LOG, RC_NEW_STATE


@dataclass
class CoreOptions:
    """What the command line tells the core."""

    listen: list[Endpoint] = field(default_factory=list)  # (address, port) pairs we listen on
    force_busy: bool = False
    uniqueids: bool = False
    retransmit_interval: float = 0.5  # libreswan: 500 ms, doubling
    retransmit_timeout: float = 60.0  # then the exchange has failed
    secrets_patterns: list[str] = field(default_factory=list)
    # Liveness (DPD, RFC 7296 §2.4): probe every dpd_delay seconds, declare the peer dead
    # when a probe gets no answer within dpd_timeout (0: the retransmit timeout). 0: off.
    dpd_delay: float = 0.0
    dpd_timeout: float = 0.0
    ikev1_policy: str = "drop"  # libreswan's ikev1-policy=accept|reject|drop
    # NAT traversal: the port IKE floats to (0: no NAT-T), the keepalive interval behind a
    # NAT (libreswan's keep-alive, 0: none), and keepalives whenever ESP is in UDP.
    natikeport: int = 4500
    keep_alive: float = 20.0
    force_keepalive: bool = False
    # Certificates (pluto/certs): the store's directory (None: none) and --crl-strict.
    certdir: str | None = None
    crl_strict: bool = False
    # Denial of service (pluto/engine/ddos.py): libreswan's ddos-mode, ddos-ike-threshold and
    # max-halfopen-ike, and a limit of half-open IKE SAs per peer address (0: none).
    ddos_mode: str = "auto"
    ddos_ike_threshold: int = 25_000
    max_halfopen_ike: int = 50_000
    max_halfopen_ike_per_peer: int = 16
    # virtual-private: what a road warrior behind a NAT may claim as its client (vhost:%priv)
    virtual_private: VirtualPrivate = field(default_factory=VirtualPrivate)

    def __post_init__(self) -> None:
        # The server's options carry virtual-private as written (pluto/main.py copies the
        # fields by name): parse it here, once.
        if isinstance(self.virtual_private, str):
            self.virtual_private = parse_virtual_private(self.virtual_private)


def _core_options(options: Any) -> CoreOptions:
    """Accept the server's options object (pluto/server/options.py) as well as ours."""
    if options is None:
        return CoreOptions()
    if isinstance(options, CoreOptions):
        return options
    return CoreOptions(listen=list(getattr(options, "listen", ())),
                       force_busy=bool(getattr(options, "force_busy", False)),
                       uniqueids=bool(getattr(options, "uniqueids", False)),
                       ikev1_policy=str(getattr(options, "ikev1_policy", "drop")),
                       natikeport=int(getattr(options, "natikeport", 4500)),
                       keep_alive=float(getattr(options, "keep_alive", 20.0)),
                       force_keepalive=bool(getattr(options, "force_keepalive", False)),
                       certdir=getattr(options, "certdir", None),
                       crl_strict=bool(getattr(options, "crl_strict", False)),
                       ddos_mode=str(getattr(options, "ddos_mode", "auto")),
                       ddos_ike_threshold=int(getattr(options, "ddos_ike_threshold", 25_000)),
                       max_halfopen_ike=int(getattr(options, "max_halfopen_ike", 50_000)),
                       max_halfopen_ike_per_peer=int(getattr(options,
                                                             "max_halfopen_ike_per_peer", 16)),
                       virtual_private=parse_virtual_private(
                           str(getattr(options, "virtual_private", "") or "")))


class Pluto:
    def __init__(self, *, clock: Clock, rand: RandomSource, kernel: Any, transport: Transport,
                 logger: Logger, impairs: Impairs | None = None, secrets: Any = None,
                 options: CoreOptions | None = None) -> None:
        from pluto.connections.table import ConnectionTable

        self.clock = clock
        self.rand = rand
        self.kernel = kernel
        self.transport = transport
        # Drop notices are rate-limited: a flood of bad datagrams must not fill the disk.
        self.logger = rate_limited(logger, clock.now)
        self.impairs = impairs if impairs is not None else Impairs()
        self.secrets = secrets
        self.options = _core_options(options)
        self.ddos = DdosGuard(self.options.ddos_mode, self.options.ddos_ike_threshold,
                              self.options.max_halfopen_ike,
                              self.options.max_halfopen_ike_per_peer)
        self.connections = ConnectionTable()
        self.states = StateTable()
        self.timers = Timers()
        self.listening = True
        self.reqids = iter(range(16384, 1 << 30, 4))  # libreswan hands out reqids in fours
        self._whack_queue: list[Any] = []  # requests waiting behind a sync initiate
        self._cookies: Any = None
        self.routes: dict[str, Any] = {}  # connection name -> routes.Route (trap policies)
        self.on_close: list[Any] = []  # callables run by close() (the server's kernel monitor)
        # Packet impairs (pluto/engine/packet_impairs.py): messages counted per direction, and
        # the ones held back (drip) or kept for a replay.
        self.packet_counters = {"inbound": 0, "outbound": 0}
        self.late_messages: dict[str, list] = {"inbound": [], "outbound": []}
        from pluto.certs.pubkeys import PublicKeyStore

        self.public_keys = PublicKeyStore()  # raw public keys added with whack --addkey
        from pluto.certs.loading import open_store

        self.certs = open_store(self.options, secrets, self.logger.log)  # leftcert, CAs, CRLs

    # --- the host's API ------------------------------------------------------------------

    def packet_received(self, data: bytes, local: Endpoint, remote: Endpoint) -> None:
        from pluto.engine import dispatch

        dispatch.packet_received(self, data, local, remote)

    def whack(self, actions: list[dict], reply: WhackReply) -> None:
        from pluto.engine import whack_actions

        whack_actions.run(self, actions, reply)

    def next_deadline(self) -> float | None:
        return self.timers.next_deadline()

    def run_timers(self) -> None:
        self.timers.run_due(self.clock.now())

    def shutdown(self) -> None:

        informational.delete_everything(self)

    def kernel_acquire(self, acquire: Any) -> None:
        """The kernel's ACQUIRE (pluto.kernel.xfrm_monitor.Acquire): initiate on demand."""

        kernel_events.acquire(self, acquire)

    def kernel_expire(self, expire: Any) -> None:
        """The kernel's EXPIRE (pluto.kernel.xfrm_monitor.Expire): soft rekeys, hard deletes."""

        kernel_events.expire(self, expire)

    def close(self) -> None:
        """pluto exits: whatever is still in the kernel of ours goes (routes, SAs left over).

        Run after :meth:`shutdown`; the back end's ``flush`` removes exactly what pluto added.
        """
        from pluto.engine import routes

        for conn in [route.conn for route in self.routes.values()]:
            routes.unroute(self, conn)
        flush = getattr(self.kernel, "flush", None)
        if flush is not None:
            for err in flush():
                self.logger.debug("kernel", f"flush: {err}")
        for closer in self.on_close:
            closer()
        self.on_close.clear()

    # --- services for the exchanges ------------------------------------------------------

    def state_logger(self, conn: Connection, serial: int) -> Logger:
        """A logger for state #serial: lines go to the log and to the whack following it."""
        prefix = f"{conn.label} #{serial}: "

        def sink(line: str) -> None:
            self.logger.sink(line)
            state = self.states.get(serial)
            reply = self.whack_of(state) if state is not None else None
            if reply is not None and not line.startswith("| "):
                reply.line(RC_LOG, line)

        return Logger(sink, self.logger.flags, prefix)

    def whack_of(self, state: State) -> WhackReply | None:
        if state.whack is not None:
            return state.whack
        if isinstance(state, ChildSa):
            ike = self.states.ike(state.ike_serial)
            return ike.whack if ike is not None else None
        return None

    def new_ike(self, conn: Connection, *, initiator: bool, local: Endpoint,
                remote: Endpoint, spi_i: bytes, kind: StateKind) -> IkeSa:
        serial = self.states.next_serial()
        ike = IkeSa(serial=serial, conn=conn, kind=kind,
                    logger=self.state_logger(conn, serial), created=self.clock.now(),
                    initiator=initiator, local=local, remote=remote, spi_i=spi_i)
        self.states.add(ike)
        self.logger.debug("lifecycle", f"creating state #{serial} for {conn.label} "
                                       f"({'initiator' if initiator else 'responder'})")
        return ike

    def new_child(self, ike: IkeSa, conn: Connection, kind: StateKind,
                  initiator: bool) -> ChildSa:
        serial = self.states.next_serial()
        child = ChildSa(serial=serial, conn=conn, kind=kind,
                        logger=self.state_logger(conn, serial), created=self.clock.now(),
                        ike_serial=ike.serial, initiator=initiator)
        self.states.add(child)
        ike.children.append(serial)
        return child

    def change_state(self, state: State, kind: StateKind) -> None:
        self.logger.debug("base", f"#{state.serial} {state.kind.name} -> {kind.name}")
        state.kind = kind
        self.ddos.state_changed(state.serial, kind)

    def log_new_state(self, state: State, text: str) -> None:
        """A log line announcing a state change; whack sees it with RC_NEW_STATE + number."""
        line = state.logger.prefix + text
        self.logger.sink(line)
        reply = self.whack_of(state)
        if reply is not None:
            reply.line(RC_NEW_STATE + state.kind.number, line)

    def transmit(self, ike: IkeSa, datagram: bytes) -> None:

        assert ike.local is not None and ike.remote is not None
        packet_impairs.send(self, datagram, ike.local, ike.remote)

    def send_raw(self, datagram: bytes, local: Endpoint, remote: Endpoint) -> None:

        packet_impairs.send(self, datagram, local, remote)

    def schedule(self, state: State, event: str, delay: float, callback) -> Timer:
        """(Re)arm state's timer ``event`` to fire after ``delay`` seconds."""
        self.cancel(state, event)
        timer = self.timers.schedule(self.clock.now() + delay, event, callback)
        state.timers[event] = timer
        self.logger.debug("base", f"#{state.serial} {event} timer in {delay:g}s")
        return timer

    def cancel(self, state: State, event: str) -> None:
        timer = state.timers.pop(event, None)
        if timer is not None:
            timer.cancel()

    def next_reqid(self) -> int:
        return next(self.reqids)

    def describe(self, endpoint: Endpoint) -> str:
        return format_endpoint(endpoint)
