"""The UDP sockets: per-address binding, the NAT-T non-ESP marker, IPv6, address discovery."""

import asyncio
import ipaddress
import json
import os
import shutil
import socket
import subprocess

import pytest

from pluto.log import CollectingLogger, DebugFlags
from pluto.server import udp
from pluto.server.interfaces import (
    InterfaceError,
    host_addresses,
    listen_addresses,
    order_addresses,
    usable,
)
from pluto.server.udp import IkeSockets, ListenError, strip_non_esp_marker

V4 = ipaddress.ip_address("127.0.0.1")
V6 = ipaddress.ip_address("::1")
IKE_HEADER = bytes(range(28))  # what the core sees: an IKE message starts with SPIi


def ip(text):
    return ipaddress.ip_address(text)


@pytest.mark.parametrize("datagram, message", [
    (b"\x00\x00\x00\x00" + IKE_HEADER, IKE_HEADER),
    (b"\xff", None),  # NAT keepalive (RFC 3948 §2.3)
    (b"\x12\x34\x56\x78" + IKE_HEADER, None),  # ESP: SPI first, never zero
    (b"\x00\x00\x00\x00", None),  # a marker and nothing else
    (b"", None),
])
def test_non_esp_marker(datagram, message):
    assert strip_non_esp_marker(datagram) == message


class Peer:
    """A plain socket playing the IKE peer."""

    def __init__(self, address):
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((str(address), 0))
        self.sock.setblocking(False)
        self.endpoint = (address, self.sock.getsockname()[1])

    def send(self, data, to):
        self.sock.sendto(data, (str(to[0]), to[1]))

    async def receive(self):
        loop = asyncio.get_running_loop()
        data, _ = await asyncio.wait_for(loop.sock_recvfrom(self.sock, 2048), 2)
        return data

    def close(self):
        self.sock.close()


def run(body):
    logger = CollectingLogger(DebugFlags(["nattraversal"]))
    received = []

    async def main():
        sockets = IkeSockets(logger, deliver=lambda *args: received.append(args))
        try:
            return await body(sockets, received)
        finally:
            sockets.close()

    return asyncio.run(main()), logger.lines


async def until(predicate):
    for _ in range(200):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("timed out")


@pytest.mark.parametrize("address", [V4, V6])
def test_ike_port_delivers_and_replies_from_the_same_endpoint(address):
    async def body(sockets, received):
        local = await sockets.open(address, 0)
        peer = Peer(address)
        peer.send(IKE_HEADER, local)
        await until(lambda: received)
        sockets.send(b"reply", local, peer.endpoint)
        answer = await peer.receive()
        peer.close()
        return local, peer.endpoint, received, answer

    (local, remote, received, answer), log = run(body)
    assert local[0] == address and local[1] > 0
    assert received == [(IKE_HEADER, local, remote)]
    assert answer == b"reply"
    shown = f"[{address}]" if address.version == 6 else str(address)
    assert f"adding UDP interface {shown}:UDP/{local[1]}" in log


def test_nat_port_strips_and_adds_the_marker_and_drops_the_rest(monkeypatch):
    # Encapsulation type 0 leaves every datagram to us (as on a kernel that refuses
    # UDP_ENCAP_ESPINUDP), so that our own drops of keepalives and ESP are what is tested.
    monkeypatch.setattr(udp, "UDP_ENCAP_ESPINUDP", 0)

    async def body(sockets, received):
        ike = await sockets.open(V4, 0)
        nat = await sockets.open(V4, 0, nat=True)
        peer = Peer(V4)
        peer.send(b"\xff", nat)
        peer.send(b"\x12\x34\x56\x78esp payload", nat)
        peer.send(b"\x00\x00\x00\x00" + IKE_HEADER, nat)
        await until(lambda: received)
        sockets.send(IKE_HEADER, nat, peer.endpoint)
        on_nat = await peer.receive()
        sockets.send(IKE_HEADER, ike, peer.endpoint)
        on_ike = await peer.receive()
        peer.close()
        return ike, nat, peer.endpoint, received, on_nat, on_ike, sockets.endpoints(nat=True)

    (ike, nat, remote, received, on_nat, on_ike, nat_endpoints), log = run(body)
    assert received == [(IKE_HEADER, nat, remote)]
    assert on_nat == b"\x00\x00\x00\x00" + IKE_HEADER
    assert on_ike == IKE_HEADER  # no marker on the IKE port
    assert nat_endpoints == [nat]
    assert any("dropping NAT keepalive of 1 bytes" in line for line in log)
    assert any("dropping non-IKE packet (ESP?) of 15 bytes" in line for line in log)


