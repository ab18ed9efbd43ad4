"""Verification helpers: independent checks of what crossed the lab's links.

- IKE messages in a capture, dissected by scapy's IKEv2 layer (not by our codec);
- ESP in a capture, decrypted by scapy's ``SecurityAssociation`` with the keys read back from
  the kernel (``ip xfrm state``): an independent check of the keys pluto derived;
- ``ip xfrm state``/``policy`` parsed, with their counters;
- ICMP echoes seen in a capture; a UDP echo server and client between client addresses.

As a command, for scenario scripts (output is stable, so it goes into golden transcripts):

    python -m labs.verify ike PCAP            one line per IKE message
    python -m labs.verify ike --skip-retransmits PCAP   the same, each retransmission once
    python -m labs.verify esp PCAP            decrypt ESP with this namespace's SAs
    python -m labs.verify esp --known-only PCAP   the same, skipping SAs no longer there
    python -m labs.verify pings PCAP          the ICMP echoes seen
    python -m labs.verify xfrm                this namespace's SAs and policies, one line each
    python -m labs.verify udp-echo-server ADDR PORT COUNT [--timeout S]   answer COUNT
                                              datagrams, then exit (or after S idle seconds)
    python -m labs.verify udp-echo SRC DST PORT TEXT        send TEXT from SRC, print the echo
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

IKE_PORTS = (500, 4500)

# ip xfrm's algorithm names -> scapy's
SCAPY_CRYPT = {"cbc(aes)": "AES-CBC", "rfc3686(ctr(aes))": "AES-CTR",
               "rfc4106(gcm(aes))": "AES-GCM", "rfc7539esp(chacha20,poly1305)":
               "CHACHA20-POLY1305", "cbc(des3_ede)": "3DES", "ecb(cipher_null)": "NULL"}
SCAPY_AUTH = {("hmac(sha1)", 96): "HMAC-SHA1-96", ("hmac(sha256)", 128): "SHA2-256-128",
              ("hmac(sha384)", 192): "SHA2-384-192", ("hmac(sha512)", 256): "SHA2-512-256",
              ("hmac(md5)", 96): "HMAC-MD5-96"}


@dataclass
class XfrmState:
    src: str
    dst: str
    proto: str
    spi: int
    reqid: int
    mode: str
    enc: tuple[str, bytes] | None = None  # (name, key)
    auth: tuple[str, bytes, int] | None = None  # (name, key, truncation bits)
    aead: tuple[str, bytes, int] | None = None  # (name, key with salt, ICV bits)
    encap: tuple[str, int, int] | None = None  # (type, sport, dport)
    bytes: int = 0
    packets: int = 0

    def describe(self) -> str:
        algs = []
        if self.aead:
            algs.append(f"aead={self.aead[0]}/{(len(self.aead[1]) - 4) * 8}")
        if self.enc:
            algs.append(f"enc={self.enc[0]}/{len(self.enc[1]) * 8}")
        if self.auth:
            algs.append(f"auth={self.auth[0]}/{self.auth[2]}")
        encap = f" encap={self.encap[0]}" if self.encap else ""
        return (f"{self.proto} {self.mode} {self.src}->{self.dst} spi=0x{self.spi:08x} "
                f"reqid={self.reqid} {' '.join(algs)}{encap} packets={self.packets} "
                f"bytes={self.bytes}")


def parse_xfrm_states(text: str) -> list[XfrmState]:
    """Parse ``ip [-s] xfrm state`` output (keys included, as ip prints them)."""
    states = []
    for block in re.split(r"\n(?=src )", text.strip()):
        # ip -s adds the decimal SPI and the hex reqid: "spi 0x00000201(513) reqid 1(0x1)"
        head = re.match(r"src (\S+) dst (\S+)\s+proto (\w+) spi (0x[0-9a-f]+)(?:\(\d+\))? "
                        r"reqid (\d+)(?:\(0x[0-9a-f]+\))? mode (\w+)", block)
        if not head:
            continue
        state = XfrmState(head[1], head[2], head[3], int(head[4], 16), int(head[5]), head[6])
        # ip -s prints each key's length after it: "0x2020... (256 bits)"
        bits = r"(?: ?\(\d+ bits\))?"
        if m := re.search(r"\benc (\S+) 0x([0-9a-f]+)", block):
            state.enc = (m[1], bytes.fromhex(m[2]))
        if m := re.search(rf"\bauth-trunc (\S+) 0x([0-9a-f]+){bits} (\d+)", block):
            state.auth = (m[1], bytes.fromhex(m[2]), int(m[3]))
        if m := re.search(rf"\baead (\S+) 0x([0-9a-f]+){bits} (\d+)", block):
            state.aead = (m[1], bytes.fromhex(m[2]), int(m[3]))
        if m := re.search(r"encap type (\S+) sport (\d+) dport (\d+)", block):
            state.encap = (m[1], int(m[2]), int(m[3]))
        if m := re.search(r"lifetime current:\s*(\d+)\(bytes\), (\d+)\(packets\)", block):
            state.bytes, state.packets = int(m[1]), int(m[2])
        states.append(state)
    return states


def parse_xfrm_policies(text: str) -> list[str]:
    """``ip xfrm policy`` as one line per policy: "SRC -> DST dir DIR tmpl PROTO MODE A->B"."""
    lines = []
    for block in re.split(r"\n(?=src )", text.strip()):
        head = re.match(r"src (\S+) dst (\S+)\s*\n\s*dir (\w+)", block)
        if not head:
            continue
        # strongSwan pins the SPI in its outbound template: "proto esp spi 0x... reqid 1"
        tmpl = re.search(r"tmpl src (\S+) dst (\S+)\s+proto (\w+)(?: spi (0x[0-9a-f]+))? "
                         r"reqid (\d+) mode (\w+)", block)
        line = f"{head[1]} -> {head[2]} dir {head[3]}"
        if tmpl:
            spi = f" spi {tmpl[4]}" if tmpl[4] else ""
            line += f" tmpl {tmpl[3]} {tmpl[6]} {tmpl[1]}->{tmpl[2]}{spi} reqid {tmpl[5]}"
        lines.append(line)
    return lines


def kernel_states() -> list[XfrmState]:
    """The SAs of the current namespace, with keys and counters."""
    text = subprocess.run(["ip", "-s", "xfrm", "state"], capture_output=True, text=True,
                          check=True).stdout
    return parse_xfrm_states(text)


def kernel_policies() -> list[str]:
    text = subprocess.run(["ip", "xfrm", "policy"], capture_output=True, text=True,
                          check=True).stdout
    return parse_xfrm_policies(text)


# --- captures -----------------------------------------------------------------------------

def read_capture(pcap: Path) -> list:
    import scapy.layers.inet  # noqa: F401  (registers IP over Ethernet for the reader)
    import scapy.layers.inet6  # noqa: F401
    import scapy.layers.ipsec  # noqa: F401
    import scapy.layers.l2  # noqa: F401
    from scapy.utils import rdpcap

    return list(rdpcap(str(pcap)))


def ike_messages(packets: list, skip_retransmits: bool = False) -> list[str]:
    """One line per IKEv2 message, dissected by scapy: who, exchange, role, id, payloads.

    ``skip_retransmits`` leaves out a message byte for byte equal to an earlier one between
    the same endpoints (a retransmitted request or a repeated response), whose number varies
    with timing; a new IKE_SA_INIT request after INVALID_KE_PAYLOAD differs and stays."""
    from scapy.contrib.ikev2 import IKEv2
    from scapy.layers.inet import IP, UDP

    lines = []
    seen: set[tuple[str, str, bytes]] = set()
    for packet in packets:
        if UDP not in packet or not ({packet[UDP].sport, packet[UDP].dport} & set(IKE_PORTS)):
            continue
        data = bytes(packet[UDP].payload)
        if packet[UDP].dport == 4500 or packet[UDP].sport == 4500:
            if data[:4] != b"\0\0\0\0":
                continue  # ESP in UDP, not IKE
            data = data[4:]  # the non-ESP marker
        if len(data) < 28:
            continue  # NAT-T keepalive
        if skip_retransmits:
            key = (packet[IP].src, packet[IP].dst, data)
            if key in seen:
                continue
            seen.add(key)
        ike = IKEv2(data)
        exchange = ike.get_field("exch_type").i2repr(ike, ike.exch_type)
        flags = ike.flags
        role = "response" if flags & 0x20 else "request"
        side = "I" if flags & 0x08 else "R"
        payloads = []
        layer = ike.payload
        while layer is not None and layer.name not in ("Raw", "NoPayload", "Padding"):
            payloads.append(_payload_name(layer))
            layer = layer.payload if layer.payload else None
        lines.append(f"{packet[IP].src}:{packet[UDP].sport} > {packet[IP].dst}:"
                     f"{packet[UDP].dport} {exchange} {role} ({side}) id={ike.id} "
                     f"[{' '.join(payloads)}]")
    return lines


def _payload_name(layer) -> str:
    name = layer.name.replace("IKE ", "").replace("IKEv2 ", "")
    if layer.__class__.__name__ == "IKEv2_Notify":
        notify = layer.get_field("type").i2repr(layer, layer.type)
        return f"N({notify})"
    if layer.__class__.__name__ == "IKEv2_Encrypted":
        return "SK"
    return name.split()[0]


def esp_packets(packets: list) -> list:
    from scapy.layers.inet import IP, UDP
    from scapy.layers.ipsec import ESP

    found = []
    for packet in packets:
        if ESP in packet and IP in packet:
            found.append(packet[IP])
        elif UDP in packet and packet[UDP].dport == 4500:
            data = bytes(packet[UDP].payload)
            if len(data) > 8 and data[:4] != b"\0\0\0\0":
                found.append(packet[IP])
    return found


def security_association(state: XfrmState):
    """scapy's SecurityAssociation for one kernel SA (tunnel mode: with its outer header)."""
    from scapy.layers.inet import IP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.ipsec import ESP, SecurityAssociation

    kwargs = {}
    if state.aead:
        kwargs.update(crypt_algo=SCAPY_CRYPT[state.aead[0]], crypt_key=state.aead[1],
                      auth_algo="NULL")
        if state.aead[2] != 128:
            raise ValueError(f"ICV of {state.aead[2]} bits: scapy expects 128")
    else:
        if state.enc:
            kwargs.update(crypt_algo=SCAPY_CRYPT[state.enc[0]], crypt_key=state.enc[1])
        if state.auth:
            kwargs.update(auth_algo=SCAPY_AUTH[(state.auth[0], state.auth[2])],
                          auth_key=state.auth[1])
    if state.mode == "tunnel":
        outer = IPv6 if ":" in state.src else IP
        kwargs["tunnel_header"] = outer(src=state.src, dst=state.dst)
    if state.encap:
        from scapy.layers.inet import UDP

        kwargs["nat_t_header"] = UDP(sport=state.encap[1], dport=state.encap[2])
    return SecurityAssociation(ESP, spi=state.spi, **kwargs)


