"""Tying a connection's ``leftcert=`` to the store when it is added.

An end with a certificate and no ``leftid`` (or ``leftid=%fromcert``) takes the certificate's
subject as its ID (ID_DER_ASN1_DN), as libreswan does; an explicit ``leftid`` (``@fqdn``, an
address, user@fqdn) must be one of the certificate's subjectAltNames (or its subject DN), or
the peer would refuse it.
"""

from __future__ import annotations

from dataclasses import replace

from pluto.certs.store import CertStore
from pluto.certs.validate import id_in_cert
from pluto.connections.connection import Connection
from pluto.connections.ids import Identity


def bind_certs(conn: Connection, store: CertStore) -> str | None:
    """Fill in IDs from the ends' certificates; the problem as text, or None."""
    for side in ("left", "right"):
        end = getattr(conn, side)
        if end.cert is None:
            continue
        stored = store.find(end.cert)
        if stored is None:
            where = f' "{store.directory}"' if store.directory else " (pluto has no --certdir)"
            return f"{side}cert: no certificate '{end.cert}' in the certificate store{where}"
        if end.id is None or end.id.is_fromcert:
            setattr(conn, side, replace(end, id=Identity.from_dn(stored.cert.subject)))
        elif not end.id.is_any and not id_in_cert(end.id, stored.cert):
            return (f"{side}id '{end.id}' is neither the subject nor a subjectAltName of "
                    f"{side}cert '{end.cert}' ('{stored.subject}')")
    return None
