"""The certificate store directory: PEM, DER and PKCS#12 files, passwords from ipsec.secrets,
nicknames, bad files, chains and CRLs, and the whack listings and reload."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from pluto.certs.loading import list_cacerts, list_certs, list_crls, open_store
from pluto.certs.store import CertStore
from pluto.connections.secrets import Secrets, SecretsError
from tests.certs_helper import crl, issue, key_pem, make_store, pem, shared_key, write


@pytest.fixture(scope="module")
def pki():
    root = issue("C=XX, O=Test, CN=Root", shared_key("root"), ca=True)
    inter = issue("C=XX, O=Test, CN=Inter", shared_key("inter", "ecdsa"), root, ca=True)
    east = issue("C=XX, O=Test, CN=east.example", shared_key("east", "ecdsa"), inter)
    west = issue("C=XX, O=Test, CN=west", shared_key("west", "ed25519"), root)
    return {"root": root, "inter": inter, "east": east, "west": west}


class _Options:
    def __init__(self, certdir: str, crl_strict: bool = False) -> None:
        self.certdir, self.crl_strict = certdir, crl_strict


def test_pem_der_nicknames_keys_and_chain(tmp_path, pki):
    base = make_store(str(tmp_path), cas=(pki["root"],), mine=("east", pki["east"]),
                      chain=(pki["inter"],))
    # DER certificate: found by file stem or subject CN.
    write(os.path.join(base, "certs", "w.der"),
          pki["west"].cert.public_bytes(serialization.Encoding.DER))
    store = CertStore(base)
    warnings: list[str] = []
    store.load(warn=warnings.append)
    assert warnings == []
    assert store.find("east").cert == pki["east"].cert
    assert store.find("east.example").cert == pki["east"].cert  # subject CN
    assert store.find("w").cert == store.find("west").cert == pki["west"].cert
    assert store.find("nobody") is None
    assert store.private_key_for(pki["east"].cert) is not None
    assert store.private_key_for(pki["west"].cert) is None
    assert store.chain_for(pki["east"].cert) == [pki["inter"].cert]
    assert store.chain_for(pki["west"].cert) == []


def test_pkcs12_with_password_from_the_secrets(tmp_path, pki):
    bundle = pkcs12.serialize_key_and_certificates(
        b"east-p12", pki["east"].key, pki["east"].cert, [pki["inter"].cert],
        serialization.BestAvailableEncryption(b"sesame"))
    write(str(tmp_path / "certs" / "east.p12"), bundle)
    write(str(tmp_path / "cacerts" / "root.pem"), pem(pki["root"].cert))
    secrets = Secrets.from_text(': P12 east.p12 "sesame"\n')
    logs: list[str] = []
    store = open_store(_Options(str(tmp_path)), secrets, logs.append)
    assert logs == [f'loaded certificate store "{tmp_path}": 1 CA certificates, '
                    "3 certificates, 1 private keys, 0 CRLs"]
    assert store.find("east").cert == store.find("east-p12").cert == pki["east"].cert
    assert store.private_key_for(pki["east"].cert) is not None
    assert store.chain_for(pki["east"].cert) == [pki["inter"].cert]
    # Without the password the bundle is left out, with a warning that says where it goes.
    logs.clear()
    open_store(_Options(str(tmp_path)), Secrets.from_text(""), logs.append)
    assert logs[0].startswith(f'WARNING: skipping PKCS#12 file "{tmp_path}/certs/east.p12": ')
    assert logs[0].endswith('(its password goes in ipsec.secrets as : P12 FILE "password")')
    assert "sesame" not in " ".join(logs)


def test_encrypted_key_needs_its_password_and_bad_files_are_skipped(tmp_path, pki):
    write(str(tmp_path / "private" / "east.key"), key_pem(pki["east"].key, b"open"))
    write(str(tmp_path / "cacerts" / "junk.pem"), b"not a certificate")
    write(str(tmp_path / "crls" / "junk.crl"), b"\x30\x03\x02\x01\x00")
    logs: list[str] = []
    store = open_store(_Options(str(tmp_path)), Secrets.from_text(""), logs.append)
    assert store.keys == [] and store.cas == [] and store.crls == []
    assert logs[0].startswith(f'WARNING: skipping certificate file "{tmp_path}/cacerts/junk.pem"')
    assert logs[1] == (f'WARNING: skipping private key "{tmp_path}/private/east.key": it is '
                       'encrypted; give its password in ipsec.secrets (: RSA|ECDSA FILE '
                       '"password")')
    assert logs[2].startswith(f'WARNING: skipping CRL file "{tmp_path}/crls/junk.crl"')
    store = open_store(_Options(str(tmp_path)), Secrets.from_text(': ECDSA east.key "open"\n'),
                       logs.append)
    assert len(store.keys) == 1


def test_key_file_outside_the_store_by_absolute_path(tmp_path, pki):
    path = write(str(tmp_path / "elsewhere" / "k.pem"), key_pem(pki["west"].key))
    store = open_store(_Options(str(tmp_path / "store")),
                       Secrets.from_text(f": RSA {path}\n"), lambda _t: None)
    assert store.private_key_for(pki["west"].cert) is not None


def test_secrets_key_file_syntax_errors():
    with pytest.raises(SecretsError, match=r"<text>:1: P12 needs a file name and optionally a "
                                           "quoted password"):
        Secrets.from_text(': P12 "pw"\n')
    with pytest.raises(SecretsError, match="ECDSA needs a file name"):
        Secrets.from_text(": ECDSA a.key b.key\n")
    with pytest.raises(SecretsError, match="RSA needs a file name"):
        Secrets.from_text(': RSA a.key "pw" more\n')


def test_listings_and_crls(tmp_path, pki):
    revoked = crl(pki["root"], (pki["west"].cert,))
    make_store(str(tmp_path), cas=(pki["root"],), mine=("west", pki["west"]),
               chain=(pki["inter"],), crls=(revoked,))
    store = open_store(_Options(str(tmp_path)), None, lambda _t: None)
    certs = list_certs(store)
    assert certs[1] == "List of X.509 End Certificates:"
    assert f"nickname 'west', file {tmp_path}/certs/west.pem" in certs
    assert "       subject: 'C=XX, O=Test, CN=west'" in certs
    assert "       has private key" in certs
    cas = list_cacerts(store)
    assert "       subject: 'C=XX, O=Test, CN=Root'" in cas
    assert "       subject: 'C=XX, O=Test, CN=Inter'" in cas
    crls = list_crls(store)
    assert f"issuer: 'C=XX, O=Test, CN=Root', file {tmp_path}/crls/crl0.pem" in crls
    assert "       revoked certs: 1" in crls
    assert store.crls_from(pki["root"].cert) and not store.crls_from(pki["inter"].cert)


def test_whack_rereadcerts_and_listings(tmp_path, pki):
    from tests.inprocess.harness import Pair

    pair = Pair(west_options={"certdir": str(tmp_path)})
    assert pair.west.core.certs.find("west") is None
    make_store(str(tmp_path), cas=(pki["root"],), mine=("west", pki["west"]))
    reply = pair.west.whack({"action": "rereadcerts"})
    assert reply.finished == 0
    assert reply.texts == [f'loaded certificate store "{tmp_path}": 1 CA certificates, '
                           "1 certificates, 1 private keys, 0 CRLs"]
    assert pair.west.core.certs.find("west").cert == pki["west"].cert
    reply = pair.west.whack({"action": "listcacerts"})
    assert "       subject: 'C=XX, O=Test, CN=Root'" in reply.texts
