"""Distinguished names and certificate IDs: parsing, DER, comparison, subjectAltNames; chain
validation corner cases; the certificate keywords of ipsec.conf and pluto's options."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from pluto.certs.der import DerError, parse_name
from pluto.certs.dn import DnError, format_dn, parse_dn
from pluto.certs.store import CertStore
from pluto.certs.validate import CertError, id_in_cert, validate_chain
from pluto.connections.ids import Identity, IdentityError, parse_identity
from pluto.packet.ikev2_types import IdType
from tests.certs_helper import DAY, WALL, issue, make_store, shared_key


def test_dn_text_order_is_the_der_order():
    name = parse_dn("C=CA, ST=Ontario, O=Libreswan, OU=Test\\, Dept, CN=east, E=u@example.org")
    assert [a.oid for rdn in name.rdns for a in rdn][:2] == [NameOID.COUNTRY_NAME,
                                                           NameOID.STATE_OR_PROVINCE_NAME]
    assert format_dn(name) == ("C=CA, ST=Ontario, O=Libreswan, OU=Test\\, Dept, CN=east, "
                               "E=u@example.org")
    assert parse_name(name.public_bytes()) == name
    assert format_dn(parse_dn("/C=CA/O=Example/CN=x")) == "C=CA, O=Example, CN=x"


@pytest.mark.parametrize("text, message", [
    ("C=CA, Q=1", "unknown attribute 'Q'"),
    ("C=Canada", "C must be a two-letter country code"),
    ("C=CA, O=", "O has an empty value"),
    ('CN="open', "unbalanced quote"),
    ("C=CA, justtext", "'justtext' is not KEY=value"),
])
def test_bad_dns_are_refused(text, message):
    with pytest.raises(DnError, match=message):
        parse_dn(text)


@pytest.mark.parametrize("data", [b"", b"\x30", b"\x30\x05\x31\x03\x30\x01\x06",
                                  b"\x31\x00", b"\x30\x00\x00", b"\x30\x84\xff\xff\xff\xff"])
def test_bad_der_names_are_refused(data):
    with pytest.raises(DerError):
        parse_name(data)


def test_dn_identities():
    ident = parse_identity("C=XX, O=Test, CN=east, E=east@example.org")
    assert ident.type == IdType.ID_DER_ASN1_DN
    assert str(ident) == "C=XX, O=Test, CN=east, E=east@example.org"
    assert ident.matches(parse_identity("c=xx,o=TEST,  cn=East, e=east@example.org"))
    assert not ident.matches(parse_identity("C=XX, O=Test, CN=west, E=east@example.org"))
    assert not ident.matches(parse_identity("@east"))
    # Received from the wire: checked, and shown as a DN.
    received = Identity.from_payload(9, ident.data)
    assert str(received) == str(ident)
    with pytest.raises(IdentityError, match="ID_DER_ASN1_DN is not a DER-encoded name"):
        Identity.from_payload(9, b"\x30\x02\x31")
    fromcert = parse_identity("%fromcert")
    assert str(fromcert) == "%fromcert" and fromcert.matches(ident)
    with pytest.raises(IdentityError, match="unknown attribute 'ZZ'"):
        parse_identity("ZZ=1, CN=x")


def test_ids_against_a_certificate():
    key = shared_key("east", "ecdsa")
    cert = issue("C=XX, O=Test, CN=east", key,
                 sans=("@east.example", "east@example.org", "192.0.2.23", "2001:db8::23")).cert
    for text in ("C=XX, O=Test, CN=east", "@East.Example", "east@example.org", "192.0.2.23",
                 "2001:db8::23"):
        assert id_in_cert(parse_identity(text), cert), text
    for text in ("C=XX, O=Test, CN=west", "@west.example", "192.0.2.45", "@#0102"):
        assert not id_in_cert(parse_identity(text), cert), text


@pytest.fixture(scope="module")
def root():
    return issue("C=XX, O=Test, CN=Root", shared_key("root"), ca=True)


def test_not_a_ca_and_key_usage(tmp_path, root):
    store = CertStore(make_store(str(tmp_path), cas=(root,)))
    store.load()
    fake_ca = issue("C=XX, O=Test, CN=Fake CA", shared_key("inter", "ecdsa"), root, ca=False)
    end = issue("C=XX, O=Test, CN=east", shared_key("east", "ecdsa"), fake_ca)
    with pytest.raises(CertError, match="issuer 'C=XX, O=Test, CN=Fake CA' is not a CA"):
        validate_chain(end.cert, [fake_ca.cert], store, WALL)
    signing_only = issue("C=XX, O=Test, CN=east", shared_key("east", "ecdsa"), root,
                         key_usage=None)
    assert validate_chain(signing_only.cert, [], store, WALL)[-1] == root.cert
    not_yet = issue("C=XX, O=Test, CN=east", shared_key("east", "ecdsa"), root,
                    not_before=WALL + DAY)
    with pytest.raises(CertError, match="is not valid yet"):
        validate_chain(not_yet.cert, [], store, WALL)
    with pytest.raises(CertError, match=r"no trusted CA certificate \('C=XX, O=Nobody'\)"):
        validate_chain(end.cert, [], store, WALL, x509.Name(parse_dn("C=XX, O=Nobody")))


def test_ipsec_conf_certificate_keywords(tmp_path):
    from pluto.config.conn_to_description import checked_descriptions
    from pluto.config.ipsec_conf import load
    from pluto.config.lexer import ConfigError
    from pluto.config.setup import setup_of

    path = tmp_path / "ipsec.conf"
    path.write_text("config setup\n\tcertdir=/srv/certs\n\tcrl-strict=yes\n\n"
                    "conn c\n\tleft=192.0.2.45\n\tright=192.0.2.23\n\tleftcert=west\n"
                    "\tleftsendcert=always\n\trightca=\"C=XX, O=Test, CN=Root\"\n"
                    "\trightid=%fromcert\n")
    conf = load(str(path))
    args = setup_of(conf).arguments
    assert args[args.index("--certdir") + 1] == "/srv/certs" and "--crl-strict" in args
    [desc] = checked_descriptions(conf, "c")
    assert desc["left"]["cert"] == "west" and desc["left"]["sendcert"] == "always"
    assert desc["right"]["ca"] == "C=XX, O=Test, CN=Root"
    assert desc["right"]["id"] == "%fromcert"
    path.write_text("conn c\n\tleft=192.0.2.45\n\tright=192.0.2.23\n\tleftsendcert=often\n")
    with pytest.raises(ConfigError, match=r"ipsec.conf:4: conn c: leftsendcert=often: 'often' "
                                          "is not always, sendifasked or never"):
        checked_descriptions(load(str(path)), "c")


def test_pluto_options():
    from pluto.server.options import OptionsError, parse_options

    opts = parse_options(["--certdir", "/srv/certs", "--crl-strict"])
    assert (opts.certdir, opts.crl_strict) == ("/srv/certs", True)
    assert parse_options([]).certdir == "/etc/ipsec.d"
    with pytest.raises(OptionsError, match="--certdir: the path is empty"):
        parse_options(["--certdir="])


def test_revoked_intermediate_and_stale_crl_under_crl_strict(tmp_path, root):
    from tests.certs_helper import crl

    inter = issue("C=XX, O=Test, CN=Inter", shared_key("inter", "ecdsa"), root, ca=True)
    end = issue("C=XX, O=Test, CN=east", shared_key("east", "ecdsa"), inter)
    fresh_inter_crl = crl(inter)
    store = CertStore(make_store(str(tmp_path / "a"), cas=(root,),
                                 crls=(crl(root, (inter.cert,)), fresh_inter_crl)))
    store.load()
    with pytest.raises(CertError, match=r"certificate 'C=XX, O=Test, CN=Inter' \(serial .*\) "
                                        "is revoked by the CRL of 'C=XX, O=Test, CN=Root'"):
        validate_chain(end.cert, [inter.cert], store, WALL)
    stale = CertStore(make_store(str(tmp_path / "b"), cas=(root,),
                                 crls=(crl(root, next_update=WALL - DAY), fresh_inter_crl)),
                      crl_strict=True)
    stale.load()
    with pytest.raises(CertError, match="no current CRL from 'C=XX, O=Test, CN=Root' for "
                                        "certificate 'C=XX, O=Test, CN=Inter'"):
        validate_chain(end.cert, [inter.cert], stale, WALL)
    stale.crl_strict = False  # without crl-strict a stale CRL is still read
    assert validate_chain(end.cert, [inter.cert], stale, WALL) == [end.cert, inter.cert,
                                                                   root.cert]


def test_whack_certificate_options():
    from whack.options import WhackUsageError, parse_command_line

    command = parse_command_line(["--name", "c", "--host", "192.0.2.45", "--cert", "west",
                                  "--sendcert", "always", "--to", "--id", "%fromcert",
                                  "--ca", "C=XX, O=Test, CN=Root", "--host", "192.0.2.23",
                                  "--rsasig"])
    [add] = command.actions
    assert add["connection"]["left"] == {"host": "192.0.2.45", "cert": "west",
                                         "sendcert": "always"}
    assert add["connection"]["right"] == {"id": "%fromcert", "ca": "C=XX, O=Test, CN=Root",
                                          "host": "192.0.2.23"}
    assert parse_command_line(["--rereadall", "--listcrls"]).actions == [
        {"action": "rereadsecrets"}, {"action": "rereadcerts"}, {"action": "listcrls"}]
    with pytest.raises(WhackUsageError, match="--cert given twice"):
        parse_command_line(["--name", "c", "--host", "192.0.2.45", "--cert", "a", "--cert", "b"])
