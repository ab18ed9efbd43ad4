"""The UDP sockets of pluto: one per listened address on the IKE port and on the NAT-T port.

Each socket is bound to one address, so a reply leaves from the address the request came to,
and the core names a socket by its local endpoint. :class:`IkeSockets` is also the core's
:class:`~pluto.engine.host.Transport`.

On the NAT-T port IKE and ESP-in-UDP share the socket (RFC 3948 §2.2): an IKE message is
preceded by the 4-byte non-ESP marker (zero), which is stripped on receive and added on send.
Anything without it is ESP (the kernel's business once its back end decapsulates) or a NAT
keepalive (one 0xff byte, §2.3) and is dropped here.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable

from pluto.engine.host import Endpoint, IPAddress, format_endpoint
from pluto.kernel.socket_bypass import bypass_ipsec
from pluto.log import Logger, null_logger

NON_ESP_MARKER = b"\x00\x00\x00\x00"
NAT_KEEPALIVE = b"\xff"
# linux/udp.h: a NAT-T socket asks the kernel to take ESP-in-UDP (RFC 3948) off it and
# decapsulate it; IKE messages (with the non-ESP marker) still reach the socket.
UDP_ENCAP = 100
UDP_ENCAP_ESPINUDP = 2

Deliver = Callable[[bytes, Endpoint, Endpoint], None]  # data, local, remote


class ListenError(Exception):
    """A socket that cannot be opened; the message names the endpoint."""


def strip_non_esp_marker(data: bytes) -> bytes | None:
    """The IKE message in a datagram received on the NAT-T port, or None if it is not IKE."""
    if len(data) <= len(NON_ESP_MARKER) or not data.startswith(NON_ESP_MARKER):
        return None
    return data[len(NON_ESP_MARKER):]


def _remote_endpoint(addr: tuple) -> Endpoint | None:
    host = addr[0]
    if "%" in host:  # a scoped (link-local) IPv6 peer: not something we listen for
        return None
    try:
        return (ipaddress.ip_address(host), int(addr[1]))
    except ValueError:
        return None


class _SocketProtocol(asyncio.DatagramProtocol):
    def __init__(self, owner: IkeSockets, local: Endpoint, nat: bool) -> None:
        self.owner = owner
        self.local = local
        self.nat = nat
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        self.owner.received(self, data, addr)

    def error_received(self, exc: Exception) -> None:
        # Mostly ICMP port unreachable for something we sent; the core's retransmit and
        # timeout logic deals with the silence, so it is only worth a debug line.
        self.owner.logger.debug("base", f"{format_endpoint(self.local)}: {exc}")


class IkeSockets:
    """The set of UDP sockets; ``deliver`` receives each IKE message (marker stripped)."""

    def __init__(self, logger: Logger | None = None, deliver: Deliver | None = None) -> None:
        self.logger = logger or null_logger()
        self.deliver = deliver
        self._sockets: dict[Endpoint, _SocketProtocol] = {}

    # --- opening and closing ------------------------------------------------------------

    async def open(self, address: IPAddress, port: int, *, nat: bool = False) -> Endpoint:
        """Bind a socket to address:port (port 0: any free one); returns the bound endpoint."""
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        wanted = format_endpoint((address, port))
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            if family == socket.AF_INET6:
                # Keep IPv6 sockets to IPv6: the IPv4 addresses get sockets of their own.
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.setblocking(False)
            sock.bind((str(address), port))
        except OSError as err:
            sock.close()
            raise ListenError(f"cannot listen on {wanted}: {err.strerror or err}") from None
        try:
            bypass_ipsec(sock)  # IKE never goes through IPsec, even host to host
        except OSError as err:  # no XFRM, or not root: fine for --noklips
            self.logger.debug("kernel", f"{wanted}: no per-socket IPsec bypass "
                                        f"({err.strerror or err})")
        if nat:
            try:
                sock.setsockopt(socket.IPPROTO_UDP, UDP_ENCAP, UDP_ENCAP_ESPINUDP)
            except OSError as err:  # no XFRM in this kernel: IKE still works, ESP-in-UDP not
                self.logger.log(f"{wanted}: kernel refused UDP_ENCAP_ESPINUDP "
                                f"({err.strerror or err}); ESP in UDP will not be decapsulated")
        local = (address, sock.getsockname()[1])
        loop = asyncio.get_running_loop()
        _transport, protocol = await loop.create_datagram_endpoint(
            lambda: _SocketProtocol(self, local, nat), sock=sock)
        self._sockets[local] = protocol
        kind = "NAT-T " if nat else ""
        self.logger.log(f"adding {kind}UDP interface {format_endpoint(local)}")
        return local

    def close(self) -> None:
        for protocol in self._sockets.values():
            if protocol.transport is not None:
                protocol.transport.close()
        self._sockets.clear()

    def pending_bytes(self) -> int:
        """Bytes accepted by send() that the kernel has not taken yet."""
        return sum(p.transport.get_write_buffer_size() for p in self._sockets.values()
                   if p.transport is not None and not p.transport.is_closing())

    def endpoints(self, *, nat: bool | None = None) -> list[Endpoint]:
        """The bound endpoints (only IKE ones with nat=False, only NAT-T ones with nat=True)."""
        return [local for local, p in self._sockets.items() if nat is None or p.nat == nat]

    # --- the Transport the core sends with ----------------------------------------------

    def send(self, data: bytes, local: Endpoint, remote: Endpoint) -> None:
        protocol = self._sockets.get(local)
        if protocol is None or protocol.transport is None or protocol.transport.is_closing():
            self.logger.log(f"cannot send {len(data)} bytes to {format_endpoint(remote)}: "
                            f"not listening on {format_endpoint(local)}")
            return
        if remote[0].version != local[0].version:
            self.logger.log(f"cannot send from {format_endpoint(local)} to "
                            f"{format_endpoint(remote)}: address families differ")
            return
        if protocol.nat:
            data = NON_ESP_MARKER + data
        protocol.transport.sendto(data, (str(remote[0]), remote[1]))

    def send_keepalive(self, local: Endpoint, remote: Endpoint) -> None:
        """A NAT-T keepalive (RFC 3948 §2.3): one 0xFF byte, no non-ESP marker."""
        protocol = self._sockets.get(local)
        if protocol is None or protocol.transport is None or protocol.transport.is_closing():
            self.logger.debug("nattraversal", f"no socket on {format_endpoint(local)} for a "
                                              "keepalive")
            return
        protocol.transport.sendto(NAT_KEEPALIVE, (str(remote[0]), remote[1]))

    # --- receiving ----------------------------------------------------------------------

    def received(self, protocol: _SocketProtocol, data: bytes, addr) -> None:
        remote = _remote_endpoint(addr)
        if remote is None:
            return
        if protocol.nat:
            message = strip_non_esp_marker(data)
            if message is None:
                what = "NAT keepalive" if data == NAT_KEEPALIVE else "non-IKE packet (ESP?)"
                self.logger.debug("nattraversal", f"dropping {what} of {len(data)} bytes from "
                                                  f"{format_endpoint(remote)}")
                return
            data = message
        if self.deliver is not None:
            self.deliver(data, protocol.local, remote)