def test_sending_from_an_endpoint_we_do_not_have_is_logged_not_raised():
    async def body(sockets, received):
        local = await sockets.open(V4, 0)
        sockets.send(b"x", (ip("192.0.2.99"), 500), (V4, 9))
        sockets.send(b"x", local, (ip("::1"), 500))
        return local

    local, log = run(body)
    assert "cannot send 1 bytes to 127.0.0.1:UDP/9: not listening on 192.0.2.99:UDP/500" in log
    assert (f"cannot send from 127.0.0.1:UDP/{local[1]} to [::1]:UDP/500: address families "
            "differ") in log


def test_a_port_in_use_is_a_clear_error():
    async def body(sockets, received):
        taken = await sockets.open(V4, 0)
        with pytest.raises(ListenError) as info:
            await sockets.open(V4, taken[1])
        return taken, str(info.value)

    (taken, message), _ = run(body)
    assert message.startswith(f"cannot listen on 127.0.0.1:UDP/{taken[1]}: ")
    assert "in use" in message


def test_an_address_not_on_this_host_is_a_clear_error():
    async def body(sockets, received):
        with pytest.raises(ListenError) as info:
            await sockets.open(ip("192.0.2.201"), 0)
        return str(info.value)

    message, _ = run(body)
    assert message.startswith("cannot listen on 192.0.2.201:UDP/0: ")


def test_usable_addresses_skip_link_local():
    assert usable(ip("198.51.100.1")) and usable(ip("2001:db8::1")) and usable(V6)
    assert not usable(ip("fe80::1")) and not usable(ip("169.254.1.1"))
    assert not usable(ip("0.0.0.0")) and not usable(ip("ff02::1"))


def test_order_puts_ipv4_first_without_duplicates():
    given = [ip("::1"), ip("10.0.0.1"), ip("::1"), ip("127.0.0.1")]
    assert order_addresses(given) == [ip("10.0.0.1"), ip("127.0.0.1"), ip("::1")]


def test_listen_addresses_prefer_what_the_command_line_says():
    assert listen_addresses([V6, V4], []) == [V4, V6]
    assert listen_addresses([V4], ["lo"]) == [V4, V6]
    with pytest.raises(InterfaceError, match="--interface nosuchif0: no such interface"):
        listen_addresses([], ["nosuchif0"])


def iproute2_addresses(interface=None):
    """The usable addresses as iproute2 (an independent reader of rtnetlink) sees them."""
    command = ["ip", "-j", "address", "show"] + ([] if interface is None else ["dev", interface])
    links = json.loads(subprocess.run(command, check=True, capture_output=True).stdout)
    found = {ip(info["local"]) for link in links for info in link.get("addr_info", [])}
    return {a for a in found if usable(a)}


@pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2's ip is not installed")
def test_host_addresses_agree_with_iproute2():
    assert set(host_addresses()) == iproute2_addresses()
    assert set(host_addresses("lo")) == iproute2_addresses("lo")
    assert V4 in host_addresses("lo")


def test_nat_socket_asks_for_esp_in_udp_and_sends_bare_keepalives():
    async def body(sockets, received):
        nat = await sockets.open(V4, 0, nat=True)
        protocol = sockets._sockets[nat]
        sock = protocol.transport.get_extra_info("socket")
        try:
            encap = sock.getsockopt(socket.IPPROTO_UDP, udp.UDP_ENCAP)
        except OSError:
            encap = None  # kernels without XFRM: the refusal is logged instead
        peer = Peer(V4)
        sockets.send_keepalive(nat, peer.endpoint)
        keepalive = await peer.receive()
        peer.close()
        return encap, keepalive

    (encap, keepalive), log = run(body)
    assert keepalive == b"\xff"  # RFC 3948: one 0xFF octet, no non-ESP marker
    assert encap == udp.UDP_ENCAP_ESPINUDP or any("UDP_ENCAP_ESPINUDP" in line for line in log)


def test_ike_sockets_bypass_ipsec(monkeypatch):
    from pluto.kernel import socket_bypass
    from pluto.kernel.xfrm_messages import XFRM_POLICY_OUT
    from pluto.kernel.xfrm_structs import UserpolicyInfo

    fields = UserpolicyInfo.unpack(socket_bypass.bypass_policy(XFRM_POLICY_OUT, socket.AF_INET))
    assert (fields["dir"], fields["action"], fields["sel"]["family"]) == (1, 0, socket.AF_INET)
    exempted = []
    real = socket_bypass.bypass_ipsec

    def recording(sock):
        real(sock)  # raises when the kernel refuses; IkeSockets then logs a debug line
        exempted.append(sock.getsockname())

    monkeypatch.setattr(udp, "bypass_ipsec", recording)

    async def body(sockets, received):
        return await sockets.open(V4, 0), await sockets.open(V4, 0, nat=True)

    (ike, nat), _log = run(body)
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # the kernel accepts it from root
        assert [port for _addr, port in exempted] == [ike[1], nat[1]]
