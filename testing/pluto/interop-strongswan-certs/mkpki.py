"""Make this scenario's PKI under WORKDIR: a root CA (RSA), west's ECDSA P-256 certificate for
our pluto (certificate store $WORKDIR/pki/west: cacerts/ certs/ private/) and east's RSA
certificate for strongSwan, in the swanctl folders next to the swanctl.conf that
labs.peers loads ($WORKDIR/east/strongswan: x509ca/ x509/ private/).

    python mkpki.py WORKDIR
"""

from __future__ import annotations

import datetime
import os
import sys

from tests.certs_helper import issue, key_pem, new_key, pem, write


def main(workdir: str) -> None:
    now = datetime.datetime.now(tz=datetime.UTC)
    times = {"not_before": now - datetime.timedelta(days=1),
             "not_after": now + datetime.timedelta(days=30)}
    root = issue("C=XX, O=Interop, CN=Interop Root CA", new_key("rsa"), ca=True, **times)
    west = issue("C=XX, O=Interop, CN=west", new_key("ecdsa"), root,
                 sans=("@west.interop", "198.51.100.45"), **times)
    east = issue("C=XX, O=Interop, CN=east", new_key("rsa"), root,
                 sans=("@east.interop", "198.51.100.23"), **times)
    ours = os.path.join(workdir, "pki", "west")
    write(os.path.join(ours, "cacerts", "root.pem"), pem(root.cert))
    write(os.path.join(ours, "certs", "west.pem"), pem(west.cert))
    write(os.path.join(ours, "private", "west.key"), key_pem(west.key))
    swan = os.path.join(workdir, "east", "strongswan")
    write(os.path.join(swan, "x509ca", "root.pem"), pem(root.cert))
    write(os.path.join(swan, "x509", "east.pem"), pem(east.cert))
    key = write(os.path.join(swan, "private", "east.key"), key_pem(east.key))
    os.chmod(key, 0o600)
    secrets = write(os.path.join(workdir, "pki", "west.secrets"), b"")
    os.chmod(secrets, 0o600)


if __name__ == "__main__":
    main(sys.argv[1])
