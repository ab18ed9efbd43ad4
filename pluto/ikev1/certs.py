"""X.509 certificates in IKEv1 Main Mode (RFC 2408 §3.9-3.10, RFC 2409 §5.1, RFC 4945 §3).

CERT (encoding 4, X.509 Certificate - Signature): our ``leftcert`` then its intermediates, in
MI3/MR3 beside SIG_I/SIG_R. CERTREQ (here: CR, encoding 4) names an acceptable CA by the DER
of its subject DN (RFC 4945 §3.2.1), one payload per CA; the responder sends them in MR2 and
the initiator in MI3, as libreswan does, so ``leftsendcert=sendifasked`` has something to
answer. The chain, revocation and the ID check are pluto/certs' (as for IKEv2); IKEv1
signatures are RSA only (the bare-hash PKCS #1 of RFC 2409).
"""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pluto.certs.config import ca_name
from pluto.connections.connection import AuthBy, Connection
from pluto.packet.ikev1 import CertificatePayload, CertificateRequestPayload, Payload

X509_SIGNATURE = 4


class BadCertificate(ValueError):
    """A CERT payload that cannot be used, or our own certificate cannot sign."""


def _raw_key_configured(conn: Connection) -> bool:
    key = conn.that.rsasigkey
    return key is not None and not key.startswith("%")


def uses_certificates(conn: Connection) -> bool:
    """Certificates take part: we have a leftcert, or the peer's are configured (rightcert,
    rightca), unless a raw rightrsasigkey names the peer's key."""
    if conn.policy.auth is not AuthBy.RSASIG or _raw_key_configured(conn):
        return False
    return conn.this.cert is not None or conn.that.cert is not None or conn.that.ca is not None


def our_certificates(core: Any, conn: Connection, asked: bool) -> list[CertificatePayload]:
    """CERT payloads as leftsendcert says: always, never, or (sendifasked) when the peer
    sent a CR."""
    store = getattr(core, "certs", None)
    if conn.this.cert is None or store is None or conn.policy.auth is not AuthBy.RSASIG:
        return []
    if conn.this.sendcert == "never" or (conn.this.sendcert == "sendifasked" and not asked):
        return []
    stored = store.find(conn.this.cert)
    if stored is None:
        return []
    return [CertificatePayload(X509_SIGNATURE, c.public_bytes(serialization.Encoding.DER))
            for c in (stored.cert, *store.chain_for(stored.cert))]


def our_cert_requests(core: Any, conn: Connection) -> list[CertificateRequestPayload]:
    """One CR per CA the peer's certificate may chain to (rightca, else every trust anchor)."""
    store = getattr(core, "certs", None)
    if store is None or not uses_certificates(conn):
        return []
    try:
        ca = ca_name(conn.that.ca, conn.this.ca)
    except ValueError:
        ca = None
    return [CertificateRequestPayload(X509_SIGNATURE, anchor.subject.public_bytes())
            for anchor in store.anchors(ca)]


def asked(payloads: list[Payload]) -> bool:
    """Whether the peer asked for our certificate (any X.509 CR, even naming no CA)."""
    return any(isinstance(p, CertificateRequestPayload) and p.encoding == X509_SIGNATURE
               for p in payloads)


def peer_certificates(payloads: list[Payload]) -> list[x509.Certificate]:
    """The X.509 certificates of the CERT payloads, end certificate first; BadCertificate
    when one is not DER (other encodings are ignored)."""
    found = []
    certs = [p for p in payloads if isinstance(p, CertificatePayload)]
    for index, payload in enumerate(certs, 1):
        if payload.encoding != X509_SIGNATURE:
            continue
        try:
            found.append(x509.load_der_x509_certificate(payload.data))
        except ValueError:
            raise BadCertificate(f"CERT payload {index} is not a DER X.509 certificate"
                                 ) from None
    return found


def our_private_key(core: Any, conn: Connection) -> rsa.RSAPrivateKey:
    """leftcert's private key from the store; BadCertificate when missing or not RSA."""
    store = getattr(core, "certs", None)
    stored = None if store is None else store.find(conn.this.cert or "")
    if stored is None:
        raise BadCertificate(f"certificate '{conn.this.cert}' is not in the certificate store")
    key = store.private_key_for(stored.cert)
    if key is None:
        raise BadCertificate(f"no private key for certificate '{conn.this.cert}' "
                             f"('{stored.subject}')")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise BadCertificate(f"certificate '{conn.this.cert}' has a "
                             f"{type(key).__name__.lstrip('_')} key; IKEv1 signs only with "
                             "RSA")
    return key
