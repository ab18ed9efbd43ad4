"""Phase 1 authentication (RFC 2409 §5.1, §5.4): which method a connection uses, SKEYID for
it, and our proof (HASH_I/HASH_R, or SIG_I/SIG_R) and the check of the peer's.

With RSA signatures SKEYID = prf(Ni_b | Nr_b, g^xy) and the proof is HASH_I/HASH_R signed
with the private key. IKEv1 peers (libreswan, strongSwan, racoon) sign the bare hash with
PKCS #1 v1.5 type 1 padding and no DigestInfo (strongSwan calls it EMSA_PKCS1_NULL), which
`cryptography` cannot produce, so the RSA operation is done here, with blinding so the
time the private exponent takes does not depend on the message.

With certificates (pluto/ikev1/certs.py) our key is leftcert's, and the peer's key is that of
the certificate it sent (or rightcert) once the chain, revocation and its ID have been checked.
"""

from __future__ import annotations

import secrets as _secrets
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from pluto.connections.connection import AuthBy, Connection
from pluto.connections.ids import Identity
from pluto.crypto.constant_time import bytes_equal
from pluto.crypto.kdf_ikev1 import skeyid_psk, skeyid_signature
from pluto.crypto.prf import Prf
from pluto.ikev1 import certs as v1certs
from pluto.ikev1.sa import XAUTH_METHODS
from pluto.ikev2.auth import peer_public_key, private_key_for
from pluto.packet.ikev1 import HashPayload, Payload, SignaturePayload
from pluto.packet.ikev1_types import NotifyType, OakleyAuthMethod


def method_for(conn: Connection) -> OakleyAuthMethod:
    """The Oakley authentication method that ``authby=`` asks for."""
    if conn.policy.auth is AuthBy.RSASIG:
        return OakleyAuthMethod.RSA_SIG
    return OakleyAuthMethod.PRESHARED_KEY


def wire_method_for(conn: Connection, initiator: bool) -> int:
    """The method to put in our Main Mode SA: ``method_for`` or, when the connection has an
    XAUTH client and server, its XAUTH variant (strongSwan and libreswan servers require it)."""
    base = method_for(conn)
    this, that = conn.this.v1cfg, conn.that.v1cfg
    if this.xauthclient or that.xauthserver:
        client_initiates = initiator
    elif this.xauthserver or that.xauthclient:
        client_initiates = not initiator
    else:
        return base
    return XAUTH_METHODS[(base, client_initiates)]


def authby_name(method: int) -> str:
    """libreswan's log spelling of the method."""
    return "RSA_SIG" if method == OakleyAuthMethod.RSA_SIG else "PRESHARED_KEY"


def skeyid(prf: Prf, method: int, psk: bytes | None, ni: bytes, nr: bytes,
           g_xy: bytes) -> bytes:
    if method == OakleyAuthMethod.RSA_SIG:
        return skeyid_signature(prf, ni, nr, g_xy)
    assert psk is not None
    return skeyid_psk(prf, psk, ni, nr)


# --- PKCS #1 v1.5 type 1 over a bare hash ---------------------------------------------------


def _encoded(hash_value: bytes, size: int) -> bytes | None:
    if len(hash_value) > size - 11:
        return None
    return b"\x00\x01" + b"\xff" * (size - 3 - len(hash_value)) + b"\x00" + hash_value


def rsa_sign_hash(key: rsa.RSAPrivateKey, hash_value: bytes) -> bytes:
    numbers = key.private_numbers()
    n, e, d = numbers.public_numbers.n, numbers.public_numbers.e, numbers.d
    size = (n.bit_length() + 7) // 8
    block = _encoded(hash_value, size)
    if block is None:
        raise ValueError(f"a {len(hash_value)}-byte hash does not fit a {size * 8}-bit key")
    while True:  # blinding: sign m * r^e, then divide by r
        r = _secrets.randbelow(n - 2) + 2
        try:
            r_inverse = pow(r, -1, n)
        except ValueError:
            continue
        break
    blinded = (int.from_bytes(block, "big") * pow(r, e, n)) % n
    return ((pow(blinded, d, n) * r_inverse) % n).to_bytes(size, "big")


