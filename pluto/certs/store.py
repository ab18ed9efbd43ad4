"""The certificate store: a directory that takes the place of libreswan's NSS database.

    CERTDIR/                 pluto --certdir DIR, or ``certdir=`` in ``config setup``
                             (default /etc/ipsec.d, the layout strongSwan's ipsec.d used)
      cacerts/   CA certificates we trust (trust anchors)
      certs/     our certificates and the intermediate CA certificates we send with them;
                 PKCS#12 bundles (.p12, .pfx) holding a certificate, its key and CAs
      private/   private keys (RSA, ECDSA, Ed25519; PKCS#8 or traditional; PEM or DER)
      crls/      certificate revocation lists (PEM or DER)

Certificates are PEM (one or more per file) or DER, named anything (``.pem .crt .cer .der``
are usual). A certificate's nickname, for ``leftcert=``, is its file's name without the
extension, or its subject's CN (a PKCS#12 bundle's friendly name too).

Encrypted keys and PKCS#12 bundles take their password from ipsec.secrets (strongSwan's
spelling): ``: RSA east.key "password"``, ``: ECDSA east.key "password"``,
``: P12 east.p12 "password"``; a relative name is looked up in private/ (keys) or certs/
(bundles), and such an entry also loads a key that lives outside the store. A bundle without
an entry is tried with an empty password.

Loading never fails as a whole: a file that cannot be read is left out and a warning names it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from pluto.certs.dn import format_dn, same_dn

DEFAULT_CERTDIR = "/etc/ipsec.d"
SUBDIRS = ("cacerts", "certs", "private", "crls")
_P12_SUFFIXES = (".p12", ".pfx")

Warn = Callable[[str], None]


@dataclass(frozen=True)
class KeyFile:
    """A key or PKCS#12 file named in ipsec.secrets, with its password (never logged)."""

    kind: str  # "RSA", "ECDSA" or "P12"
    path: str
    password: bytes | None = field(default=None, repr=False)
    where: str = ""  # "file:line" of the secrets entry


