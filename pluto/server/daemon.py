"""The running daemon: the asyncio loop around the sans-I/O core.

Start-up, in the order pluto(8) implies: the lock file (exit 10 when a live pluto holds it;
a zombie does not count), the UDP sockets, the start-up sweep of what a killed pluto left in
the kernel (pluto/kernel/sweep.py), the core, the control socket; then "ready" (``Pluto
initialized`` with ``--nofork``, or the waiting parent told to exit 0). Then every event is handed to the core:
datagrams to ``packet_received``, whack requests to ``whack``, and the timer fires
``run_timers`` at ``next_deadline()``; after each event the timer is re-armed. whack's
``shutdown`` is handled by the core (``core.shutdown()``); pluto then stops when the core sets
``core.stopping`` or when that request's reply is done, whichever comes first.

SIGTERM and SIGINT shut down in order: ``core.shutdown()`` (SAs deleted, peers told), pending
whack replies flushed, ``core.close()`` (routes removed, the kernel back end flushed of
everything pluto added, the XFRM monitor closed), sockets closed, control socket and lock file removed, exit 0. SIGHUP
only logs a hint, as the manual says.

A log file that cannot be written (a full disk) does not stop pluto: the sink says so once on
stderr, and the next whack request gets the same line once (pluto/server/logsink.py).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from typing import Any, Protocol

from pluto import __version__
from pluto.engine.host import Clock, Endpoint, IPAddress, SystemClock, Transport, WhackReply
from pluto.log import Logger
from pluto.server.lockfile import EXIT_LOCKED, LockError, LockFile, LockHeld
from pluto.server.options import CoreOptions, PlutoOptions, effective_helpers
from pluto.server.pidcheck import pid_is_alive
from pluto.server.udp import IkeSockets, ListenError
from pluto.server.whack_server import (
    ControlSocketError,
    StreamReply,
    WhackServer,
    log_internal_error,
)
from pluto.whack_protocol import RC_COMMENT

# pluto(8): SIGHUP gets a suggestion that "whack --listen" might have been intended.
SIGHUP_HINT = ('SIGHUP ignored; perhaps "whack --listen" was intended (it looks for new '
               'interfaces); "whack --rereadsecrets" reloads the secrets')
# Pending whack replies (the "shutdown" request's own answer, for one) get this long to flush.
FLUSH_GRACE = 1.0
# If the core leaves a timer in the past after running its timers, do not spin on it.
MIN_TIMER_DELAY = 0.01


class Core(Protocol):
    """The part of ``pluto.engine.core.Pluto`` that the server drives."""

    def packet_received(self, data: bytes, local: Endpoint, remote: Endpoint) -> None: ...

    def whack(self, actions: list[dict[str, Any]], reply: WhackReply) -> None: ...

    def next_deadline(self) -> float | None: ...

    def run_timers(self) -> None: ...

    def shutdown(self) -> None: ...


class MakeCore(Protocol):
    def __call__(self, *, opts: PlutoOptions, transport: Transport, logger: Logger,
                 core_options: CoreOptions) -> Core: ...


class StartupError(Exception):
    """pluto cannot start; ``code`` is the exit status (1, or 10 for a held lock)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class PlutoServer:
    def __init__(self, opts: PlutoOptions, *, addresses: list[IPAddress], make_core: MakeCore,
                 logger: Logger, ready: Callable[[], None] = lambda: None,
                 clock: Clock | None = None) -> None:
        self.opts = opts
        self.addresses = addresses
        self.logger = logger
        self._make_core = make_core
        self._ready = ready
        self._clock = clock or SystemClock()
        self.lock = LockFile(opts.pid_path, log=logger.log, is_running=pid_is_alive)
        self.sockets = IkeSockets(logger)
        self.core: Core | None = None
        self.whack_server: WhackServer | None = None
        self._stop: asyncio.Event | None = None
        self._stop_reason = ""
        self._timer: asyncio.TimerHandle | None = None
        self._timer_deadline: float | None = None
        self._signals: list[int] = []
        self._told_log_failure: str | None = None

    # --- life cycle ---------------------------------------------------------------------

    async def serve(self) -> int:
        """Run until shut down; 0 then. StartupError when pluto cannot start."""
        self._stop = asyncio.Event()
        try:
            await self._start()
        except BaseException:
            await self._cleanup()
            raise
        self._ready()
        await self._stop.wait()
        self.logger.log(f"shutting down ({self._stop_reason})")
        await self._cleanup()
        self.logger.log("pluto exiting")
        return 0

    async def _start(self) -> None:
        self.logger.log(f"Starting Pluto (pypluto {__version__}) pid:{os.getpid()}")
        try:
            self.lock.acquire()
        except LockHeld as err:
            raise StartupError(str(err), EXIT_LOCKED) from None
        except LockError as err:
            raise StartupError(str(err)) from None
        try:
            for address in self.addresses:
                await self.sockets.open(address, self.opts.ikeport)
                if self.opts.natikeport:
                    await self.sockets.open(address, self.opts.natikeport, nat=True)
        except ListenError as err:
            raise StartupError(str(err)) from None
        self._sweep_kernel()
        try:
            self.core = self._make_core(opts=self.opts, transport=self.sockets,
                                        logger=self.logger, core_options=self.core_options())
        except StartupError:
            raise
        except Exception as err:
            log_internal_error(self.logger, "starting the protocol core", err)
            raise StartupError(f"the protocol core failed to start: {err!r}") from None
        self.sockets.deliver = self._packet
        self.whack_server = WhackServer(self.opts.ctl_path, self._whack, logger=self.logger,
                                        after_request=self._after_event)
        try:
            await self.whack_server.start()
        except ControlSocketError as err:
            raise StartupError(str(err)) from None
        self._install_signal_handlers()
        self._after_event()
        self.logger.log("listening for IKE messages")

    def _sweep_kernel(self) -> None:
        """Remove what a pluto killed without its clean-up left in the kernel.

        After the lock: no live pluto of this rundir owns those SAs any more. Before the
        core: its first installs (auto=route, auto=start) reuse the same reqids. Without XFRM
        there is nothing to sweep; the core then says clearly why it cannot start.
        """
        if self.opts.noklips:
            return  # nostack keeps nothing across a restart
        from pluto.kernel import sweep
        from pluto.kernel.ops import KernelError
        from pluto.kernel.xfrm_socket import XfrmChannel

        try:
            channel = XfrmChannel()
        except OSError:
            return
        try:
            sweep.sweep(sweep.xfrm_leftovers(channel), self.logger.log)
        except (KernelError, ValueError) as err:
            self.logger.log(f"start-up sweep: cannot list the kernel's SAs and policies: {err}")
        finally:
            channel.close()

    def core_options(self) -> CoreOptions:
        return CoreOptions(
            uniqueids=self.opts.uniqueids,
            force_busy=self.opts.force_busy,
            nhelpers=effective_helpers(self.opts.nhelpers),
            listen=tuple(self.sockets.endpoints(nat=False)),
            nat_listen=tuple(self.sockets.endpoints(nat=True)),
            ikeport=self.opts.ikeport,
            natikeport=self.opts.natikeport,
            ikev1_policy=self.opts.ikev1_policy,
            keep_alive=self.opts.keep_alive,
            force_keepalive=self.opts.force_keepalive,
            ddos_mode="busy" if self.opts.force_busy else self.opts.ddos_mode,
            ddos_ike_threshold=self.opts.ddos_ike_threshold,
            max_halfopen_ike=self.opts.max_halfopen_ike,
            max_halfopen_ike_per_peer=self.opts.max_halfopen_ike_per_peer,
            certdir=self.opts.certdir,
            crl_strict=self.opts.crl_strict,
            virtual_private=self.opts.virtual_private,
        )

    def request_stop(self, reason: str) -> None:
        """Shut down soon (a signal); the core is told first."""
        if self._stop is None or self._stop.is_set():
            return
        if self.core is not None and not getattr(self.core, "stopping", False):
            try:
                self.core.shutdown()
            except Exception as err:
                log_internal_error(self.logger, "shutting down the core", err)
        self._stop_reason = reason
        self._stop.set()

    async def _cleanup(self) -> None:
        self._remove_signal_handlers()
        self._cancel_timer()
        if self.whack_server is not None:
            await self.whack_server.close(FLUSH_GRACE)
            self.whack_server = None
        await self._flush_sockets(FLUSH_GRACE)
        self._close_core()
        self.sockets.close()
        self.lock.release()

    def _close_core(self) -> None:
        """Nothing of ours stays in the kernel: the core flushes its back end (if it can)."""
        close = getattr(self.core, "close", None)
        if close is None:
            return
        try:
            close()
        except Exception as err:
            log_internal_error(self.logger, "closing the protocol core", err)

    async def _flush_sockets(self, grace: float) -> None:
        # Deletes sent at shutdown may sit in a socket buffer if the kernel said EAGAIN.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self.sockets.pending_bytes() and loop.time() < deadline:
            await asyncio.sleep(0.01)

    # --- events -------------------------------------------------------------------------

    def _packet(self, data: bytes, local: Endpoint, remote: Endpoint) -> None:
        assert self.core is not None
        try:
            self.core.packet_received(data, local, remote)
        except Exception as err:
            log_internal_error(self.logger, f"handling a packet from {remote[0]}:{remote[1]}",
                               err)
        self._after_event()

    def _whack(self, actions: list[dict[str, Any]], reply: StreamReply) -> None:
        assert self.core is not None
        self._tell_whack_about_logging(reply)
        if any(action.get("action") == "shutdown" for action in actions):
            # The core may queue the request behind others; pluto stops once its reply is
            # done, whether or not the core also sets ``stopping``.
            reply.finished.add_done_callback(lambda _f: self._stop_for_whack())
        self.core.whack(actions, reply)

    def _tell_whack_about_logging(self, reply: StreamReply) -> None:
        """A log file that cannot be written (a full disk) is said once to whack too: with
        a log file and no --stderrlog, nobody reads pluto's stderr."""
        failure = getattr(self.logger.sink, "logfile_failure", None)
        if failure is not None and failure != self._told_log_failure:
            reply.line(RC_COMMENT, failure)
        self._told_log_failure = failure

    def _stop_for_whack(self) -> None:
        if self._stop is not None and not self._stop.is_set():
            self._stop_reason = "whack --shutdown"
            self._cancel_timer()
            self._stop.set()

    def _fire_timers(self) -> None:
        self._timer = None
        fired = self._timer_deadline
        self._timer_deadline = None
        assert self.core is not None
        try:
            self.core.run_timers()
        except Exception as err:
            log_internal_error(self.logger, "running timers", err)
        self._after_event(fired)

    def _after_event(self, fired: float | None = None) -> None:
        if self.core is None or self._stop is None or self._stop.is_set():
            return
        if getattr(self.core, "stopping", False):
            self._stop_for_whack()
            return
        self._arm_timer(fired)

    def _arm_timer(self, fired: float | None) -> None:
        assert self.core is not None
        try:
            deadline = self.core.next_deadline()
        except Exception as err:
            log_internal_error(self.logger, "reading the next timer", err)
            deadline = None
        if deadline == self._timer_deadline and self._timer is not None:
            return
        self._cancel_timer()
        if deadline is None:
            return
        delay = max(deadline - self._clock.now(), 0.0)
        if fired is not None and deadline <= fired:
            delay = max(delay, MIN_TIMER_DELAY)
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(delay, self._fire_timers)
        self._timer_deadline = deadline

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._timer_deadline = None

    # --- signals ------------------------------------------------------------------------

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for signum, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")):
            loop.add_signal_handler(signum, self._on_stop_signal, name)
            self._signals.append(signum)
        loop.add_signal_handler(signal.SIGHUP, self._on_sighup)
        self._signals.append(signal.SIGHUP)

    def _remove_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in self._signals:
            loop.remove_signal_handler(signum)
        self._signals.clear()

    def _on_stop_signal(self, name: str) -> None:
        self.logger.log(f"{name} received")
        self.request_stop(name)

    def _on_sighup(self) -> None:
        self.logger.log(SIGHUP_HINT)