def decrypt_esp(packets: list, states: list[XfrmState], known_only: bool = False,
                show_encap: bool = False) -> list[str]:
    """Decrypt every ESP packet whose SPI is among ``states``: one line each.

    ``known_only`` leaves out packets of SAs this kernel no longer has (an earlier round of
    the same capture) instead of reporting them. ``show_encap`` prints the UDP ports of ESP
    in UDP (RFC 3948) as seen on the wire, so a NAT's port rewriting shows in the capture."""
    from scapy.layers.inet import ICMP, IP, UDP
    from scapy.layers.ipsec import ESP

    by_spi = {s.spi: s for s in states if s.proto == "esp"}
    lines = []
    for outer in esp_packets(packets):
        # no UDP before the still-encrypted ESP payload unless the ESP is in UDP
        udp = outer[UDP] if show_encap and UDP in outer else None
        if ESP in outer:
            esp = outer[ESP]
        else:  # ESP in UDP: scapy's ESP layer from the UDP payload
            esp = ESP(bytes(outer[UDP].payload))
            outer = IP(src=outer[IP].src, dst=outer[IP].dst, proto=50) / esp
        state = by_spi.get(esp.spi)
        where = f"{outer[IP].src} > {outer[IP].dst} esp spi=0x{esp.spi:08x} seq={esp.seq}"
        if udp is not None:
            where = (f"{outer[IP].src}:{udp.sport} > {outer[IP].dst}:{udp.dport} esp-in-udp "
                     f"spi=0x{esp.spi:08x} seq={esp.seq}")
        if state is None:
            if not known_only:
                lines.append(f"{where}: no SA for this SPI")
            continue
        try:
            inner = security_association(state).decrypt(outer)
        except Exception as e:  # scapy raises several kinds on a bad ICV or padding
            lines.append(f"{where}: DECRYPTION FAILED ({type(e).__name__}: {e})")
            continue
        if IP not in inner:  # wrong keys or algorithms decrypt to garbage
            lines.append(f"{where}: DECRYPTION FAILED (no IP packet inside)")
            continue
        what = inner.payload.name if inner.payload else "?"
        if ICMP in inner:
            what = "ICMP " + inner[ICMP].get_field("type").i2repr(inner[ICMP], inner[ICMP].type)
        elif UDP in inner:
            what = f"UDP {bytes(inner[UDP].payload)!r}"
        lines.append(f"{where}: {inner.src} > {inner.dst} {what}")
    return lines


