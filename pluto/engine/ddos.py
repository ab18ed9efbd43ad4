"""The responder under attack: half-open IKE SAs limited, COOKIEs when busy, drops counted.

A half-open IKE SA is one this pluto answered an IKE_SA_INIT request for and whose IKE_AUTH
has not arrived yet; each costs a DH computation and memory. As libreswan does
(``ddos-mode``, ``ddos-ike-threshold``, ``max-halfopen-ike``):

- ``auto`` (the default): once ``ddos_ike_threshold`` (25,000) half-open SAs exist, every
  IKE_SA_INIT request must carry a valid COOKIE (RFC 7296 §2.6); below it, none needs one;
- ``busy``: always ask for a COOKIE (``--force-busy``); ``unlimited``: never;
- beyond ``max_halfopen_ike`` (50,000) half-open SAs, new IKE_SA_INIT requests are dropped;
- beyond ``max_halfopen_ike_per_peer`` half-open SAs from one address (strongSwan's
  ``block_threshold`` idea; 0: no limit), that address's requests are dropped too.

Every datagram dropped without an answer is counted by reason for ``whack --globalstatus``.
Counting is cheap: the half-open SAs this guard admitted are tracked by serial; one that moves
on (IKE_AUTH) leaves at once (:meth:`state_changed`), one deleted (timed out) at the next
prune, at most once per second of the core's clock, or every tenth of a second while a limit
is hit (so the count may run high for a moment, never low).
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from typing import TYPE_CHECKING

from pluto.engine.host import Endpoint, format_endpoint
from pluto.engine.states import StateKind
from pluto.packet.ikev2 import Message, NoncePayload, NotifyPayload
from pluto.packet.ikev2_types import NotifyType

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

DDOS_MODES = ("auto", "busy", "unlimited")
DEFAULT_DDOS_IKE_THRESHOLD = 25_000  # libreswan's DEFAULT_IKE_SA_DDOS_THRESHOLD
DEFAULT_MAX_HALFOPEN_IKE = 50_000  # libreswan's DEFAULT_MAXIMUM_HALFOPEN_IKE_SA
DEFAULT_MAX_HALFOPEN_IKE_PER_PEER = 16
PRUNE_INTERVAL = 1.0
FORCED_PRUNE_INTERVAL = 0.1  # at a limit: recount, but not for every datagram of a flood

# The reasons a datagram is dropped, in the order --globalstatus prints them. Nothing is
# computed for any of them; "duplicate-request" (an old message ID) is answered from the
# response cache when there is one, and "cookie-required" gets a stateless N(COOKIE).
DROP_REASONS = (
    "malformed", "unknown-spi", "unprotected", "integrity-failed", "outside-window", "duplicate-request",
    "cookie-required", "half-open-total-limit", "half-open-peer-limit",
)


class DdosGuard:
    def __init__(self, mode: str = "auto", ddos_ike_threshold: int = DEFAULT_DDOS_IKE_THRESHOLD,
                 max_halfopen_ike: int = DEFAULT_MAX_HALFOPEN_IKE,
                 max_halfopen_ike_per_peer: int = DEFAULT_MAX_HALFOPEN_IKE_PER_PEER) -> None:
        if mode not in DDOS_MODES:
            raise ValueError(f"ddos-mode {mode!r}: expected {', '.join(DDOS_MODES)}")
        for name, value in (("ddos-ike-threshold", ddos_ike_threshold),
                            ("max-halfopen-ike", max_halfopen_ike),
                            ("max-halfopen-ike-per-peer", max_halfopen_ike_per_peer)):
            if value < 0:
                raise ValueError(f"{name} {value}: must not be negative")
        self.mode = mode
        self.ddos_ike_threshold = ddos_ike_threshold
        self.max_halfopen_ike = max_halfopen_ike
        self.max_halfopen_ike_per_peer = max_halfopen_ike_per_peer
        self.dropped: Counter[str] = Counter()
        self.cookies_sent = 0
        self._half_open: dict[int, ipaddress.IPv4Address | ipaddress.IPv6Address] = {}
        self._per_peer: Counter[ipaddress.IPv4Address | ipaddress.IPv6Address] = Counter()
        self._pruned_at = float("-inf")
        self._forced_at = float("-inf")

    # --- counting ------------------------------------------------------------------------

    def count(self, reason: str) -> None:
        self.dropped[reason] += 1

    def half_open(self, core: Pluto) -> int:
        self._prune(core, force=False)
        return len(self._half_open)

    def cookies_required(self, core: Pluto) -> bool:
        if self.mode == "busy" or core.options.force_busy:
            return True
        return self.mode == "auto" and self.half_open(core) >= self.ddos_ike_threshold

    def state_changed(self, serial: int, kind: StateKind) -> None:
        """A state moved on (the core's change_state): a half-open SA is half-open no more."""
        if serial in self._half_open and kind is not StateKind.STATE_V2_IKE_SA_INIT_R:
            self._forget(serial)

    def _prune(self, core: Pluto, force: bool) -> None:
        now = core.clock.now()
        if force:
            if now - self._forced_at < FORCED_PRUNE_INTERVAL:
                return
            self._forced_at = now
        elif now - self._pruned_at < PRUNE_INTERVAL:
            return
        self._pruned_at = now
        for serial in list(self._half_open):
            state = core.states.get(serial)
            if state is None or state.kind is not StateKind.STATE_V2_IKE_SA_INIT_R:
                self._forget(serial)

    def _forget(self, serial: int) -> None:
        peer = self._half_open.pop(serial)
        self._per_peer[peer] -= 1
        if self._per_peer[peer] <= 0:
            del self._per_peer[peer]  # the table only holds peers with half-open SAs

    # --- IKE_SA_INIT requests ------------------------------------------------------------

    def admit_init(self, core: Pluto, msg: Message, local: Endpoint, remote: Endpoint) -> bool:
        """Whether a new IKE_SA_INIT request may go on to the exchange; if not, it was
        answered with a COOKIE request or dropped, and counted."""
        where = f"packet from {format_endpoint(remote)}"
        if self.max_halfopen_ike and self.half_open(core) >= self.max_halfopen_ike:
            self._prune(core, force=True)  # the limit is hit: count exactly before refusing
            if len(self._half_open) >= self.max_halfopen_ike:
                self.count("half-open-total-limit")
                core.logger.log(f"{where}: {len(self._half_open)} half-open IKE SAs, the "
                                f"maximum (max-halfopen-ike); dropping it")
                return False
        peer = remote[0]
        limit = self.max_halfopen_ike_per_peer
        if limit and self._per_peer.get(peer, 0) >= limit:
            self._prune(core, force=True)
            if self._per_peer.get(peer, 0) >= limit:
                self.count("half-open-peer-limit")
                core.logger.log(f"{where}: {limit} half-open IKE SAs from this address, the "
                                f"maximum (max-halfopen-ike-per-peer); dropping it")
                return False
        if core.options.force_busy or not self.cookies_required(core):
            return True  # with --force-busy the exchange asks for the COOKIE itself
        return self._check_cookie(core, msg, local, remote, where)

    def _check_cookie(self, core: Pluto, msg: Message, local: Endpoint, remote: Endpoint,
                      where: str) -> bool:
        from pluto.ikev2 import cookie as cookies
        from pluto.ikev2 import messages

        nonce = msg.first(NoncePayload)
        if nonce is None:
            return True  # the exchange answers INVALID_SYNTAX; nothing is kept
        if core._cookies is None:
            core._cookies = cookies.Cookies(core.rand, core.clock)
        got = next((n for n in msg.all(NotifyPayload) if n.notify_type == NotifyType.COOKIE),
                   None)
        if got is not None and core._cookies.check(got.data, nonce.data, remote[0], msg.ispi):
            return True
        self.count("cookie-required")
        self.cookies_sent += 1
        core.logger.log(f"{where}: {len(self._half_open)} half-open IKE SAs "
                        f"(ddos-ike-threshold {self.ddos_ike_threshold}): responding to "
                        "IKE_SA_INIT request with COOKIE; dropping it")
        messages.send_cleartext_notify(core, msg, local, remote, NotifyType.COOKIE,
                                       core._cookies.make(nonce.data, remote[0], msg.ispi))
        return False

    def track(self, core: Pluto, msg: Message, remote: Endpoint) -> None:
        """After the exchange ran: remember the half-open SA it created, if it did."""
        ike = core.states.by_init(msg.ispi, remote)
        if (ike is not None and ike.kind is StateKind.STATE_V2_IKE_SA_INIT_R
                and ike.serial not in self._half_open):
            self._half_open[ike.serial] = remote[0]
            self._per_peer[remote[0]] += 1

    # --- whack --globalstatus ------------------------------------------------------------

    def status(self, core: Pluto) -> dict:
        self._forced_at = float("-inf")  # an operator asking gets the exact count
        self._prune(core, force=True)
        return {
            "ddos_mode": self.mode,
            "ddos_ike_threshold": self.ddos_ike_threshold,
            "max_halfopen_ike": self.max_halfopen_ike,
            "max_halfopen_ike_per_peer": self.max_halfopen_ike_per_peer,
            "cookies_required": self.cookies_required(core),
            "half_open": len(self._half_open),
            "half_open_peers": len(self._per_peer),
            "cookies_sent": self.cookies_sent,
            "dropped": {reason: self.dropped.get(reason, 0) for reason in DROP_REASONS},
        }
