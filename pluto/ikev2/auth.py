"""AUTH payloads: shared keys (RFC 7296 §2.15) and signatures (RFC 7296 §3.8, RFC 7427).

    AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets> )
    SignedOctets = RealMessage | NonceData(peer) | prf(SK_px, IDx')

RealMessage is the first message the signer sent (its IKE_SA_INIT request or response, as
bytes on the wire), the nonce is the one the other end sent, SK_px is SK_pi for the initiator's
AUTH and SK_pr for the responder's, and IDx' is the ID payload body without its generic
header: ID type, three reserved octets, identification data.

A signature is over the same SignedOctets (:mod:`pluto.crypto.signatures`). :func:`make_auth`
and :func:`check_peer_auth` choose by the connection's authby: PSK, or RSA signatures with our
private key from the secrets and the peer's public key from its ``rsasigkey`` or ``--addkey``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pluto.connections.connection import AuthBy, Connection
from pluto.connections.ids import Identity
from pluto.crypto.constant_time import bytes_equal
from pluto.crypto.hostkey import parse_public_key
from pluto.crypto.prf import Prf
from pluto.crypto.registry import PrfAlgorithm
from pluto.crypto.signatures import SignatureError, sign_auth, verify_auth
from pluto.ikev2.announcements import OUR_HASH_ALGORITHMS
from pluto.packet.ikev2_payloads import IdPayload
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
              id_body: bytes) -> tuple[int, bytes]:
    """(auth method, AUTH data) for our ID payload body ``id_body``; ``peer`` is the peer's
    ID (the one it sent, or the one we expect). AuthError if our secret is missing."""
    me = conn.this.identity()
    if conn.policy.auth is AuthBy.PSK:
        psk = None if secrets is None else secrets.psk_for(me, peer)
        if psk is None:
            raise AuthError(f"authentication failed: no PSK for '{me}' and '{peer}'")
        return AuthMethod.SHARED_KEY_MIC, psk_auth(prf_alg, psk, message_octets, peer_nonce,
                                                   sk_p, id_body)
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
                    id_body: bytes) -> str:
    """Verify the peer's AUTH; returns how it was authenticated (for the log line), raises
    AuthError saying why not. For the arguments see :func:`verify_psk_auth`."""
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
    key = peer_public_key(conn, peer, known)
    if key is None:
        raise AuthError(f"authentication failed: no public key known for '{peer}'")
    octets = signed_octets(prf_alg, message_octets, our_nonce, sk_p, id_body)
    try:
        name = verify_auth(key, method, data, octets, OUR_HASH_ALGORITHMS)
    except SignatureError as err:
        raise AuthError(f"authentication failed: the AUTH payload from '{peer}': {err}"
                        ) from None
    return f"{name} signature and {kind} '{peer}'"


def _method_name(method: int) -> str:
    try:
        return AuthMethod(method).name
    except ValueError:
        return str(method)