def icmp_echoes(packets: list) -> list[str]:
    from scapy.layers.inet import ICMP, IP

    return [f"{p[IP].src} > {p[IP].dst} "
            f"{p[ICMP].get_field('type').i2repr(p[ICMP], p[ICMP].type)}"
            for p in packets if ICMP in p and p[ICMP].type in (0, 8)]


# --- traffic ------------------------------------------------------------------------------

def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def udp_echo_server(address: str, port: int, count: int, timeout: float = 20.0) -> int:
    """Echo ``count`` datagrams back to their senders, then exit (never left running)."""
    with socket.socket(_family(address), socket.SOCK_DGRAM) as sock:
        sock.bind((address, port))
        sock.settimeout(timeout)
        for _ in range(count):
            data, peer = sock.recvfrom(65535)
            sock.sendto(data, peer)
    return count


def udp_echo(source: str, destination: str, port: int, text: str,
             timeout: float = 5.0) -> bytes:
    """Send ``text`` from ``source`` and return the echo (socket.timeout when none comes)."""
    with socket.socket(_family(source), socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        sock.settimeout(0.2)
        # The server may still be starting in the background: retry for a moment.
        for _attempt in range(int(timeout / 0.2)):
            sock.sendto(text.encode(), (destination, port))
            try:
                return sock.recvfrom(65535)[0]
            except TimeoutError:
                continue
        raise TimeoutError(f"no echo from {destination}:{port}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labs.verify",
                                     description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("ike", "esp", "pings"):
        sub.add_parser(name).add_argument("pcap", type=Path)
    sub.choices["ike"].add_argument(
        "--skip-retransmits", action="store_true",
        help="leave out messages byte-identical to an earlier one (retransmissions)")
    sub.choices["esp"].add_argument(
        "--known-only", action="store_true",
        help="skip packets of SAs no longer in this kernel (earlier rounds)")
    sub.choices["esp"].add_argument(
        "--show-encap", action="store_true",
        help="show the UDP ports of ESP in UDP (NAT traversal) as captured")
    sub.add_parser("xfrm")
    server = sub.add_parser("udp-echo-server")
    server.add_argument("address")
    server.add_argument("port", type=int)
    server.add_argument("count", type=int)
    server.add_argument("--timeout", type=float, default=20.0,
                        help="seconds to wait for each datagram (default 20)")
    client = sub.add_parser("udp-echo")
    client.add_argument("source")
    client.add_argument("destination")
    client.add_argument("port", type=int)
    client.add_argument("text")
    args = parser.parse_args(argv)
    if args.command == "ike":
        lines = ike_messages(read_capture(args.pcap), args.skip_retransmits)
    elif args.command == "esp":
        lines = decrypt_esp(read_capture(args.pcap), kernel_states(), args.known_only,
                            args.show_encap)
    elif args.command == "pings":
        lines = icmp_echoes(read_capture(args.pcap))
    elif args.command == "xfrm":
        lines = [s.describe() for s in kernel_states()] + kernel_policies()
    elif args.command == "udp-echo-server":
        try:
            udp_echo_server(args.address, args.port, args.count, args.timeout)
        except TimeoutError:
            print(f"udp-echo-server: nothing to echo on {args.address}:{args.port} "
                  f"for {args.timeout:g} s")
            return 1
        lines = []
    else:
        try:
            reply = udp_echo(args.source, args.destination, args.port, args.text)
        except TimeoutError as e:
            print(e)
            return 1
        lines = [f"echo from {args.destination}: {reply.decode(errors='replace')}"]
    for line in lines:
        print(line)
    return 1 if any("FAILED" in line or "no SA" in line for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
