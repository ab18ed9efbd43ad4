"""Opening the core's certificate store, reloading it, and listing what it holds
(``whack --rereadcerts``, ``--listcerts``, ``--listcacerts``, ``--listcrls``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pluto.certs.dn import format_dn
from pluto.certs.store import CertStore, StoredCert


def open_store(options: Any, secrets: Any, log: Callable[[str], None]) -> CertStore:
    """The store of ``options.certdir`` (None: an empty store), loaded now."""
    store = CertStore(getattr(options, "certdir", None),
                      crl_strict=bool(getattr(options, "crl_strict", False)))
    load(store, secrets, log)
    return store


def load(store: CertStore, secrets: Any, log: Callable[[str], None], *,
         always: bool = False) -> None:
    """(Re)load; the summary line is logged when something was found (an empty default
    directory stays quiet at start-up) or when ``always`` (whack --rereadcerts)."""
    store.load(getattr(secrets, "key_files", ()), warn=log)
    found = len(store.cas) + len(store.certs) + len(store.keys) + len(store.crls)
    if store.directory is not None and (found or always):
        log(f"loaded certificate store \"{store.directory}\": {len(store.cas)} CA "
            f"certificates, {len(store.certs)} certificates, {len(store.keys)} private keys, "
            f"{len(store.crls)} CRLs")


def _time(value: Any) -> str:
    return f"{value:%b %d %H:%M:%S %Y}"


def _cert_lines(stored: StoredCert, has_key: bool) -> list[str]:
    cert = stored.cert
    lines = [f"{_time(cert.not_valid_before_utc)}, count: 1",
             f"       subject: '{stored.subject}'",
             f"       issuer:  '{format_dn(cert.issuer)}'",
             f"       serial:  {cert.serial_number:#x}",
             f"       validity: not before {_time(cert.not_valid_before_utc)} ok",
             f"                 not after  {_time(cert.not_valid_after_utc)} ok"]
    lines = [f"nickname '{stored.nickname}', file {stored.path}"] + lines[1:]
    if has_key:
        lines.append("       has private key")
    return lines


def list_certs(store: CertStore) -> list[str]:
    lines = ["", "List of X.509 End Certificates:", ""]
    for stored in store.certs:
        if not stored.is_ca:
            lines += _cert_lines(stored, store.private_key_for(stored.cert) is not None)
    return lines


def list_cacerts(store: CertStore) -> list[str]:
    lines = ["", "List of X.509 CA Certificates:", ""]
    for stored in store.cas + [s for s in store.certs if s.is_ca]:
        lines += _cert_lines(stored, False)
    return lines


def list_crls(store: CertStore) -> list[str]:
    lines = ["", "List of X.509 CRLs:", ""]
    for crl, path in store.crls:
        lines += [f"issuer: '{format_dn(crl.issuer)}', file {path}",
                  f"       revoked certs: {len(list(crl))}",
                  f"       updates: this {_time(crl.last_update_utc)}"]
        if crl.next_update_utc is not None:
            lines.append(f"                next {_time(crl.next_update_utc)}")
    return lines
