"""List the IKEv1 (ISAKMP) messages of a capture as scapy dissects them: who sent what, which
exchange, whether it is encrypted, and the payloads it carries in clear. An ID payload in
clear shows its identity, which is the point of Aggressive Mode's warning.

usage: python isakmp_dump.py CAPTURE.pcap
Byte-identical repeats (retransmissions, whose number varies with timing) are left out.
"""

from __future__ import annotations

import sys

# exchange types of RFC 2408 §3.1 plus Transaction (XAUTH/Mode Config drafts), which
# scapy's table lacks
EXCHANGES = {2: "Main", 4: "Aggressive", 5: "Informational", 6: "Transaction", 32: "Quick"}
ISAKMP_PORTS = (500, 4500)
ID_FQDN = 2
# payload types of RFC 2408 §3.1 and RFC 3947 (NAT-D)
PAYLOADS = {1: "SA", 4: "KE", 5: "ID", 6: "CERT", 7: "CR", 8: "HASH", 9: "SIG", 10: "Ni/Nr",
            11: "N", 12: "D", 13: "VID", 14: "ATTR", 20: "NAT-D", 21: "NAT-OA"}


def describe(data: bytes) -> str:
    """One message: its exchange, and its payloads unless the body is encrypted."""
    from scapy.layers.isakmp import ISAKMP, ISAKMP_payload_ID

    msg = ISAKMP(data)
    exchange = EXCHANGES.get(msg.exch_type, f"exchange {msg.exch_type}")
    if msg.flags & 0x01:
        return f"{exchange} [encrypted]"
    # scapy dissects NAT-D and some others as a generic payload: name each by the type that
    # the previous header announced
    names = []
    kind, layer = msg.next_payload, msg.payload
    while kind != 0 and layer is not None and layer.name not in ("Raw", "NoPayload"):
        name = PAYLOADS.get(kind, f"type{kind}")
        if isinstance(layer, ISAKMP_payload_ID) and layer.IDtype == ID_FQDN:
            name += f"(@{bytes(layer.IdentData).decode(errors='replace')})"
        names.append(name)
        kind, layer = layer.next_payload, (layer.payload if layer.payload else None)
    return f"{exchange} [{' '.join(names)}]"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.splitlines()[-2], file=sys.stderr)
        return 1
    import scapy.layers.inet  # noqa: F401  (registers IP over Ethernet for the reader)
    import scapy.layers.l2  # noqa: F401
    from scapy.layers.inet import IP, UDP
    from scapy.utils import rdpcap

    seen: set[tuple[str, bytes]] = set()
    for packet in rdpcap(argv[0]):
        if UDP not in packet or not {packet[UDP].sport, packet[UDP].dport} & set(ISAKMP_PORTS):
            continue
        data = bytes(packet[UDP].payload)
        if 4500 in (packet[UDP].sport, packet[UDP].dport):
            if data[:4] != b"\0\0\0\0":
                continue  # ESP in UDP
            data = data[4:]  # the non-ESP marker
        if len(data) < 28 or data[17] != 0x10:
            continue  # a NAT-T keepalive, or not IKEv1
        if (packet[IP].src, data) in seen:
            continue
        seen.add((packet[IP].src, data))
        print(f"{packet[IP].src} > {packet[IP].dst}: {describe(data)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
