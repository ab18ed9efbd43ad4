"""Dissect the CERTREQ payloads of a capture with scapy (independently of our codec) and say
which CA certificate each SHA-1 hash names (RFC 7296 §3.7: SHA-1 of the SubjectPublicKeyInfo).

    python check_certreq.py PCAP CA.pem...
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from scapy.contrib.ikev2 import IKEv2, IKEv2_CERTREQ

from labs.verify import read_capture
from pluto.certs.dn import format_dn


def main(pcap: str, ca_files: list[str]) -> None:
    known = {}
    for path in ca_files:
        cert = x509.load_pem_x509_certificate(Path(path).read_bytes())
        spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
        known[hashlib.sha1(spki).digest()] = format_dn(cert.subject)  # noqa: S324
    for packet in read_capture(Path(pcap)):
        if IKEv2 not in packet or IKEv2_CERTREQ not in packet:
            continue
        request = packet[IKEv2_CERTREQ]
        data = bytes(request.cert_authority)
        names = [known.get(data[i:i + 20], f"unknown CA {data[i:i + 20].hex()}")
                 for i in range(0, len(data), 20)]
        source = packet["IP"].src
        print(f"CERTREQ from {source}: encoding {request.cert_encoding}, CAs: "
              + ", ".join(f"'{name}'" for name in names))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
