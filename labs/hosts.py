"""The lab's hosts, LANs and addresses: DESIGN.md §10 as data.

Only documentation and benchmarking ranges (198.51.100.0/24, 203.0.113.0/24, 198.18.0.0/15,
2001:db8::/32). Two LANs, as in libreswan's test network: west, east and nic share the
"east-west" LAN; nic, road and north share the "road-north" LAN. nic routes between them and
may NAT what comes from road-north.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Attachment:
    """One interface of a host on a LAN."""

    lan: str
    ifname: str
    addresses: tuple[str, ...]  # with prefix length


@dataclass(frozen=True)
class HostSpec:
    name: str
    attachments: tuple[Attachment, ...]
    client: tuple[str, ...] = ()  # the inside (client subnet) addresses, on interface eth0
    gateway: str | None = None  # IPv4 default route
    router: bool = False  # forwards between its LANs (nic)

    def outside(self, version: int = 4) -> str:
        """The first outside address of that IP version, without prefix length."""
        for attachment in self.attachments:
            for address in attachment.addresses:
                if (":" in address) == (version == 6):
                    return address.split("/")[0]
        raise KeyError(f"{self.name} has no IPv{version} outside address")


@dataclass(frozen=True)
class LanSpec:
    name: str
    networks: tuple[str, ...]
    bridge: str  # the bridge's name inside the LAN namespace (at most 15 characters)


LANS: dict[str, LanSpec] = {
    "east-west": LanSpec("east-west", ("198.51.100.0/24", "2001:db8:1:2::/64"), "br-eastwest"),
    "road-north": LanSpec("road-north", ("203.0.113.0/24", "2001:db8:1:3::/64"), "br-roadnorth"),
}

HOSTS: dict[str, HostSpec] = {
    "west": HostSpec(
        "west",
        (Attachment("east-west", "eth1", ("198.51.100.45/24", "2001:db8:1:2::45/64")),),
        client=("198.18.1.254/24", "2001:db8:0:1::254/64"), gateway="198.51.100.254"),
    "east": HostSpec(
        "east",
        (Attachment("east-west", "eth1", ("198.51.100.23/24", "2001:db8:1:2::23/64")),),
        client=("198.18.2.254/24", "2001:db8:0:2::254/64"), gateway="198.51.100.254"),
    "nic": HostSpec(
        "nic",
        (Attachment("east-west", "eth1", ("198.51.100.254/24",)),
         Attachment("road-north", "eth2", ("203.0.113.254/24",))),
        router=True),
    "road": HostSpec(
        "road",
        (Attachment("road-north", "eth1", ("203.0.113.209/24", "2001:db8:1:3::209/64")),),
        gateway="203.0.113.254"),
    "north": HostSpec(
        "north",
        (Attachment("road-north", "eth1", ("203.0.113.33/24",)),),
        client=("198.18.3.254/24",), gateway="203.0.113.254"),
}

# nic's NAT modes: none, masquerade (addresses only), masquerade-ports (ports rewritten
# into this range too, the harder case for NAT-T).
NAT_MODES = ("none", "masquerade", "masquerade-ports")
NAT_PORTS = "20000-20999"
