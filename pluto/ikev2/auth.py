"""AUTH payloads: shared keys (RFC 7296 §2.15) and signatures (RFC 7296 §3.8, RFC 7427).

    AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets> )
    SignedOctets = RealMessage | NonceData(peer) | prf(SK_px, IDx')

RealMessage is the first message the signer sent (its IKE_SA_INIT request or response, as
bytes on the wire), the nonce is the one the other end sent, SK_px is SK_pi for the initiator's
AUTH and SK_pr for the responder's, and IDx' is the ID payload body without its generic
header: ID type, three reserved octets, identification data.

A signature is over the same SignedOctets (:mod:`pluto.crypto.signatures`). :func:`make_auth`
and :func:`check_peer_auth` choose by the connection's authby: PSK, or signatures with our
private key from the secrets and the peer's public key from its ``rsasigkey`` or ``--addkey``
- or, with certificates (pluto/certs), our ``leftcert``'s key from the certificate store and
the key of the peer's certificate once its chain, revocation and ID have been checked. With
certificates the key type is the certificate's: RSA, ECDSA or Ed25519, whatever authby says
about RSA (libreswan's default authby=rsasig,ecdsa).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from pluto.certs.config import ca_name
from pluto.certs.payloads import cert_payloads, certreq_payload
from pluto.certs.store import CertStore
from pluto.certs.validate import CertError, id_in_cert, validate_chain, wall_time
from pluto.connections.connection import AuthBy, Connection
from pluto.connections.ids import Identity
from pluto.crypto.constant_time import bytes_equal
from pluto.crypto.hostkey import parse_public_key
from pluto.crypto.prf import Prf
from pluto.crypto.registry import PrfAlgorithm
from pluto.crypto.signatures import SignatureError, sign_auth, verify_auth
from pluto.ikev2 import announcements
from pluto.packet.ikev2_payloads import CertPayload, CertReqPayload, IdPayload
from pluto.packet.ikev2_types import AuthMethod

KEY_PAD = b"Key Pad for IKEv2"

PublicKeyLookup = Callable[[Identity], Any]  # a peer ID -> its public key (or None)


def _implementation(prf_alg: PrfAlgorithm | Prf) -> Prf:
    return prf_alg.implementation() if isinstance(prf_alg, PrfAlgorithm) else prf_alg


def id_payload_body(payload: IdPayload) -> bytes:
    """IDx' of §2.15: ID type | the three reserved octets as sent | identification data."""
    return bytes([payload.id_type]) + payload.reserved + payload.data


def signed_octets(prf_alg: PrfAlgorithm | Prf, message_octets: bytes, peer_nonce: bytes,
                  sk_p: bytes, id_payload_body: bytes) -> bytes:
    """<SignedOctets>: what a signature or the PSK AUTH covers."""
    prf = _implementation(prf_alg)
    return message_octets + peer_nonce + prf(sk_p, id_payload_body)


def psk_auth(prf_alg: PrfAlgorithm | Prf, psk: bytes, message_octets: bytes,
             peer_nonce: bytes, sk_p: bytes, id_payload_body: bytes) -> bytes:
    """The AUTH data for the shared key ``psk`` (the negotiated PRF; any PSK length)."""
    prf = _implementation(prf_alg)
    octets = signed_octets(prf, message_octets, peer_nonce, sk_p, id_payload_body)
    return prf(prf(psk, KEY_PAD), octets)


def verify_psk_auth(prf_alg: PrfAlgorithm | Prf, psk: bytes, message_octets: bytes,
                    peer_nonce: bytes, sk_p: bytes, id_payload_body: bytes,
                    received: bytes) -> bool:
    """Whether ``received`` is the peer's correct AUTH; constant time in its contents.

    For the peer's AUTH pass the peer's first message, OUR nonce, the peer's SK_p and the
    peer's ID payload body.
    """
    expected = psk_auth(prf_alg, psk, message_octets, peer_nonce, sk_p, id_payload_body)
    return bytes_equal(expected, received)


# --- choosing and checking the AUTH payload (PSK or signatures, RFC 7296 §2.15, RFC 7427) --


class AuthError(Exception):
    """Our AUTH cannot be made, or the peer's does not verify; the message is the log line."""


