"""KernelOps: the small interface between the protocol core and the kernel's IPsec stack.

Back ends: ``nostack`` (``--noklips``: SAs recorded in memory, for tests and for running
pluto without root) and ``xfrm`` (netlink, issue 5). The core calls these synchronously; a
failure raises :class:`KernelError` naming the operation and the errno, and the core then
tells the peer and leaves nothing half installed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Protocol

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# The manual: SPIs 0-0xFF are reserved, 0x100-0xFFF are left for manual keying.
MIN_AUTO_SPI = 0x1000


class KernelError(Exception):
    def __init__(self, operation: str, errno: int, text: str) -> None:
        super().__init__(f"{operation} failed: {text} (errno {errno})")
        self.operation = operation
        self.errno = errno


@dataclass(frozen=True)
class SaId:
    dst: IPAddress
    spi: int
    proto: str = "esp"  # esp, ah, comp


@dataclass(frozen=True)
class SaSpec:
    """One direction of a Child SA."""

    id: SaId
    src: IPAddress
    mode: str  # tunnel or transport
    src_selector: IPNetwork
    dst_selector: IPNetwork
    encrypt: str | None  # registry name (e.g. AES_GCM_16), None for AH
    encrypt_key: bytes  # includes the salt for GCM/CTR/ChaCha20
    encrypt_key_bits: int
    integ: str | None  # registry name, None for AEAD
    integ_key: bytes
    reqid: int
    replay_window: int = 32
    lifetime_seconds: float = 0.0  # hard limit; 0: none
    soft_lifetime_seconds: float = 0.0
    # byte and packet limits (0: none); the kernel sends a soft, then a hard EXPIRE
    lifetime_bytes: int = 0
    soft_lifetime_bytes: int = 0
    lifetime_packets: int = 0
    soft_lifetime_packets: int = 0
    encap_sport: int | None = None  # NAT-T ESPINUDP ports
    encap_dport: int | None = None
    esn: bool = False


@dataclass(frozen=True)
class PolicySpec:
    direction: str  # in, out, fwd
    src_selector: IPNetwork
    dst_selector: IPNetwork
    tunnel_src: IPAddress
    tunnel_dst: IPAddress
    mode: str
    proto: str
    reqid: int
    priority: int = 0


@dataclass(frozen=True)
class SaCounters:
    bytes: int = 0
    packets: int = 0
    add_time: float = 0.0  # wall-clock seconds since the epoch
    use_time: float | None = None


class KernelOps(Protocol):
    name: str

    def allocate_spi(self, proto: str, src: IPAddress, dst: IPAddress) -> int:
        """A fresh inbound SPI >= MIN_AUTO_SPI for an SA from ``src`` to ``dst`` (us)."""

    def add_sa(self, sa: SaSpec) -> None: ...

    def delete_sa(self, sa: SaId) -> None: ...

    def update_sa(self, sa: SaSpec) -> None:
        """Change an installed SA in place (its NAT-T encapsulation ports after the peer's
        NAT mapping moved), keeping its keys, sequence numbers and replay window."""

    def add_policy(self, policy: PolicySpec, update: bool = False) -> None:
        """``update``: replace the template of the policy with these selectors (a trap
        policy becoming a Child SA's, and back)."""

    def delete_policy(self, policy: PolicySpec) -> None: ...

    def sa_counters(self, sa: SaId) -> SaCounters: ...
