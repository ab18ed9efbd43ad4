"""IKE and Child SA states: libreswan's state names, their stories, and the state table.

A state has a serial number (``#1``, ``#2``...) that never repeats in one pluto run. An IKE SA
state owns its Child SA states; a Child state points back at its IKE SA by serial. Lookups
are hash-keyed: by serial, by the IKE SPI pair, and by (initiator SPI, peer) for the IKE_SA_INIT
exchange, where the responder's SPI is not known yet.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from pluto.connections.connection import Connection, IPNetwork
from pluto.engine.host import Endpoint
from pluto.log import Logger


class StoryMixin:
    """State kinds are ``(number, story)`` pairs: libreswan's number and its one-line story."""

    value: tuple[int, str]

    @property
    def number(self) -> int:
        return self.value[0]

    @property
    def story(self) -> str:
        return self.value[1]


class StateKind(StoryMixin, enum.Enum):
    """(number, story); the number also makes whack's RC_NEW_STATE code."""

    STATE_V2_IKE_SA_INIT_I = (1, "sent IKE_SA_INIT request")
    STATE_V2_IKE_SA_INIT_R = (2, "sent IKE_SA_INIT response")
    STATE_V2_IKE_AUTH_I = (3, "sent IKE_AUTH request")
    STATE_V2_ESTABLISHED_IKE_SA = (4, "established IKE SA")
    STATE_V2_IKE_AUTH_CHILD_I0 = (5, "ephemeral: initiator creating Child SA in IKE_AUTH")
    STATE_V2_IKE_AUTH_CHILD_R0 = (6, "ephemeral: responder creating Child SA in IKE_AUTH")
    STATE_V2_ESTABLISHED_CHILD_SA = (7, "established Child SA")
    STATE_V2_ZOMBIE = (8, "deleting")
    # CREATE_CHILD_SA (RFC 7296 §1.3): larval states while the exchange is under way
    STATE_V2_NEW_CHILD_I1 = (9, "sent CREATE_CHILD_SA request for new IPsec SA")
    STATE_V2_NEW_CHILD_R0 = (10, "larval: responder creating Child SA")
    STATE_V2_REKEY_CHILD_I1 = (11, "sent CREATE_CHILD_SA request to rekey IPsec SA")
    STATE_V2_REKEY_CHILD_R0 = (12, "larval: responder rekeying Child SA")
    STATE_V2_REKEY_IKE_I1 = (13, "sent CREATE_CHILD_SA request to rekey IKE SA")

    @property
    def established(self) -> bool:
        return self in (StateKind.STATE_V2_ESTABLISHED_IKE_SA,
                        StateKind.STATE_V2_ESTABLISHED_CHILD_SA)


@dataclass
class Outstanding:
    """Our request waiting for its response: what to resend and how often we did."""

    message_id: int
    exchange: int
    datagram: bytes
    first_sent: float
    retransmits: int = 0
    on_response: Any = None  # handler(core, ike, msg, payloads) for the response
    timeout: float | None = None  # give up after this long (None: the core's default)


@dataclass
class State:
    serial: int
    conn: Connection
    kind: StateKind
    logger: Logger
    created: float = 0.0  # monotonic
    whack: Any = None  # the WhackReply following this negotiation (sync initiate)
    timers: dict[str, Any] = field(default_factory=dict)  # event name -> Timer

    @property
    def label(self) -> str:
        return f"{self.conn.label} #{self.serial}"


def _indexed(name: str) -> property:
    """A state attribute the state table indexes: setting it re-indexes the state.

    The value lives in the instance's ``__dict__`` under ``_NAME``; ``_table`` is set there
    while the state is in a :class:`StateTable`. Assigning ``state.conn = other`` anywhere
    (IKE_AUTH switching connection, IKEv1 ID checks) keeps the index right without the
    callers knowing about it.
    """
    key = "_" + name

    def get(self: State) -> Any:
        return self.__dict__[key]

    def set(self: State, value: Any) -> None:
        values = self.__dict__
        old = values.get(key)
        values[key] = value
        table = values.get("_table")
        if table is not None and old is not value:
            table._reindex(self, name, old)

    return property(get, set)


# After the dataclass is made: its __init__ then assigns through the property.
State.conn = _indexed("conn")  # type: ignore[assignment]


