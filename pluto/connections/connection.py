"""The connection model: what one connection description says, once checked.

A connection has two ends, ``left`` and ``right``, as written. Orientation decides which end is
ours (``this``) and which the peer's (``that``): the end whose host address is one of ours. A
connection whose peer host is ``%any`` is a template; a peer that matches it gets an instance,
a copy with the peer's address filled in, named ``"conn"[N] ADDR`` in logs.

whack's connection form and ipsec.conf (issue 4) both build this model through
:mod:`pluto.connections.builder`, so the two descriptions of one connection are identical.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field, replace

from pluto.connections.ids import Identity
from pluto.connections.virtual_private import VirtualSubnet
from pluto.connections.xauth_modecfg import XauthModecfg

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class AuthBy(enum.Enum):
    PSK = "psk"
    RSASIG = "rsasig"


SHUNTS = ("passthrough", "drop", "reject")  # type= values that are kernel policies, not SAs
AUTO = ("ignore", "add", "route", "start")  # auto= values (ondemand is route, up is start)
DPD_ACTIONS = ("hold", "clear", "restart")


class Kind(enum.Enum):
    PERMANENT = "permanent"  # both hosts known
    TEMPLATE = "template"  # the peer is %any: instantiated per peer
    INSTANCE = "instance"  # a template's copy for one peer


@dataclass(frozen=True)
class End:
    """One end of a connection as configured."""

    host: IPAddress | None  # None: %any
    id: Identity | None = None  # None: the host address is the ID
    ikeport: int = 500
    nexthop: IPAddress | None = None
    client: IPNetwork | None = None  # None: just the host (host-to-host)
    updown: str | None = None
    # Issue 4 (ipsec.conf). Stored so the model says everything the configuration said; the
    # builder refuses the ones the daemon cannot act on yet.
    sourceip: IPAddress | None = None  # leftsourceip: the kernel part is issue 5
    protoport: tuple[int, int] | None = None  # leftprotoport (protocol, port); None: all
    cert: str | None = None  # leftcert: a nickname in the certificate store (pluto/certs)
    ca: str | None = None  # leftca: a CA's DN, or %same (the other end's); None: any CA
    sendcert: str = "sendifasked"  # leftsendcert: always, sendifasked or never
    rsasigkey: str | None = None  # leftrsasigkey, as written
    auth: str | None = None  # leftauth; None: as the connection's authby
    nexthop_default_route: bool = False  # leftnexthop=%defaultroute (resolved by issue 5)
    # IKEv1 XAUTH / Mode Config roles (leftxauthserver=, rightaddresspool=, ...)
    v1cfg: XauthModecfg = field(default_factory=XauthModecfg)
    # rightsubnet=vhost:%priv / vnet:...: the client the peer may claim (its address behind a
    # NAT), accepted by the responder's narrowing; an instance's client is its accepted claim.
    virtual: VirtualSubnet | None = None

    @property
    def host_is_any(self) -> bool:
        return self.host is None

    def identity(self) -> Identity | None:
        """The ID this end uses: the configured one, else its address (None for %any)."""
        if self.id is not None:
            return self.id
        return None if self.host is None else Identity.from_address(self.host)

    def selector(self) -> IPNetwork | None:
        """The traffic this end protects: its client subnet, else its host address alone."""
        if self.client is not None:
            return self.client
        return None if self.host is None else ipaddress.ip_network(self.host)


@dataclass(frozen=True)
class Lifetimes:
    """Seconds; defaults are pluto(8)'s (IKE SA 1 h, IPsec SA 8 h, margin 9 min, fuzz 100%)."""

    ike: float = 3600.0
    ipsec: float = 28800.0
    rekeymargin: float = 540.0
    rekeyfuzz: float = 100.0  # percent
    keyingtries: int = 0  # 0: keep trying forever
    rekey: bool = True
    # ipsec-max-bytes= / ipsec-max-packets=: a Child SA's hard limits (0: none); the soft
    # limits come from pluto/kernel/volume_limits.py
    ipsec_max_bytes: int = 0
    ipsec_max_packets: int = 0


@dataclass(frozen=True)
class Policy:
    auth: AuthBy = AuthBy.PSK
    encrypt: bool = True
    authenticate: bool = False  # AH
    tunnel: bool = True
    pfs: bool = True
    compress: bool = False
    disablearrivalcheck: bool = False
    ikev2: bool = True
    aggressive: bool = False  # IKEv1 Aggressive Mode instead of Main Mode (aggressive=yes)


@dataclass(frozen=True)
class Dpd:
    """Dead peer detection (IKEv2 liveness): dpddelay, dpdtimeout, dpdaction."""

    delay: float  # seconds between checks
    timeout: float | None = None  # ipsec.conf(5): ignored by IKEv2, which uses retransmits
    action: str = "hold"


@dataclass
class Connection:
    name: str
    left: End
    right: End
    policy: Policy = field(default_factory=Policy)
    lifetimes: Lifetimes = field(default_factory=Lifetimes)
    ike: str | None = None  # proposal strings as written; None: the defaults
    esp: str | None = None
    this_is_left: bool | None = None  # set by orientation
    kind: Kind = Kind.PERMANENT
    instance_number: int = 0  # N of "conn"[N]
    template: Connection | None = None  # for instances
    # Issue 4 (ipsec.conf); whack's connection form leaves them at their defaults.
    shunt: str | None = None  # type=passthrough|drop|reject (one of SHUNTS); None: IPsec
    dpd: Dpd | None = None  # None: no dead peer detection
    encapsulation: str = "auto"  # UDP encapsulation of ESP: auto, yes (forced), no
    narrowing: bool | None = None  # narrowing=yes|no; None: not said
    auto: str | None = None  # what pluto --config does at start-up (one of AUTO)
    modecfgpull: bool = False  # IKEv1 Mode Config: the client asks (else the server pushes)
    # Run-time, not configuration: meant to be up (whack --initiate / auto=start, not since
    # --terminate'd), and the revival back-off (pluto/engine/revival.py).
    up: bool = field(default=False, compare=False)
    revival: object | None = field(default=None, compare=False, repr=False)

    @property
    def oriented(self) -> bool:
        return self.this_is_left is not None

    @property
    def this(self) -> End:
        if self.this_is_left is None:
            raise ValueError(f'connection "{self.name}" is not oriented')
        return self.left if self.this_is_left else self.right

    @property
    def that(self) -> End:
        if self.this_is_left is None:
            raise ValueError(f'connection "{self.name}" is not oriented')
        return self.right if self.this_is_left else self.left

    @property
    def label(self) -> str:
        """How logs name it: ``"conn"`` or ``"conn"[1] 203.0.113.209`` for an instance."""
        if self.kind is Kind.INSTANCE:
            return f'"{self.name}"[{self.instance_number}] {self.that.host}'
        return f'"{self.name}"'

    def instantiate(self, number: int, peer: IPAddress, peer_port: int | None = None
                    ) -> Connection:
        """An instance of this template for the peer at ``peer``."""
        if self.kind is not Kind.TEMPLATE:
            raise ValueError(f'connection "{self.name}" is not a template')
        that = replace(self.that, host=peer, ikeport=peer_port or self.that.ikeport)
        left, right = (self.left, that) if self.this_is_left else (that, self.right)
        return replace(self, left=left, right=right, kind=Kind.INSTANCE,
                       instance_number=number, template=self)