def private_key_for(secrets: Any, conn: Connection) -> Any | None:
    """Our private key for ``conn``: the secrets' RSA key whose public half is our end's
    ``rsasigkey`` when one is configured, else the RSA key for our ID."""
    if secrets is None:
        return None
    if conn.this.rsasigkey is not None and not conn.this.rsasigkey.startswith("%"):
        wanted = parse_public_key(conn.this.rsasigkey)
        for entry in secrets.rsa_keys:
            if entry.key is not None and _same_key(entry.key.public_key(), wanted):
                return entry.key
        return None
    entry = secrets.rsa_key_for(conn.this.identity())
    return None if entry is None else entry.key


def _same_key(one: Any, other: Any) -> bool:
    return type(one) is type(other) and one.public_numbers() == other.public_numbers()


def peer_public_key(conn: Connection, peer: Identity, known: PublicKeyLookup | None) -> Any:
    """The peer's public key: its end's ``rsasigkey``, else one added for its ID (whack
    --addkey); None when neither is there."""
    if conn.that.rsasigkey is not None and not conn.that.rsasigkey.startswith("%"):
        return parse_public_key(conn.that.rsasigkey)
    return None if known is None else known(peer)


def make_auth(conn: Connection, secrets: Any, peer: Identity | None,
              peer_hashes: tuple[int, ...], *, prf_alg: PrfAlgorithm | Prf,
              message_octets: bytes, peer_nonce: bytes, sk_p: bytes,
              id_body: bytes, store: CertStore | None = None) -> tuple[int, bytes]:
    """(auth method, AUTH data) for our ID payload body ``id_body``; ``peer`` is the peer's
    ID (the one it sent, or the one we expect). AuthError if our secret is missing.
    ``store``: the certificate store, for ``leftcert``'s private key."""
    me = conn.this.identity()
    if conn.policy.auth is AuthBy.PSK:
        psk = None if secrets is None else secrets.psk_for(me, peer)
        if psk is None:
            raise AuthError(f"authentication failed: no PSK for '{me}' and '{peer}'")
        return AuthMethod.SHARED_KEY_MIC, psk_auth(prf_alg, psk, message_octets, peer_nonce,
                                                   sk_p, id_body)
    if conn.this.cert is not None:
        key = _cert_private_key(conn, store)
    else:
        key = private_key_for(secrets, conn)
    if key is None:
        raise AuthError(f"authentication failed: no RSA private key for '{me}' in the "
                        "secrets")
    octets = signed_octets(prf_alg, message_octets, peer_nonce, sk_p, id_body)
    try:
        method, data, _name = sign_auth(key, octets, peer_hashes)
    except SignatureError as err:
        raise AuthError(f"authentication failed: {err}") from None
    return method, data


def check_peer_auth(conn: Connection, secrets: Any, peer: Identity, method: int, data: bytes,
                    known: PublicKeyLookup | None, *, prf_alg: PrfAlgorithm | Prf,
                    message_octets: bytes, our_nonce: bytes, sk_p: bytes,
                    id_body: bytes, certs: PeerCerts | None = None) -> str:
    """Verify the peer's AUTH; returns how it was authenticated (for the log line), raises
    AuthError saying why not. For the arguments see :func:`verify_psk_auth`; ``certs``: the
    certificates the peer sent and the store to check them with."""
    kind = peer.type.name if peer.type is not None else "ID_NONE"
    if conn.policy.auth is AuthBy.PSK:
        psk = None if secrets is None else secrets.psk_for(conn.this.identity(), peer)
        if psk is None:
            raise AuthError(f"authentication failed: no PSK for '{conn.this.identity()}' and "
                            f"'{peer}'")
        if method != AuthMethod.SHARED_KEY_MIC or not verify_psk_auth(
                prf_alg, psk, message_octets, our_nonce, sk_p, id_body, data):
            raise AuthError(f"authentication failed: the AUTH payload from '{peer}' does not "
                            "verify with our PSK")
        return f"authby=secret and {kind} '{peer}'"
    if method not in (AuthMethod.RSA_SIG, AuthMethod.DIGITAL_SIGNATURE):
        raise AuthError(f"authentication failed: '{peer}' used auth method "
                        f"{_method_name(method)} but the connection requires RSA signatures")
    if uses_certificates(conn, certs):
        assert certs is not None
        key = peer_certificate_key(conn, peer, certs)
    else:
        key = peer_public_key(conn, peer, known)
    if key is None:
        raise AuthError(f"authentication failed: no public key known for '{peer}'")
    octets = signed_octets(prf_alg, message_octets, our_nonce, sk_p, id_body)
    try:
        name = verify_auth(key, method, data, octets,
                           announcements.OUR_HASH_ALGORITHMS)
    except SignatureError as err:
        raise AuthError(f"authentication failed: the AUTH payload from '{peer}': {err}"
                        ) from None
    return f"{name} signature and {kind} '{peer}'"


