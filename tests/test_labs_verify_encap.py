"""labs.verify's ``esp --show-encap``: ESP in UDP (RFC 3948) is shown with the UDP ports as
captured, so NAT scenarios show nic's port rewriting; plain ESP lines stay as they were.

The packets are encrypted by scapy's own SecurityAssociation, independently of labs.verify."""

import scapy.layers.ipsec  # noqa: F401  (binds ESP to IP and to UDP 4500 before parsing)
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.ipsec import ESP, SecurityAssociation

from labs.verify import XfrmState, decrypt_esp

KEY = bytes(range(16)) + b"salt"  # AES-GCM-128 key and its 4-byte salt, as ip xfrm prints
NIC, EAST = "198.51.100.254", "198.51.100.23"


def _sa_state(spi: int, src: str, dst: str, encap: tuple[int, int] | None) -> XfrmState:
    return XfrmState(src, dst, "esp", spi, 1, "tunnel", aead=("rfc4106(gcm(aes))", KEY, 128),
                     encap=("espinudp", *encap) if encap else None)


def _encrypt(state: XfrmState) -> IP:
    kwargs = {"tunnel_header": IP(src=state.src, dst=state.dst)}
    if state.encap:
        kwargs["nat_t_header"] = UDP(sport=state.encap[1], dport=state.encap[2])
    sa = SecurityAssociation(ESP, spi=state.spi, crypt_algo="AES-GCM", crypt_key=KEY,
                             auth_algo="NULL", **kwargs)
    inner = IP(src="203.0.113.209", dst="198.18.2.254") / ICMP(type=8)
    return IP(bytes(sa.encrypt(inner)))  # as read back from a capture


def test_esp_in_udp_shows_the_captured_ports():
    # east's answer goes to the port nic chose for road's 4500 (masquerade with port rewriting)
    inbound = _sa_state(0xC0010001, NIC, EAST, (20123, 4500))
    outbound = _sa_state(0xC0010002, EAST, NIC, (4500, 20123))
    states = [inbound, outbound]
    # fresh packets for each call: scapy's decryption takes the packet apart
    assert decrypt_esp([_encrypt(s) for s in states], states, show_encap=True) == [
        f"{NIC}:20123 > {EAST}:4500 esp-in-udp spi=0xc0010001 seq=1: "
        "203.0.113.209 > 198.18.2.254 ICMP echo-request",
        f"{EAST}:4500 > {NIC}:20123 esp-in-udp spi=0xc0010002 seq=1: "
        "203.0.113.209 > 198.18.2.254 ICMP echo-request"]
    # without the option: the lines every other scenario's golden transcript has
    assert decrypt_esp([_encrypt(s) for s in states], states) == [
        f"{NIC} > {EAST} esp spi=0xc0010001 seq=1: 203.0.113.209 > 198.18.2.254 ICMP echo-request",
        f"{EAST} > {NIC} esp spi=0xc0010002 seq=1: 203.0.113.209 > 198.18.2.254 ICMP echo-request"]


def test_plain_esp_is_not_shown_as_encapsulated():
    plain = _sa_state(0xC0010003, NIC, EAST, None)
    assert decrypt_esp([_encrypt(plain)], [plain], show_encap=True) == [
        f"{NIC} > {EAST} esp spi=0xc0010003 seq=1: 203.0.113.209 > 198.18.2.254 ICMP echo-request"]