def rsa_verify_hash(key: Any, hash_value: bytes, signature: bytes) -> bool:
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    numbers = key.public_numbers()
    size = (numbers.n.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    value = int.from_bytes(signature, "big")
    if value >= numbers.n:
        return False
    expected = _encoded(hash_value, size)
    if expected is None:
        return False
    return bytes_equal(pow(value, numbers.e, numbers.n).to_bytes(size, "big"), expected)


# --- our proof and the peer's ---------------------------------------------------------------


class Phase1AuthError(Exception):
    """Our proof cannot be made or the peer's does not hold; carries the notify to send."""

    def __init__(self, reason: str, notify: int) -> None:
        super().__init__(reason)
        self.notify = notify


def our_proof(core: Any, conn: Connection, method: int, hash_value: bytes) -> Payload:
    """HASH_I/HASH_R itself, or signed (SIG_I/SIG_R) with our private key."""
    if method != OakleyAuthMethod.RSA_SIG:
        return HashPayload(hash_value)
    if conn.this.cert is not None:
        try:
            key = v1certs.our_private_key(core, conn)
        except v1certs.BadCertificate as err:
            raise Phase1AuthError(str(err), NotifyType.INVALID_KEY_INFORMATION) from None
    else:
        key = private_key_for(core.secrets, conn)
    if key is None or not isinstance(key, rsa.RSAPrivateKey):
        raise Phase1AuthError(f"no RSA private key for '{conn.this.identity()}' in the secrets",
                              NotifyType.INVALID_KEY_INFORMATION)
    try:
        return SignaturePayload(rsa_sign_hash(key, hash_value))
    except ValueError as err:
        raise Phase1AuthError(f"cannot sign with our RSA key: {err}",
                              NotifyType.INVALID_KEY_INFORMATION) from None


@dataclass(frozen=True)
class Proof:
    method: int
    data: bytes


def find_proof(method: int, payloads: list[Payload]) -> Proof | None:
    cls = SignaturePayload if method == OakleyAuthMethod.RSA_SIG else HashPayload
    found = next((p for p in payloads if isinstance(p, cls)), None)
    return None if found is None else Proof(method, found.data)


def check_proof(core: Any, conn: Connection, peer: Identity, proof: Proof,
                hash_value: bytes, sent_certs: list | None = None) -> None:
    """Raise Phase1AuthError unless ``proof`` is the peer's HASH or signature over it.
    ``sent_certs``: the certificates of the peer's CERT payloads, end certificate first."""
    if proof.method != OakleyAuthMethod.RSA_SIG:
        if not bytes_equal(proof.data, hash_value):
            raise Phase1AuthError("received Hash Payload does not match computed value",
                                  NotifyType.INVALID_HASH_INFORMATION)
        return
    from pluto.certs.pubkeys import store_of

    if sent_certs or v1certs.uses_certificates(conn):
        key = _certificate_key(core, conn, peer, sent_certs or [])
    else:
        key = peer_public_key(conn, peer, store_of(core).find)
    if key is None:
        raise Phase1AuthError(f"no RSA public key known for '{peer}'",
                              NotifyType.INVALID_KEY_INFORMATION)
    if not rsa_verify_hash(key, hash_value, proof.data):
        raise Phase1AuthError(f"RSA signature of '{peer}' does not verify with its public "
                              "key (wrong key?)", NotifyType.INVALID_KEY_INFORMATION)


def _certificate_key(core: Any, conn: Connection, peer: Identity, sent: list) -> Any:
    """The key of the peer's certificate (the one it sent, else rightcert) once it chains to
    a CA we trust (rightca when set), is not revoked and vouches for ``peer``."""
    from pluto.certs.config import ca_name
    from pluto.certs.dn import format_dn
    from pluto.certs.validate import CertError, id_in_cert, validate_chain, wall_time

    store = getattr(core, "certs", None)
    end = sent[0] if sent else None
    if end is None and store is not None and conn.that.cert is not None:
        stored = store.find(conn.that.cert)
        end = None if stored is None else stored.cert
    if end is None or store is None:
        raise Phase1AuthError(f"'{peer}' sent no certificate and none is configured",
                              NotifyType.INVALID_KEY_INFORMATION)
    try:
        validate_chain(end, sent[1:], store, wall_time(core.clock.wall()),
                       ca_name(conn.that.ca, conn.this.ca))
    except (CertError, ValueError) as err:
        raise Phase1AuthError(f"certificate of '{peer}' refused: {err}",
                              NotifyType.INVALID_CERTIFICATE) from None
    if not id_in_cert(peer, end):
        raise Phase1AuthError(f"peer ID '{peer}' is neither the subject nor a subjectAltName "
                              f"of its certificate '{format_dn(end.subject)}'",
                              NotifyType.INVALID_ID_INFORMATION)
    return end.public_key()