@dataclass
class StoredCert:
    cert: x509.Certificate
    nickname: str
    path: str

    @property
    def subject(self) -> str:
        return format_dn(self.cert.subject)

    @property
    def is_ca(self) -> bool:
        return is_ca(self.cert)


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def common_name(cert: x509.Certificate) -> str | None:
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM file, or the one in a DER file; ValueError otherwise."""
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def load_private_key(data: bytes, password: bytes | None) -> Any:
    if b"-----BEGIN" in data:
        return serialization.load_pem_private_key(data, password)
    return serialization.load_der_private_key(data, password)


def load_crl(data: bytes) -> x509.CertificateRevocationList:
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


def _files(directory: str) -> list[str]:
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return []
    return [os.path.join(directory, name) for name in names
            if not name.startswith(".") and os.path.isfile(os.path.join(directory, name))]


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def _public_bytes(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


class CertStore:
    """What the certificate directory holds, loaded with :meth:`load`."""

    def __init__(self, directory: str | None, *, crl_strict: bool = False) -> None:
        self.directory = directory
        self.crl_strict = crl_strict
        self.cas: list[StoredCert] = []  # trust anchors
        self.certs: list[StoredCert] = []  # ours and intermediates
        self.keys: list[tuple[Any, str]] = []  # (private key, where it came from)
        self.crls: list[tuple[x509.CertificateRevocationList, str]] = []

    # --- loading -----------------------------------------------------------------------

    def load(self, key_files: Iterable[KeyFile] = (), *, warn: Warn | None = None) -> None:
        """(Re)read the directory and the key files; replaces what was loaded before."""
        say = warn or (lambda _text: None)
        cas: list[StoredCert] = []
        certs: list[StoredCert] = []
        keys: list[tuple[Any, str]] = []
        crls: list[tuple[x509.CertificateRevocationList, str]] = []
        passwords = {self._resolve(k): k for k in key_files}
        if self.directory is not None:
            base = self.directory
            for path in _files(os.path.join(base, "cacerts")):
                cas += self._certs_from(path, say)
            for path in _files(os.path.join(base, "certs")):
                if path.lower().endswith(_P12_SUFFIXES):
                    entry = passwords.pop(path, None)
                    self._bundle(path, entry.password if entry else None, certs, keys, say)
                else:
                    certs += self._certs_from(path, say)
            for path in _files(os.path.join(base, "private")):
                entry = passwords.pop(path, None)
                if path.lower().endswith(_P12_SUFFIXES):
                    self._bundle(path, entry.password if entry else None, certs, keys, say)
                    continue
                key = self._key_from(path, entry.password if entry else None, say)
                if key is not None:
                    keys.append((key, path))
            for path in _files(os.path.join(base, "crls")):
                try:
                    crls.append((load_crl(_read(path)), path))
                except (OSError, ValueError) as err:
                    say(f"WARNING: skipping CRL file \"{path}\": {_reason(err)}")
        for path, entry in passwords.items():  # files named in ipsec.secrets outside the store
            if entry.kind == "P12":
                self._bundle(path, entry.password, certs, keys, say)
                continue
            key = self._key_from(path, entry.password, say, where=entry.where)
            if key is not None:
                keys.append((key, path))
        self.cas, self.certs, self.keys, self.crls = cas, certs, keys, crls

    def _resolve(self, key_file: KeyFile) -> str:
        if os.path.isabs(key_file.path) or self.directory is None:
            return key_file.path
        sub = "certs" if key_file.kind == "P12" else "private"
        return os.path.join(self.directory, sub, key_file.path)

    @staticmethod
    def _certs_from(path: str, say: Warn) -> list[StoredCert]:
        try:
            found = load_certificates(_read(path))
        except (OSError, ValueError) as err:
            say(f"WARNING: skipping certificate file \"{path}\": {_reason(err)}")
            return []
        stem = _stem(path)
        return [StoredCert(cert, stem if i == 0 else f"{stem}#{i}", path)
                for i, cert in enumerate(found)]

    @staticmethod
    def _key_from(path: str, password: bytes | None, say: Warn, where: str = "") -> Any:
        try:
            return load_private_key(_read(path), password)
        except TypeError:
            say(f"WARNING: skipping private key \"{path}\": it is encrypted; give its password "
                "in ipsec.secrets (: RSA|ECDSA FILE \"password\")")
        except (OSError, ValueError) as err:
            prefix = f"{where}: " if where else ""
            say(f"WARNING: {prefix}skipping private key \"{path}\": {_reason(err)}")
        return None

    @staticmethod
    def _bundle(path: str, password: bytes | None, certs: list[StoredCert],
                keys: list[tuple[Any, str]], say: Warn) -> None:
        try:
            bundle = pkcs12.load_pkcs12(_read(path), password)
        except (OSError, ValueError, TypeError) as err:
            say(f"WARNING: skipping PKCS#12 file \"{path}\": {_reason(err)} (its password goes "
                "in ipsec.secrets as : P12 FILE \"password\")")
            return
        stem = _stem(path)
        if bundle.cert is not None:
            certs.append(StoredCert(bundle.cert.certificate, stem, path))
            friendly = bundle.cert.friendly_name
            if friendly and friendly.decode("utf-8", "replace") != stem:
                certs.append(StoredCert(bundle.cert.certificate,
                                        friendly.decode("utf-8", "replace"), path))
        for i, extra in enumerate(bundle.additional_certs, 1):
            certs.append(StoredCert(extra.certificate, f"{stem}#{i}", path))
        if bundle.key is not None:
            keys.append((bundle.key, path))

    # --- lookups -----------------------------------------------------------------------

    def find(self, nickname: str) -> StoredCert | None:
        """``leftcert=NAME``: a certificate whose file stem, else whose subject CN, is NAME."""
        pool = self.certs + self.cas
        for stored in pool:
            if stored.nickname == nickname:
                return stored
        for stored in pool:
            if common_name(stored.cert) == nickname:
                return stored
        return None

    def private_key_for(self, cert: x509.Certificate) -> Any | None:
        wanted = _public_bytes(cert.public_key())
        for key, _where in self.keys:
            if _public_bytes(key.public_key()) == wanted:
                return key
        return None

    def anchors(self, ca: x509.Name | None = None) -> list[x509.Certificate]:
        """Trust anchors; with ``ca`` (rightca=) only the one with that subject."""
        return [s.cert for s in self.cas if ca is None or same_dn(s.cert.subject, ca)]

    def intermediates(self) -> list[x509.Certificate]:
        return [s.cert for s in self.certs if s.is_ca]

    def chain_for(self, cert: x509.Certificate) -> list[x509.Certificate]:
        """The intermediate CA certificates between ``cert`` and a trust anchor, to send
        after it (the anchor itself is left out: the peer has it)."""
        chain: list[x509.Certificate] = []
        current = cert
        anchors = self.anchors()
        for _depth in range(8):
            if any(same_dn(a.subject, current.issuer) for a in anchors):
                break
            issuer = next((c for c in self.intermediates()
                           if same_dn(c.subject, current.issuer) and c != current
                           and c not in chain), None)
            if issuer is None:
                break
            chain.append(issuer)
            current = issuer
        return chain

    def crls_from(self, issuer: x509.Certificate) -> list[x509.CertificateRevocationList]:
        """The CRLs that ``issuer`` signed."""
        found = []
        for crl, _path in self.crls:
            if same_dn(crl.issuer, issuer.subject):
                try:
                    if crl.is_signature_valid(issuer.public_key()):
                        found.append(crl)
                except (TypeError, ValueError):
                    continue
        return found


def _reason(err: Exception) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]
