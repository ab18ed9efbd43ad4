"""IKEv1 Main Mode with X.509 certificates (RFC 2409 §5.1, RFC 4945) between two in-process
cores: each side knows only its own certificate and the CA, the peer's arrives in a CERT
payload (encoding 4) beside SIG_I/SIG_R; CR payloads name the CA by its DER DN; the refusals:
a certificate from a CA we do not trust, an ID the certificate does not hold, and a signature
made with another key."""

from __future__ import annotations

import dataclasses

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from pluto.connections.ids import parse_identity
from pluto.ikev1.crypt import Phase1Crypto
from pluto.ikev1.states import IsakmpSa
from pluto.packet.ikev1 import (
    CertificatePayload,
    CertificateRequestPayload,
    IdentificationPayload,
    SignaturePayload,
    parse_message,
    parse_payloads,
)
from pluto.packet.ikev1_types import ExchangeType
from tests.certs_helper import issue, make_store, shared_key
from tests.inprocess.harness import Pair, connection

ID_DER_ASN1_DN = 9


@pytest.fixture(scope="module")
def pki():
    root = issue("C=XX, O=Test, CN=Test Root CA", shared_key("root"), ca=True)
    other = issue("C=XX, O=Other, CN=Other CA", shared_key("other"), ca=True)
    return {"root": root, "other": other}


def _end(pki, name: str, issuer: str = "root"):
    return issue(f"C=XX, O=Test, CN={name}", shared_key(name), pki[issuer],
                 sans=(f"@{name}.example",))


def _pair(tmp_path, pki, west, east) -> Pair:
    west_dir = make_store(str(tmp_path / "west"), cas=(pki["root"],), mine=("west", west))
    east_dir = make_store(str(tmp_path / "east"), cas=(pki["root"],), mine=("east", east))
    pair = Pair(west_secrets="", east_secrets="", west_options={"certdir": west_dir},
                east_options={"certdir": east_dir})
    for host in (pair.west, pair.east):
        host.core.options.ikev1_policy = "accept"
    return pair


def _conn(mine: str) -> dict:
    """Our certificate on our side; the peer's ID is whatever its certificate says."""
    desc = connection(auth="rsasig", keyingtries=1, ikev2=False)
    ours, theirs = ("left", "right") if mine == "west" else ("right", "left")
    desc[ours]["cert"] = mine
    desc[ours].pop("id")
    desc[theirs]["id"] = "%fromcert"
    return desc


def _run(pair: Pair):
    pair.add(west_desc=_conn("west"), east_desc=_conn("east"))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    return reply


def _main_mode_payloads(pair: Pair, sender) -> list[list]:
    """The decrypted payloads of the encrypted Main Mode messages ``sender`` sent (MI3/MR3),
    opened with the ISAKMP SA's own keys and IVs."""
    isakmp = next(s for s in sender.core.states if isinstance(s, IsakmpSa))
    crypto = Phase1Crypto(isakmp.chosen, isakmp.keys, isakmp.g_xi, isakmp.g_xr)
    found = []
    for datagram in pair.wire.sent:
        msg = parse_message(datagram.data)
        if msg.exchange != ExchangeType.MAIN or msg.encrypted is None:
            continue
        plain = crypto.decrypt(0, msg.encrypted.data)
        crypto.accept(0, msg.encrypted.data)
        if datagram.src == sender.endpoint:
            found.append(parse_payloads(plain, msg.encrypted.first_payload)[0])
    return found


