"""IKE_AUTH with X.509 certificates between two in-process cores: RSA, ECDSA P-256 and
Ed25519 end certificates, an intermediate CA, CERT/CERTREQ on the wire, and the refusals:
bad signature, wrong CA, expired, ID not in the certificate, revoked, crl-strict."""

from __future__ import annotations

import dataclasses
import hashlib
import os

import pytest
from cryptography.hazmat.primitives import serialization

from pluto.connections.ids import parse_identity
from pluto.packet.ikev2 import CertReqPayload, parse_message
from tests.certs_helper import DAY, WALL, crl, issue, make_store, shared_key
from tests.inprocess.harness import Pair, connection

AUTHENTICATED = "authenticated peer using"


@pytest.fixture(scope="module")
def pki():
    root = issue("C=XX, O=Test, CN=Test Root CA", shared_key("root"), ca=True)
    other = issue("C=XX, O=Other, CN=Other CA", shared_key("other"), ca=True)
    inter = issue("C=XX, O=Test, CN=Test Intermediate", shared_key("inter", "ecdsa"), root,
                  ca=True)
    return {"root": root, "other": other, "inter": inter}


def _end(pki, name: str, kind: str = "rsa", issuer: str = "root", **kw):
    return issue(f"C=XX, O=Test, CN={name}", shared_key(name, kind), pki[issuer],
                 sans=(f"@{name}.example", "127.0.0.1" if name == "west" else "127.0.0.2"),
                 **kw)


def _pair(tmp_path, pki, west, east, *, west_store=None, east_store=None,
          east_options=None) -> Pair:
    west_dir = west_store or make_store(str(tmp_path / "west"), cas=(pki["root"],),
                                        mine=("west", west))
    east_dir = east_store or make_store(str(tmp_path / "east"), cas=(pki["root"],),
                                        mine=("east", east))
    return Pair(west_secrets="", east_secrets="", west_options={"certdir": west_dir},
                east_options={"certdir": east_dir, **(east_options or {})})


def _conn(**extra) -> dict:
    desc = connection(auth="rsasig", keyingtries=1)
    desc["left"] = {"host": "127.0.0.1", "client": "198.18.1.0/24", "cert": "west"}
    desc["right"] = {"host": "127.0.0.2", "client": "198.18.2.0/24", "cert": "east"}
    for side in ("left", "right"):
        desc[side].update(extra.pop(side, {}))
    desc.update(extra)
    return desc


def _peer_conn(**extra) -> dict:
    """The other host's view: it knows only its own certificate (the peer's comes by CERT)."""
    desc = _conn(**extra)
    return desc


def _establish(pair: Pair, west_desc: dict, east_desc: dict):
    pair.add(west_desc=west_desc, east_desc=east_desc)
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    return reply


def _without(desc: dict, side: str, key: str) -> dict:
    """Drop the peer's certificate from a description: its ID is then %fromcert (what its
    certificate says) unless the test gave one."""
    desc[side].pop(key, None)
    desc[side].setdefault("id", "%fromcert")
    return desc


def _established(host) -> list[str]:
    return [s.kind.name for s in host.core.states if s.kind.established]


@pytest.mark.parametrize("kind, scheme", [("rsa", "rsa-pss-sha2_512"),
                                          ("ecdsa", "ecdsa-sha2_256"),
                                          ("ed25519", "ed25519")])
def test_certificates_establish(tmp_path, pki, kind, scheme):
    # Ed25519 works only because both announce the "Identity" hash (5) of RFC 8420
    west, east = _end(pki, "west", kind), _end(pki, "east", kind)
    pair = _pair(tmp_path, pki, west, east)
    # Each side knows only its own certificate: the peer's arrives in CERT payloads.
    reply = _establish(pair, _without(_conn(), "right", "cert"),
                       _without(_conn(), "left", "cert"))
    assert reply.finished == 0, reply.lines
    assert pair.west.lines_with(f"initiator established IKE SA; {AUTHENTICATED} {scheme} "
                                "signature and ID_DER_ASN1_DN 'C=XX, O=Test, CN=east'")
    assert pair.east.lines_with(f"responder established IKE SA; {AUTHENTICATED} {scheme} "
                                "signature and ID_DER_ASN1_DN 'C=XX, O=Test, CN=west'")
    assert _established(pair.west) == _established(pair.east) == [
        "STATE_V2_ESTABLISHED_IKE_SA", "STATE_V2_ESTABLISHED_CHILD_SA"]


