"""Public keys and X.509 certificates that pluto holds in memory, replacing libreswan's NSS.

- pubkeys.py: raw public keys added with ``whack --keyid ID --pubkeyrsa KEY [--addkey]``;
- store.py: the certificate store directory (``pluto --certdir DIR``, ``certdir=`` in
  ``config setup``, default /etc/ipsec.d): ``cacerts/`` (trust anchors), ``certs/`` (our
  certificates, intermediates, PKCS#12 bundles), ``private/`` (keys), ``crls/``; passwords of
  encrypted keys and bundles in ipsec.secrets as ``: RSA|ECDSA|P12 FILE "password"``;
- dn.py, der.py: distinguished names (``leftid="C=XX, O=Example, CN=east"``) and their DER;
- config.py, bind.py: ``leftcert=NICKNAME`` (file stem or subject CN), ``leftca=DN|%same``,
  ``leftsendcert=always|sendifasked|never``; an end with a certificate and no leftid (or
  ``%fromcert``) uses the certificate's subject as its ID (ID_DER_ASN1_DN), and an explicit
  leftid must be the subject or a subjectAltName;
- payloads.py: CERT (X.509 signature, encoding 4) and CERTREQ (SHA-1 of each CA's
  SubjectPublicKeyInfo) payloads;
- validate.py: the peer's chain to a trusted CA at the core's clock, CRLs and
  ``--crl-strict``/``crl-strict=yes``, and its ID against the certificate;
- loading.py: loading at start-up, ``whack --rereadcerts`` (``--rereadall``: secrets too),
  ``whack --listcerts``, ``--listcacerts``, ``--listcrls``.
"""