def test_main_mode_with_certificates(tmp_path, pki):
    west, east = _end(pki, "west"), _end(pki, "east")
    pair = _pair(tmp_path, pki, west, east)
    reply = _run(pair)
    assert reply.finished == 0, reply.lines
    assert pair.west.lines_with("initiator established ISAKMP SA {auth=RSA_SIG")
    assert pair.east.lines_with("responder established ISAKMP SA {auth=RSA_SIG")
    assert pair.east.lines_with("authenticated peer using authby=rsasig and "
                                "'C=XX, O=Test, CN=west'")
    assert pair.west.lines_with("authenticated peer using authby=rsasig and "
                                "'C=XX, O=Test, CN=east'")
    assert len(pair.west.kernel.installed_sas()) == len(pair.east.kernel.installed_sas()) == 2
    # MR2 (clear) asks for a certificate from our root CA, by its DER subject
    mr2 = parse_message(pair.wire.sent[3].data)
    assert [(p.encoding, p.authority) for p in mr2.find(CertificateRequestPayload)] == [
        (4, pki["root"].subject.public_bytes())]
    # MI3: IDii (a DN), CERT (west's DER certificate), CR, SIG_I; MR3: IDir, CERT, SIG_R
    (mi3,) = _main_mode_payloads(pair, pair.west)
    assert [type(p) for p in mi3] == [IdentificationPayload, CertificatePayload,
                                      CertificateRequestPayload, SignaturePayload]
    assert (mi3[0].id_type, mi3[0].data) == (ID_DER_ASN1_DN, west.subject.public_bytes())
    assert (mi3[1].encoding, mi3[1].data) == (4, west.cert.public_bytes(Encoding.DER))
    (mr3,) = _main_mode_payloads(pair, pair.east)
    assert [type(p) for p in mr3] == [IdentificationPayload, CertificatePayload,
                                      SignaturePayload]
    assert mr3[1].data == east.cert.public_bytes(Encoding.DER)


def _refused(pair: Pair, text: str, notify: str) -> None:
    assert pair.east.lines_with(text), pair.east.lines_with("")
    assert pair.east.lines_with(f"sending notification {notify}")
    assert not [s for s in pair.east.core.states if s.kind.established]
    assert pair.east.kernel.installed_sas() == []


def test_certificate_from_another_ca_is_refused(tmp_path, pki):
    pair = _pair(tmp_path, pki, _end(pki, "west", issuer="other"), _end(pki, "east"))
    _run(pair)
    _refused(pair, "certificate of 'C=XX, O=Test, CN=west' refused: certificate 'C=XX, O=Test, "
                   "CN=west' issued by 'C=XX, O=Other, CN=Other CA' does not chain to a "
                   "trusted CA", "INVALID_CERTIFICATE")


def test_id_not_in_the_certificate_is_refused(tmp_path, pki):
    pair = _pair(tmp_path, pki, _end(pki, "west"), _end(pki, "east"))
    pair.add(west_desc=_conn("west"), east_desc=_conn("east"))
    # west claims an ID its certificate does not hold (its add refuses that, so the
    # connection is changed after it)
    conn = pair.west.core.connections.get("west-east")
    conn.left = dataclasses.replace(conn.left, id=parse_identity("@mallory.example"))
    pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    _refused(pair, "peer ID '@mallory.example' is neither the subject nor a subjectAltName of "
                   "its certificate 'C=XX, O=Test, CN=west'", "INVALID_ID_INFORMATION")


def test_signature_with_another_key_is_refused(tmp_path, pki):
    pair = _pair(tmp_path, pki, _end(pki, "west"), _end(pki, "east"))
    mallory = shared_key("mallory")
    pair.west.core.certs.private_key_for = lambda _cert: mallory
    _run(pair)
    _refused(pair, "RSA signature of 'C=XX, O=Test, CN=west' does not verify",
             "INVALID_KEY_INFORMATION")


def test_sendcert_never_leaves_the_peer_without_a_key(tmp_path, pki):
    pair = _pair(tmp_path, pki, _end(pki, "west"), _end(pki, "east"))
    west = _conn("west")
    west["left"]["sendcert"] = "never"
    pair.add(west_desc=west, east_desc=_conn("east"))
    pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    _refused(pair, "'C=XX, O=Test, CN=west' sent no certificate and none is configured",
             "INVALID_KEY_INFORMATION")


def test_an_ecdsa_certificate_is_refused_when_added(tmp_path, pki):
    west = issue("C=XX, O=Test, CN=west", shared_key("west", "ecdsa"), pki["root"])
    pair = _pair(tmp_path, pki, west, _end(pki, "east"))
    reply = pair.west.whack({"action": "add", "connection": _conn("west")})
    assert reply.finished not in (None, 0)
    assert "leftcert 'west' has no RSA key; IKEv1 signatures are RSA only" in reply.texts[-1]