def test_responder_sends_certreq_with_the_sha1_of_the_ca_key(tmp_path, pki):
    pair = _pair(tmp_path, pki, _end(pki, "west"), _end(pki, "east"))
    pair.add(west_desc=_without(_conn(), "right", "cert"),
             east_desc=_without(_conn(), "left", "cert"))
    pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.wire.deliver(pair.wire.queue.popleft())  # IKE_SA_INIT request to east
    response = parse_message(pair.wire.queue[0].data)
    spki = pki["root"].cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert [(p.encoding, p.data) for p in response.all(CertReqPayload)] == [
        (4, hashlib.sha1(spki).digest())]


def test_intermediate_ca_is_sent_with_the_certificate(tmp_path, pki):
    west = _end(pki, "west", "ecdsa", issuer="inter")
    west_dir = make_store(str(tmp_path / "west"), cas=(pki["root"],), mine=("west", west),
                          chain=(pki["inter"],))
    pair = _pair(tmp_path, pki, west, _end(pki, "east"), west_store=west_dir)
    reply = _establish(pair, _without(_conn(), "right", "cert"),
                       _without(_conn(), "left", "cert"))
    assert reply.finished == 0, reply.lines
    assert pair.east.lines_with("responder established IKE SA; authenticated peer using "
                                "ecdsa-sha2_256 signature and ID_DER_ASN1_DN "
                                "'C=XX, O=Test, CN=west'")


def test_ids_from_subject_alt_names_and_dn_written_differently(tmp_path, pki):
    pair = _pair(tmp_path, pki, _end(pki, "west"), _end(pki, "east"))
    west_desc = _without(_conn(left={"id": "@west.example"},
                               right={"id": "c=xx,  o=TEST, cn=east"}), "right", "cert")
    east_desc = _without(_conn(left={"id": "@west.example"}), "left", "cert")
    reply = _establish(pair, west_desc, east_desc)
    assert reply.finished == 0, reply.lines
    assert pair.east.lines_with("signature and ID_FQDN '@west.example'")


def _refused(pair: Pair, text: str) -> None:
    assert pair.east.lines_with(f"authentication failed: {text}; responding with "
                                "AUTHENTICATION_FAILED"), pair.east.log
    assert _established(pair.east) == []
    assert pair.west.lines_with("AUTHENTICATION_FAILED")


def test_bad_signature_is_refused(tmp_path, pki):
    west = _end(pki, "west")
    pair = _pair(tmp_path, pki, west, _end(pki, "east"))
    # west signs with a key that is not its certificate's.
    mallory = shared_key("mallory")
    pair.west.core.certs.private_key_for = lambda _cert: mallory
    _establish(pair, _without(_conn(), "right", "cert"), _without(_conn(), "left", "cert"))
    _refused(pair, "the AUTH payload from 'C=XX, O=Test, CN=west': rsa-pss-sha2_512 signature "
                   "does not verify with the peer's key")


def test_certificate_from_another_ca_is_refused(tmp_path, pki):
    west = _end(pki, "west", issuer="other")
    pair = _pair(tmp_path, pki, west, _end(pki, "east"))
    _establish(pair, _without(_conn(), "right", "cert"), _without(_conn(), "left", "cert"))
    _refused(pair, "certificate 'C=XX, O=Test, CN=west' issued by 'C=XX, O=Other, CN=Other CA' "
                   "does not chain to a trusted CA")


def test_rightca_restricts_the_trusted_ca(tmp_path, pki):
    east_dir = make_store(str(tmp_path / "east"), cas=(pki["root"], pki["other"]),
                          mine=("east", _end(pki, "east")))
    pair = _pair(tmp_path, pki, _end(pki, "west"), None, east_store=east_dir)
    east_desc = _without(_conn(left={"ca": "C=XX, O=Other, CN=Other CA"}), "left", "cert")
    _establish(pair, _without(_conn(), "right", "cert"), east_desc)
    _refused(pair, "certificate 'C=XX, O=Test, CN=west' issued by 'C=XX, O=Test, CN=Test Root "
                   "CA' does not chain to 'C=XX, O=Other, CN=Other CA'")


