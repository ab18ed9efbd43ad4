"""NAT detection hashes (RFC 7296 §2.23).

    NAT_DETECTION_*_IP data = SHA-1(SPIi | SPIr | IP address | port)

with the IKE SPIs as in the header (SPIr all zeros in the IKE_SA_INIT request), the address
in network order (4 or 16 octets) and the port as two octets. The source hash describes the
sender's address and port, the destination hash the receiver's. A receiver finding no source
hash that matches the packet's source knows the peer is behind a NAT; a destination hash that
does not match its own address means it is behind one itself.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

from pluto.crypto.constant_time import bytes_equal
from pluto.packet.ikev2_payloads import NotifyPayload
from pluto.packet.ikev2_types import NotifyType

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Endpoint = tuple[IPAddress, int]


def natd_hash(spi_i: bytes, spi_r: bytes, address: IPAddress | str, port: int) -> bytes:
    """SHA-1(SPIi | SPIr | address | port): 20 bytes."""
    if len(spi_i) != 8 or len(spi_r) != 8:
        raise ValueError("IKE SPIs are 8 bytes")
    if isinstance(address, str):
        address = ipaddress.ip_address(address)
    # hashlib (OpenSSL's SHA-1 too) costs a third of a cryptography Hash for 30 bytes.
    return hashlib.sha1(spi_i + spi_r + address.packed + port.to_bytes(2, "big")).digest()


def natd_notifies(spi_i: bytes, spi_r: bytes, local: Endpoint, remote: Endpoint
                  ) -> list[NotifyPayload]:
    """NAT_DETECTION_SOURCE_IP (our end) then NAT_DETECTION_DESTINATION_IP (the peer's)."""
    return [
        NotifyPayload(NotifyType.NAT_DETECTION_SOURCE_IP, natd_hash(spi_i, spi_r, *local)),
        NotifyPayload(NotifyType.NAT_DETECTION_DESTINATION_IP, natd_hash(spi_i, spi_r, *remote)),
    ]


@dataclass(frozen=True)
class NatDetection:
    """What the peer's NAT_DETECTION notifies say about the path."""

    us_behind_nat: bool
    peer_behind_nat: bool

    @property
    def nat(self) -> bool:
        return self.us_behind_nat or self.peer_behind_nat


def detect_nat(notifies: list[NotifyPayload], spi_i: bytes, spi_r: bytes, local: Endpoint,
               remote: Endpoint) -> NatDetection | None:
    """Compare the peer's hashes with the addresses the packet really had.

    ``local``/``remote`` are the packet's destination (us) and source (the peer). Returns None
    when the peer sent no NAT detection notifies (it does not do NAT traversal).
    """
    sources = [n.data for n in notifies if n.notify_type == NotifyType.NAT_DETECTION_SOURCE_IP]
    targets = [n.data for n in notifies
               if n.notify_type == NotifyType.NAT_DETECTION_DESTINATION_IP]
    if not sources and not targets:
        return None
    peer = natd_hash(spi_i, spi_r, *remote)
    us = natd_hash(spi_i, spi_r, *local)
    # Several source hashes are allowed (a multi-homed sender); any match will do.
    peer_ok = any(bytes_equal(peer, data) for data in sources)
    us_ok = any(bytes_equal(us, data) for data in targets)
    return NatDetection(us_behind_nat=not us_ok, peer_behind_nat=not peer_ok)
