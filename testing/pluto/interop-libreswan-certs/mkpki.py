"""Make this scenario's PKI under WORKDIR/pki: a root CA (RSA), west's ECDSA P-256
certificate for our pluto (certificate store $WORKDIR/pki/west: cacerts/ certs/ private/) and
east's RSA certificate for libreswan as a PKCS#12 bundle (east.p12, friendly name "east",
password in east.p12.password) that the east scripts import into libreswan's NSS database
with pk12util, beside root.pem.

    python mkpki.py WORKDIR
"""

from __future__ import annotations

import datetime
import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.certs_helper import issue, key_pem, new_key, pem, write

P12_PASSWORD = b"interop-p12-password"


def main(workdir: str) -> None:
    now = datetime.datetime.now(tz=datetime.UTC)
    times = {"not_before": now - datetime.timedelta(days=1),
             "not_after": now + datetime.timedelta(days=30)}
    root = issue("C=XX, O=Interop, CN=Interop Root CA", new_key("rsa"), ca=True, **times)
    west = issue("C=XX, O=Interop, CN=west", new_key("ecdsa"), root,
                 sans=("@west.interop", "198.51.100.45"), **times)
    east = issue("C=XX, O=Interop, CN=east", new_key("rsa"), root,
                 sans=("@east.interop", "198.51.100.23"), **times)
    pki = os.path.join(workdir, "pki")
    write(os.path.join(pki, "west", "cacerts", "root.pem"), pem(root.cert))
    write(os.path.join(pki, "west", "certs", "west.pem"), pem(west.cert))
    write(os.path.join(pki, "west", "private", "west.key"), key_pem(west.key))
    write(os.path.join(pki, "root.pem"), pem(root.cert))
    write(os.path.join(pki, "east.p12"), pkcs12.serialize_key_and_certificates(
        b"east", east.key, east.cert, None, serialization.BestAvailableEncryption(P12_PASSWORD)))
    write(os.path.join(pki, "east.p12.password"), P12_PASSWORD + b"\n")
    for name in ("west.secrets", "east.p12.password"):
        path = os.path.join(pki, name)
        if not os.path.exists(path):
            write(path, b"")
        os.chmod(path, 0o600)


if __name__ == "__main__":
    main(sys.argv[1])