def test_expired_certificate_is_refused(tmp_path, pki):
    west = _end(pki, "west", not_after=WALL + DAY)
    pair = _pair(tmp_path, pki, west, _end(pki, "east"))
    pair.add(west_desc=_without(_conn(), "right", "cert"),
             east_desc=_without(_conn(), "left", "cert"))
    pair.advance(2 * 86400)  # the fake clock moves past notAfter
    pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    expiry = f"{west.cert.not_valid_after_utc:%Y-%m-%d %H:%M:%S}"
    _refused(pair, f"certificate 'C=XX, O=Test, CN=west' has expired (notAfter {expiry} UTC)")


def test_id_not_in_the_certificate_is_refused(tmp_path, pki):
    pair = _pair(tmp_path, pki, _end(pki, "west"), _end(pki, "east"))
    pair.add(west_desc=_without(_conn(), "right", "cert"),
             east_desc=_without(_conn(), "left", "cert"))
    # A peer claiming an ID its certificate does not hold (west's add refuses that, so the
    # connection is changed after it).
    conn = pair.west.core.connections.get("west-east")
    conn.left = dataclasses.replace(conn.left, id=parse_identity("@mallory.example"))
    pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    _refused(pair, "peer ID '@mallory.example' is neither the subject nor a subjectAltName of "
                   "its certificate 'C=XX, O=Test, CN=west'")


def test_revoked_certificate_is_refused(tmp_path, pki):
    west = _end(pki, "west", serial=0x5EC12E7)
    east_dir = make_store(str(tmp_path / "east"), cas=(pki["root"],),
                          mine=("east", _end(pki, "east")),
                          crls=(crl(pki["root"], (west.cert,)),))
    pair = _pair(tmp_path, pki, west, None, east_store=east_dir)
    _establish(pair, _without(_conn(), "right", "cert"), _without(_conn(), "left", "cert"))
    _refused(pair, "certificate 'C=XX, O=Test, CN=west' (serial 0x5ec12e7) is revoked by the "
                   "CRL of 'C=XX, O=Test, CN=Test Root CA'")


@pytest.mark.parametrize("with_crl", [False, True])
def test_crl_strict(tmp_path, pki, with_crl):
    west = _end(pki, "west")
    crls = (crl(pki["root"]),) if with_crl else ()
    east_dir = make_store(str(tmp_path / "east"), cas=(pki["root"],),
                          mine=("east", _end(pki, "east")), crls=crls)
    pair = _pair(tmp_path, pki, west, None, east_store=east_dir,
                 east_options={"crl_strict": True})
    reply = _establish(pair, _without(_conn(), "right", "cert"),
                       _without(_conn(), "left", "cert"))
    if with_crl:
        assert reply.finished == 0, reply.lines
    else:
        _refused(pair, "no current CRL from 'C=XX, O=Test, CN=Test Root CA' for certificate "
                       "'C=XX, O=Test, CN=west' and crl-strict=yes")


def test_sendcert_never_leaves_the_peer_without_a_certificate(tmp_path, pki):
    pair = _pair(tmp_path, pki, _end(pki, "west"), _end(pki, "east"))
    west_desc = _without(_conn(left={"sendcert": "never"}), "right", "cert")
    _establish(pair, west_desc, _without(_conn(), "left", "cert"))
    _refused(pair, "'C=XX, O=Test, CN=west' sent no certificate")


def test_add_refuses_unknown_certificates_and_ids_outside_them(tmp_path, pki):
    pair = _pair(tmp_path, pki, _end(pki, "west"), _end(pki, "east"))
    reply = pair.west.whack({"action": "add", "connection": _conn(left={"cert": "nobody"})})
    assert reply.texts[-1] == (f'"west-east": leftcert: no certificate \'nobody\' in the '
                               f'certificate store "{os.path.join(tmp_path, "west")}"')
    reply = pair.west.whack({"action": "add", "connection": _conn(left={"id": "@x.example"})})
    assert reply.texts[-1] == ("\"west-east\": leftid '@x.example' is neither the subject nor "
                               "a subjectAltName of leftcert 'west' ('C=XX, O=Test, CN=west')")
    reply = pair.west.whack({"action": "add", "connection": _conn(left={"sendcert": "maybe"})})
    assert reply.texts[-1] == ("\"west-east\": leftsendcert: 'maybe' is not always, "
                               "sendifasked or never")
    reply = pair.west.whack({"action": "add", "connection": _conn(right={"ca": "X=1"})})
    assert "rightca: DN 'X=1': unknown attribute 'X'" in reply.texts[-1]