@dataclass
class IkeSa(State):
    initiator: bool = True
    local: Endpoint | None = None
    remote: Endpoint | None = None
    # Where the last request from the peer came from and was sent to: responses go back
    # there (RFC 7296 §2.11). None until the first request after IKE_SA_INIT.
    request_endpoints: tuple[Endpoint, Endpoint] | None = None
    cookie_retries: int = 0  # IKE_SA_INIT requests re-sent with a COOKIE (a limit applies)
    spi_i: bytes = b""
    spi_r: bytes = bytes(8)
    # IKE_SA_INIT material
    ike_proposals: list = field(default_factory=list)
    offered_sa: Any = None  # SAPayload we offered (initiator)
    ke_group: Any = None  # KeAlgorithm used in our KE payload
    keypair: Any = None
    ni: bytes = b""
    nr: bytes = b""
    cookie: bytes = b""
    init_request: bytes = b""  # the IKE_SA_INIT messages, for AUTH
    init_response: bytes = b""
    chosen: Any = None  # negotiation.Chosen
    keys: Any = None  # keys.IkeSaKeys
    protector: Any = None  # protection.Protector
    peer_id: Any = None  # Identity
    # message IDs (RFC 7296 §2.3 with a window of one)
    next_request_id: int = 0  # the message ID of our next request
    outstanding: Outstanding | None = None
    next_peer_request_id: int = 0  # the message ID the peer's next request must carry
    last_response: tuple[int, list[bytes]] | None = None  # (message ID, datagrams) to replay
    # the first Child SA (IKE_AUTH) being negotiated
    child_offer: Any = None  # (SAPayload, inbound SPI, esp proposals, larval child)
    children: list[int] = field(default_factory=list)  # Child serials
    established_at: float | None = None
    keying_try: int = 1
    failure_notify: int | None = None
    # requests waiting for the window (one outstanding request): callables run in order
    queued: list = field(default_factory=list)
    rekeyed_to: int | None = None  # serial of the IKE SA that replaced this one
    rekey_of: int | None = None  # (a rekey's new IKE SA) serial of the IKE SA it replaces
    # announced in the peer's IKE_SA_INIT message (pluto/ikev2/announcements.py)
    peer_hash_algorithms: tuple[int, ...] = ()  # RFC 7427 SIGNATURE_HASH_ALGORITHMS
    peer_childless: bool = False  # RFC 6023 CHILDLESS_IKEV2_SUPPORTED
    # NAT traversal (RFC 7296 §2.23, pluto/ikev2/nat.py), from the NAT_DETECTION notifies
    nat_us: bool = False  # we are behind a NAT: we send keepalives
    nat_peer: bool = False  # the peer is: we follow its endpoint when the NAT changes it
    encapsulate: bool = False  # IKE on the NAT-T port, ESP in UDP


IkeSa.rekey_of = _indexed("rekey_of")  # type: ignore[assignment]


@dataclass
class ChildSa(State):
    ike_serial: int = 0
    initiator: bool = True  # were we the initiator of the exchange that created it
    chosen: Any = None
    inbound_spi: int = 0
    outbound_spi: int = 0
    local_ts: IPNetwork | None = None
    remote_ts: IPNetwork | None = None
    sas: list = field(default_factory=list)  # kernel SaSpec installed (inbound first)
    policies: list = field(default_factory=list)
    add_time: float = 0.0  # wall clock
    established_at: float | None = None
    reqid: int = 0  # kept across rekeys: the policies stay and refer to it
    replacing: int | None = None  # serial of the Child SA this one rekeys
    ni: bytes = b""  # nonces of the exchange that created it (collision rule, §2.8.1)
    nr: bytes = b""
    offer: Any = None  # what our CREATE_CHILD_SA request offered (initiator, larval)
    updown_up: bool = False  # the updown command ran "up" for it: "down" runs when it goes
    gone_spis: set = field(default_factory=set)  # SPIs no longer in the kernel (released, expired)


