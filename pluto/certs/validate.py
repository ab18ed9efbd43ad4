"""Checking a peer's certificate: the chain to a trusted CA, revocation, and its IDs.

The path is built from the peer's end certificate through the intermediates it sent (and the
CA certificates of our store) up to one of the trust anchors (RFC 5280 §6 in its simple form):
each link's signature, every certificate valid at the core's wall-clock time, issuers marked
CA by basicConstraints and, where keyUsage is present, allowed to sign certificates; the end
certificate, where keyUsage is present, allowed digital signatures. Each certificate below
the anchor is looked up in the CRLs its issuer signed; with crl-strict a missing (or stale)
CRL refuses it, as libreswan's --crl-strict does.
"""

from __future__ import annotations

import datetime
import ipaddress

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from pluto.certs.dn import dn_from_der, format_dn, same_dn
from pluto.certs.store import CertStore, is_ca
from pluto.connections.ids import Identity
from pluto.packet.ikev2_types import IdType

MAX_DEPTH = 8


class CertError(Exception):
    """The peer's certificate is not acceptable; the message says why, for the log."""


def _name(cert: x509.Certificate) -> str:
    return f"'{format_dn(cert.subject)}'"


def _check_time(cert: x509.Certificate, now: datetime.datetime) -> None:
    if now < cert.not_valid_before_utc:
        raise CertError(f"certificate {_name(cert)} is not valid yet (notBefore "
                        f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M:%S} UTC)")
    if now > cert.not_valid_after_utc:
        raise CertError(f"certificate {_name(cert)} has expired (notAfter "
                        f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M:%S} UTC)")


def _key_usage(cert: x509.Certificate) -> x509.KeyUsage | None:
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if not same_dn(cert.issuer, issuer.subject):
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _check_issuer(issuer: x509.Certificate) -> None:
    if not is_ca(issuer):
        raise CertError(f"issuer {_name(issuer)} is not a CA (basicConstraints)")
    usage = _key_usage(issuer)
    if usage is not None and not usage.key_cert_sign:
        raise CertError(f"issuer {_name(issuer)} may not sign certificates (keyUsage)")


def _check_revocation(cert: x509.Certificate, issuer: x509.Certificate, store: CertStore,
                      now: datetime.datetime) -> None:
    crls = store.crls_from(issuer)
    if store.crl_strict:
        crls = [c for c in crls if c.next_update_utc is None or c.next_update_utc >= now]
    if not crls:
        if store.crl_strict:
            raise CertError(f"no current CRL from {_name(issuer)} for certificate "
                            f"{_name(cert)} and crl-strict=yes")
        return
    for crl in crls:
        if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            raise CertError(f"certificate {_name(cert)} (serial {cert.serial_number:#x}) "
                            f"is revoked by the CRL of {_name(issuer)}")


def validate_chain(end: x509.Certificate, sent: list[x509.Certificate], store: CertStore,
                   now: datetime.datetime, ca: x509.Name | None = None
                   ) -> list[x509.Certificate]:
    """The path from ``end`` to a trust anchor (anchor last), or CertError saying why not.

    ``sent``: the other certificates the peer sent; ``ca``: rightca= (only that anchor)."""
    anchors = store.anchors(ca)
    if not anchors:
        where = f"'{format_dn(ca)}'" if ca is not None else "any"
        raise CertError(f"no trusted CA certificate ({where}) in the certificate store")
    usage = _key_usage(end)
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        raise CertError(f"certificate {_name(end)} may not make signatures (keyUsage)")
    pool = [c for c in sent if c != end] + store.intermediates()
    path = [end]
    current = end
    for _depth in range(MAX_DEPTH):
        _check_time(current, now)
        anchor = next((a for a in anchors if _signed_by(current, a)), None)
        if anchor is not None:
            _check_issuer(anchor)
            _check_time(anchor, now)
            _check_revocation(current, anchor, store, now)
            path.append(anchor)
            return path
        issuer = next((c for c in pool if c not in path and _signed_by(current, c)), None)
        if issuer is None:
            wanted = f"'{format_dn(ca)}'" if ca is not None else "a trusted CA"
            raise CertError(f"certificate {_name(current)} issued by "
                            f"'{format_dn(current.issuer)}' does not chain to {wanted}")
        _check_issuer(issuer)
        _check_revocation(current, issuer, store, now)
        path.append(issuer)
        current = issuer
    raise CertError(f"certificate chain of {_name(end)} is longer than {MAX_DEPTH}")


def _san(cert: x509.Certificate) -> x509.SubjectAlternativeName | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None


def id_in_cert(identity: Identity, cert: x509.Certificate) -> bool:
    """Whether the certificate vouches for ``identity``: its subject (or a directoryName)
    for a DN, a dNSName / rfc822Name / iPAddress subjectAltName for the others."""
    san = _san(cert)
    if identity.type == IdType.ID_DER_ASN1_DN:
        name = dn_from_der(identity.data)
        if same_dn(name, cert.subject):
            return True
        return san is not None and any(same_dn(name, d)
                                       for d in san.get_values_for_type(x509.DirectoryName))
    if san is None:
        return False
    text = identity.data.decode("utf-8", "replace")
    if identity.type == IdType.ID_FQDN:
        return any(text.lower() == d.lower() for d in san.get_values_for_type(x509.DNSName))
    if identity.type == IdType.ID_RFC822_ADDR:
        return any(text.lower() == e.lower()
                   for e in san.get_values_for_type(x509.RFC822Name))
    if identity.type in (IdType.ID_IPV4_ADDR, IdType.ID_IPV6_ADDR):
        address = ipaddress.ip_address(identity.data)
        return address in san.get_values_for_type(x509.IPAddress)
    return False


def wall_time(seconds: float) -> datetime.datetime:
    """The core's wall clock (seconds since the epoch) as an aware UTC datetime."""
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
