"""CERT and CERTREQ payloads (RFC 7296 §3.6, §3.7) with X.509 certificates.

CERT: encoding 4 (X.509 Certificate - Signature), the DER certificate; our end certificate
first, then the intermediates. CERTREQ: encoding 4, the concatenated SHA-1 hashes of the
SubjectPublicKeyInfo of each CA we trust. A CERTREQ "asks" for our certificate when it names
one of the CAs on our chain, or names none we know (as libreswan, we then send anyway: the
peer may know a CA by another key).
"""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from pluto.packet.ikev2 import CertPayload, CertReqPayload, Payload
from pluto.packet.ikev2_types import CertEncoding

X509 = CertEncoding.X509_SIGNATURE
SHA1_LENGTH = 20


def spki_sha1(cert: x509.Certificate) -> bytes:
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha1(spki).digest()  # noqa: S324 (the hash RFC 7296 §3.7 names)


def cert_payloads(cert: x509.Certificate, chain: list[x509.Certificate]) -> list[CertPayload]:
    return [CertPayload(encoding=X509, data=c.public_bytes(serialization.Encoding.DER))
            for c in (cert, *chain)]


def certreq_payload(cas: list[x509.Certificate]) -> CertReqPayload | None:
    if not cas:
        return None
    return CertReqPayload(encoding=X509, data=b"".join(spki_sha1(c) for c in cas))


def certreqs_in(payloads: list[Payload]) -> list[bytes]:
    """The CA hashes of every X.509 CERTREQ received (an empty one asks for any CA)."""
    hashes: list[bytes] = []
    for payload in payloads:
        if isinstance(payload, CertReqPayload) and payload.encoding == X509:
            data = payload.data
            hashes += [data[i:i + SHA1_LENGTH] for i in range(0, len(data), SHA1_LENGTH)]
            if not data:
                hashes.append(b"")
    return hashes


def asked(certreqs: list[bytes] | None) -> bool:
    """sendcert=sendifasked: did the peer send a CERTREQ at all?"""
    return bool(certreqs)


class BadCertPayload(ValueError):
    """A CERT payload that cannot be used; the message says which and why."""


def certs_in(payloads: list[Payload]) -> list[x509.Certificate]:
    """The X.509 certificates in the CERT payloads, in order (other encodings ignored)."""
    found = []
    for index, payload in enumerate(p for p in payloads if isinstance(p, CertPayload)):
        if payload.encoding != X509:
            continue
        try:
            found.append(x509.load_der_x509_certificate(payload.data))
        except ValueError as err:
            raise BadCertPayload(f"CERT payload {index + 1} is not a DER X.509 certificate "
                                 f"({str(err).splitlines()[0] if str(err) else 'bad DER'})"
                                 ) from None
    return found