def _method_name(method: int) -> str:
    try:
        return AuthMethod(method).name
    except ValueError:
        return str(method)


# --- certificates (pluto/certs) --------------------------------------------------------------


@dataclass
class PeerCerts:
    """What checking the peer's certificate needs: the store, the time (the core's wall
    clock, seconds) and the certificates of the peer's CERT payloads (end certificate first)."""

    store: CertStore
    now: float
    sent: list[x509.Certificate] = field(default_factory=list)


def _raw_key_configured(conn: Connection) -> bool:
    key = conn.that.rsasigkey
    return key is not None and not key.startswith("%")


def uses_certificates(conn: Connection, certs: PeerCerts | None) -> bool:
    """The peer proves itself with a certificate: it sent one, or certificates are
    configured (a leftcert/rightcert, rightca), and no raw rightrsasigkey says otherwise."""
    if certs is None or _raw_key_configured(conn):
        return False
    return bool(certs.sent) or conn.that.cert is not None or conn.that.ca is not None \
        or conn.this.cert is not None


def _cert_private_key(conn: Connection, store: CertStore | None) -> Any:
    stored = None if store is None else store.find(conn.this.cert or "")
    if stored is None:
        raise AuthError(f"authentication failed: certificate '{conn.this.cert}' is not in the "
                        "certificate store")
    key = store.private_key_for(stored.cert) if store is not None else None
    if key is None:
        raise AuthError(f"authentication failed: no private key for certificate "
                        f"'{conn.this.cert}' ('{stored.subject}')")
    return key


def peer_certificate_key(conn: Connection, peer: Identity, certs: PeerCerts) -> Any:
    """The public key of the peer's certificate once its chain leads to a CA we trust (the
    connection's rightca when set), it is not revoked, and it vouches for ``peer``."""
    end = certs.sent[0] if certs.sent else None
    if end is None and conn.that.cert is not None:
        stored = certs.store.find(conn.that.cert)
        end = None if stored is None else stored.cert
    if end is None:
        raise AuthError(f"authentication failed: '{peer}' sent no certificate")
    try:
        validate_chain(end, certs.sent[1:], certs.store, wall_time(certs.now),
                       ca_name(conn.that.ca, conn.this.ca))
    except CertError as err:
        raise AuthError(f"authentication failed: {err}") from None
    if not id_in_cert(peer, end):
        from pluto.certs.dn import format_dn

        raise AuthError(f"authentication failed: peer ID '{peer}' is neither the subject nor "
                        f"a subjectAltName of its certificate '{format_dn(end.subject)}'")
    return end.public_key()


def our_cert_payloads(conn: Connection, store: CertStore | None,
                      certreqs: list[bytes]) -> list[CertPayload]:
    """CERT payloads for our leftcert and its intermediates, as leftsendcert says:
    always, never, or (sendifasked) when the peer sent a CERTREQ."""
    if conn.this.cert is None or store is None or conn.policy.auth is AuthBy.PSK:
        return []
    if conn.this.sendcert == "never" or (conn.this.sendcert == "sendifasked"
                                         and not certreqs):
        return []
    stored = store.find(conn.this.cert)
    if stored is None:
        return []
    return cert_payloads(stored.cert, store.chain_for(stored.cert))


def our_cert_request(conn: Connection, store: CertStore | None) -> list[CertReqPayload]:
    """A CERTREQ naming the CAs the peer's certificate may chain to (rightca, else all our
    trust anchors); none for PSK or a raw rightrsasigkey, or without CA certificates."""
    if store is None or conn.policy.auth is AuthBy.PSK or _raw_key_configured(conn):
        return []
    try:
        ca = ca_name(conn.that.ca, conn.this.ca)
    except ValueError:
        ca = None
    payload = certreq_payload(store.anchors(ca))
    return [] if payload is None else [payload]
