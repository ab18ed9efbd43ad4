"""A small PKI for tests: CAs, intermediates, end certificates and CRLs made with
`cryptography`, written out as certificate store directories (pluto/certs/store.py).

Times are around the in-process FakeClock's wall time (1 700 000 000 s, November 2023).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from pluto.certs.dn import parse_dn

WALL = datetime.datetime.fromtimestamp(1_700_000_000, tz=datetime.UTC)
DAY = datetime.timedelta(days=1)

_KEYS: dict[str, Any] = {}


def new_key(kind: str = "rsa") -> Any:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(kind)


def shared_key(name: str, kind: str = "rsa") -> Any:
    """One key per (name, kind) for the whole test run: RSA keys are slow to make."""
    if (name, kind) not in _KEYS:
        _KEYS[(name, kind)] = new_key(kind)
    return _KEYS[(name, kind)]


@dataclass
class Issued:
    cert: x509.Certificate
    key: Any

    @property
    def subject(self) -> x509.Name:
        return self.cert.subject


def _hash_for(key: Any) -> hashes.HashAlgorithm | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def issue(subject: str, key: Any, issuer: Issued | None = None, *, ca: bool = False,
          sans: tuple[str, ...] = (), not_before: datetime.datetime | None = None,
          not_after: datetime.datetime | None = None, serial: int | None = None,
          key_usage: str | None = "default") -> Issued:
    """A certificate for ``subject`` (a DN in libreswan's order) and ``key``, signed by
    ``issuer`` (self-signed without). ``sans``: "@fqdn", "user@fqdn" or addresses."""
    name = parse_dn(subject)
    signer_key = issuer.key if issuer else key
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(issuer.subject if issuer else name)
               .public_key(key.public_key())
               .serial_number(serial or x509.random_serial_number())
               .not_valid_before(not_before or WALL - 30 * DAY)
               .not_valid_after(not_after or WALL + 365 * DAY)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if key_usage == "default":
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=not ca, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
            encipher_only=False, decipher_only=False), critical=True)
    if sans:
        names: list[x509.GeneralName] = []
        for san in sans:
            if san.startswith("@"):
                names.append(x509.DNSName(san[1:]))
            elif "@" in san:
                names.append(x509.RFC822Name(san))
            else:
                names.append(x509.IPAddress(ipaddress.ip_address(san)))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(signer_key, _hash_for(signer_key))
    return Issued(cert, key)


def crl(issuer: Issued, revoked: tuple[x509.Certificate, ...] = (), *,
        next_update: datetime.datetime | None = None) -> x509.CertificateRevocationList:
    builder = (x509.CertificateRevocationListBuilder().issuer_name(issuer.subject)
               .last_update(WALL - DAY).next_update(next_update or WALL + 30 * DAY))
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(cert.serial_number)
            .revocation_date(WALL - DAY).build())
    return builder.sign(issuer.key, _hash_for(issuer.key))


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: Any, password: bytes | None = None) -> bytes:
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             encryption)


def write(path: str, data: bytes) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def make_store(directory: str, *, cas: tuple[Issued, ...] = (),
               mine: tuple[str, Issued] | None = None, chain: tuple[Issued, ...] = (),
               crls: tuple[x509.CertificateRevocationList, ...] = ()) -> str:
    """A store directory: ``cas`` in cacerts/, ``mine`` (nickname, cert) in certs/ with its
    key in private/, ``chain`` (intermediates) in certs/, ``crls`` in crls/."""
    for number, ca in enumerate(cas):
        write(os.path.join(directory, "cacerts", f"ca{number}.pem"), pem(ca.cert))
    if mine is not None:
        nickname, issued = mine
        write(os.path.join(directory, "certs", f"{nickname}.pem"), pem(issued.cert))
        write(os.path.join(directory, "private", f"{nickname}.key"), key_pem(issued.key))
    for number, inter in enumerate(chain):
        write(os.path.join(directory, "certs", f"intermediate{number}.pem"), pem(inter.cert))
    for number, revocations in enumerate(crls):
        write(os.path.join(directory, "crls", f"crl{number}.pem"),
              revocations.public_bytes(serialization.Encoding.PEM))
    return directory


def common_name(cert: x509.Certificate) -> str:
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