class StateTable:
    """Every state of one pluto; serials count up from 1 and are never reused."""

    def __init__(self) -> None:
        self._next_serial = 1
        self._by_serial: dict[int, State] = {}
        self._by_spis: dict[tuple[bytes, bytes], IkeSa] = {}
        self._by_init: dict[tuple[bytes, Endpoint], IkeSa] = {}
        # States are nearly always added in serial order; dicts keep insertion order, so
        # iterating needs no sort (O(n log n) on every delete) until one arrives out of order.
        self._last_added = 0
        self._in_order = True
        # Deleting a state asks "does its connection have states left?" and "which IKE SAs
        # rekey it?": indexed (by id of the connection, by the old serial) so that a delete
        # does not scan every state (O(n^2) to tear down n SAs).
        self._by_conn: dict[int, dict[int, State]] = {}
        self._by_rekey_of: dict[int, dict[int, IkeSa]] = {}

    def next_serial(self) -> int:
        serial = self._next_serial
        self._next_serial += 1
        return serial

    def add(self, state: State) -> None:
        if state.serial not in self._by_serial:
            if state.serial < self._last_added:
                self._in_order = False
            self._last_added = max(self._last_added, state.serial)
        stored = self._by_serial.get(state.serial)
        if stored is not None and stored is not state:
            self._forget(stored)
        self._by_serial[state.serial] = state
        state.__dict__["_table"] = self
        self._by_conn.setdefault(id(state.conn), {})[state.serial] = state
        if isinstance(state, IkeSa):
            self._index(state)
            if state.rekey_of is not None:
                self._by_rekey_of.setdefault(state.rekey_of, {})[state.serial] = state

    def _reindex(self, state: State, name: str, old: Any) -> None:
        """``state.NAME`` changed from ``old`` (called by the attribute, see _indexed)."""
        if name == "conn":
            index, old_key, new_key = self._by_conn, id(old), id(state.conn)
        else:
            index, old_key, new_key = self._by_rekey_of, old, state.rekey_of  # type: ignore[attr-defined]
        _unindex(index, old_key, state.serial)
        if new_key is not None:
            index.setdefault(new_key, {})[state.serial] = state

    def _index(self, ike: IkeSa) -> None:
        self._by_spis[(ike.spi_i, ike.spi_r)] = ike
        if ike.remote is not None:
            self._by_init[(ike.spi_i, ike.remote)] = ike

    def rekeyed_spis(self, ike: IkeSa, spi_r: bytes) -> None:
        """The responder's SPI became known: re-index."""
        self._by_spis.pop((ike.spi_i, ike.spi_r), None)
        ike.spi_r = spi_r
        self._index(ike)

    def move(self, ike: IkeSa, local: Endpoint, remote: Endpoint) -> None:
        """The IKE SA's endpoints change (NAT-T float, new NAT mapping): re-index."""
        key = (ike.spi_i, ike.remote)
        if self._by_init.get(key) is ike:
            del self._by_init[key]
        ike.local, ike.remote = local, remote
        self._index(ike)

    def _forget(self, state: State) -> None:
        """Drop ``state`` from the serial, connection and rekey indexes."""
        self._by_serial.pop(state.serial, None)
        _unindex(self._by_conn, id(state.conn), state.serial)
        if isinstance(state, IkeSa):
            _unindex(self._by_rekey_of, state.rekey_of, state.serial)
        if state.__dict__.get("_table") is self:
            del state.__dict__["_table"]

    def remove(self, state: State) -> None:
        stored = self._by_serial.get(state.serial)
        if stored is not None:
            self._forget(stored)
        if isinstance(state, IkeSa):
            if self._by_spis.get((state.spi_i, state.spi_r)) is state:
                del self._by_spis[(state.spi_i, state.spi_r)]
            key = (state.spi_i, state.remote)
            if self._by_init.get(key) is state:
                del self._by_init[key]

    def get(self, serial: int) -> State | None:
        return self._by_serial.get(serial)

    def ike(self, serial: int) -> IkeSa | None:
        state = self._by_serial.get(serial)
        return state if isinstance(state, IkeSa) else None

    def by_spis(self, spi_i: bytes, spi_r: bytes) -> IkeSa | None:
        return self._by_spis.get((spi_i, spi_r))

    def by_init(self, spi_i: bytes, remote: Endpoint) -> IkeSa | None:
        return self._by_init.get((spi_i, remote))

    def _ordered(self) -> list[State]:
        states = list(self._by_serial.values())
        if not self._in_order:
            states.sort(key=_serial_of)
        return states

    def __iter__(self) -> Iterator[State]:
        return iter(self._ordered())

    def __len__(self) -> int:
        return len(self._by_serial)

    def children_of(self, ike: IkeSa) -> list[ChildSa]:
        return [c for c in (self._by_serial.get(s) for s in ike.children)
                if isinstance(c, ChildSa)]

    def for_connection(self, conn: Connection) -> list[State]:
        """``conn``'s states in serial order."""
        return sorted(self._by_conn.get(id(conn), {}).values(), key=_serial_of)

    def rekeys_of(self, serial: int) -> list[IkeSa]:
        """The IKE SAs (in serial order) that were made to replace IKE SA ``serial``."""
        return sorted(self._by_rekey_of.get(serial, {}).values(), key=_serial_of)


_serial_of = attrgetter("serial")


def _unindex(index: dict, key: Any, serial: int) -> None:
    found = index.get(key)
    if found is not None:
        found.pop(serial, None)
        if not found:
            del index[key]
