"""The updown command: pluto(8)'s hook for routing and firewalling around a Child SA.

pluto runs the connection's ``leftupdown`` (whack ``--updown``) command through ``/bin/sh -c``
with ``PLUTO_VERB`` saying what happened (``prepare``, ``route``, ``up``, ``down``,
``unroute``, with ``-host`` or ``-client`` and ``-v6`` for IPv6) and the ``PLUTO_*``
variables describing the connection. Its output is logged; a non-zero exit status is a
failure the caller acts on (a Child SA whose ``up`` fails is not brought up).

Without a configured command, the kernel back end runs :data:`DEFAULT_UPDOWN`, which adds
the route to the peer's client subnet on ``route-client`` and removes it on
``unroute-client``.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import socket
import struct
import subprocess
from dataclasses import dataclass

from pluto.kernel.ops import IPAddress, IPNetwork

# Interface version of the PLUTO_* variables (the one FreeS/WAN's and libreswan's scripts check).
PLUTO_VERSION = "2.0"
VERBS = ("prepare", "route", "up", "down", "unroute")
TIMEOUT = 30.0  # seconds: a hung script must not hang pluto for ever

DEFAULT_UPDOWN = """\
# pluto's built-in updown: keep a route to the peer's client subnet while routed. Through
# the next hop when the peer is behind a gateway, on the interface when it is on the link.
if [ "$PLUTO_NEXT_HOP" = "$PLUTO_PEER" ] && [ -n "$PLUTO_INTERFACE" ]; then
    set -- dev "$PLUTO_INTERFACE"
else
    set -- via "$PLUTO_NEXT_HOP"
fi
case "$PLUTO_VERB" in
route-client|route-client-v6)
    ip route replace "$PLUTO_PEER_CLIENT" "$@" ;;
unroute-client|unroute-client-v6)
    ip route del "$PLUTO_PEER_CLIENT" "$@" 2>/dev/null || : ;;
esac
"""


@dataclass(frozen=True)
class UpdownContext:
    """What the PLUTO_* variables describe."""

    connection: str
    me: IPAddress
    peer: IPAddress
    my_client: IPNetwork
    peer_client: IPNetwork
    next_hop: IPAddress
    my_id: str = ""
    peer_id: str = ""
    peer_ca: str = ""
    my_protocol: int = 0
    peer_protocol: int = 0
    my_port: int = 0
    peer_port: int = 0
    interface: str = ""
    reqid: int = 0

    @property
    def host_to_host(self) -> bool:
        """-host verbs: the peer protects only its own address."""
        return self.peer_client.num_addresses == 1 and self.peer in self.peer_client


def verb(base: str, ctx: UpdownContext) -> str:
    """``up-client``, ``route-host-v6``...: the base verb for this connection's shape."""
    if base not in VERBS:
        raise ValueError(f"unknown updown verb {base!r}")
    suffix = "-host" if ctx.host_to_host else "-client"
    if ctx.peer_client.version == 6:
        suffix += "-v6"
    return base + suffix


def environment(full_verb: str, ctx: UpdownContext) -> dict[str, str]:
    """The PLUTO_* variables for one run of the command."""
    return {
        "PLUTO_VERSION": PLUTO_VERSION,
        "PLUTO_VERB": full_verb,
        "PLUTO_CONNECTION": ctx.connection,
        "PLUTO_NEXT_HOP": str(ctx.next_hop),
        "PLUTO_INTERFACE": ctx.interface,
        "PLUTO_REQID": str(ctx.reqid),
        "PLUTO_ME": str(ctx.me),
        "PLUTO_MY_ID": ctx.my_id,
        "PLUTO_MY_CLIENT": str(ctx.my_client),
        "PLUTO_MY_CLIENT_NET": str(ctx.my_client.network_address),
        "PLUTO_MY_CLIENT_MASK": str(ctx.my_client.netmask),
        "PLUTO_MY_PORT": str(ctx.my_port),
        "PLUTO_MY_PROTOCOL": str(ctx.my_protocol),
        "PLUTO_PEER": str(ctx.peer),
        "PLUTO_PEER_ID": ctx.peer_id,
        "PLUTO_PEER_CLIENT": str(ctx.peer_client),
        "PLUTO_PEER_CLIENT_NET": str(ctx.peer_client.network_address),
        "PLUTO_PEER_CLIENT_MASK": str(ctx.peer_client.netmask),
        "PLUTO_PEER_PORT": str(ctx.peer_port),
        "PLUTO_PEER_PROTOCOL": str(ctx.peer_protocol),
        "PLUTO_PEER_CA": ctx.peer_ca,
    }


@dataclass(frozen=True)
class UpdownResult:
    verb: str
    returncode: int | None  # None: it could not be started or timed out
    output: list[str]
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run(command: str, full_verb: str, ctx: UpdownContext,
        timeout: float = TIMEOUT) -> UpdownResult:
    """Run ``command`` with the variables for ``full_verb``; stdout and stderr together."""
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
    env.update(environment(full_verb, ctx))
    try:
        done = subprocess.run(["/bin/sh", "-c", command], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as err:
        output = (err.stdout or b"").decode(errors="replace").splitlines()
        return UpdownResult(full_verb, None, output, f"timed out after {timeout:g}s")
    except OSError as err:
        return UpdownResult(full_verb, None, [], str(err))
    return UpdownResult(full_verb, done.returncode,
                        done.stdout.decode(errors="replace").splitlines())


_SIOCGIFADDR = 0x8915


def interface_of(address: IPAddress) -> str:
    """The name of the interface that has ``address``, or "" when none has it."""
    if address.version == 6:
        return _interface_of_v6(address)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _index, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            try:
                answer = fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, request)
            except OSError:
                continue  # no IPv4 address on it
            if ipaddress.IPv4Address(answer[20:24]) == address:
                return name
    return ""


def _interface_of_v6(address: IPAddress) -> str:
    try:
        with open("/proc/net/if_inet6") as table:
            for line in table:
                fields = line.split()
                if len(fields) >= 6 and ipaddress.IPv6Address(int(fields[0], 16)) == address:
                    return fields[5]
    except OSError:
        pass
    return ""


@dataclass(frozen=True)
class RouteToPeer:
    """What ``ip route get PEER`` says: the gateway (None when the peer is on the link) and
    the interface the kernel would send through."""

    gateway: IPAddress | None
    interface: str


def parse_route_get(text: str) -> RouteToPeer | None:
    """``198.51.100.23 via 203.0.113.254 dev eth0 src ...`` -> gateway and device; None
    when the text is not a route (an error, an unreachable destination)."""
    words = text.split()
    values = {key: words[i + 1] for i, key in enumerate(words[:-1]) if key in ("via", "dev")}
    if "dev" not in values:
        return None
    via = values.get("via")
    try:
        gateway = ipaddress.ip_address(via) if via is not None else None
    except ValueError:  # "via inet6 fe80::1" and other forms we do not route through
        gateway = None
    return RouteToPeer(gateway, values["dev"])


def route_to(peer: IPAddress, timeout: float = 5.0) -> RouteToPeer | None:
    """The route the kernel would use to reach ``peer`` (libreswan's %defaultroute next
    hop), or None when ``ip`` cannot tell."""
    try:
        done = subprocess.run(["ip", "-o", "route", "get", str(peer)], env={
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return parse_route_get(done.stdout.decode(errors="replace"))
