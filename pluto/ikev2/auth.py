"""Shared-key AUTH payloads (RFC 7296 §2.15).

    AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets> )
    SignedOctets = RealMessage | NonceData(peer) | prf(SK_px, IDx')

RealMessage is the first message the signer sent (its IKE_SA_INIT request or response, as
bytes on the wire), the nonce is the one the other end sent, SK_px is SK_pi for the initiator's
AUTH and SK_pr for the responder's, and IDx' is the ID payload body without its generic
header: ID type, three reserved octets, identification data.
"""

from __future__ import annotations

from pluto.crypto.constant_time import bytes_equal
from pluto.crypto.prf import Prf
from pluto.crypto.registry import PrfAlgorithm
from pluto.packet.ikev2_payloads import IdPayload

KEY_PAD = b"Key Pad for IKEv2"


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
