"""Make this scenario's PKI in DIR (the run's $WORKDIR/pki): a root CA, an intermediate CA,
west's ECDSA P-256 certificate (issued by the intermediate, PEM, key in private/) and east's
RSA certificate (issued by the root, in a PKCS#12 bundle whose password is in east.secrets).

    python mkpki.py DIR
"""

from __future__ import annotations

import datetime
import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.certs_helper import issue, key_pem, new_key, pem, write

P12_PASSWORD = "east's bundle password"


def main(directory: str) -> None:
    now = datetime.datetime.now(tz=datetime.UTC)
    times = {"not_before": now - datetime.timedelta(days=1),
             "not_after": now + datetime.timedelta(days=30)}
    root = issue("C=XX, O=Lab, CN=Lab Root CA", new_key("rsa"), ca=True, **times)
    inter = issue("C=XX, O=Lab, CN=Lab Intermediate CA", new_key("ecdsa"), root, ca=True,
                  **times)
    west = issue("C=XX, O=Lab, CN=west", new_key("ecdsa"), inter,
                 sans=("@west.lab", "198.51.100.45"), **times)
    east = issue("C=XX, O=Lab, CN=east", new_key("rsa"), root,
                 sans=("@east.lab", "198.51.100.23"), **times)
    for host in ("west", "east"):
        write(os.path.join(directory, host, "cacerts", "lab-root.pem"), pem(root.cert))
    write(os.path.join(directory, "west", "certs", "west.pem"), pem(west.cert))
    write(os.path.join(directory, "west", "certs", "lab-intermediate.pem"), pem(inter.cert))
    write(os.path.join(directory, "west", "private", "west.key"), key_pem(west.key))
    bundle = pkcs12.serialize_key_and_certificates(
        b"east", east.key, east.cert, None,
        serialization.BestAvailableEncryption(P12_PASSWORD.encode()))
    write(os.path.join(directory, "east", "certs", "east.p12"), bundle)
    secrets = write(os.path.join(directory, "east.secrets"),
                    f': P12 east.p12 "{P12_PASSWORD}"\n'.encode())
    os.chmod(secrets, 0o600)
    write(os.path.join(directory, "west.secrets"), b"")
    os.chmod(os.path.join(directory, "west.secrets"), 0o600)


if __name__ == "__main__":
    main(sys.argv[1])
