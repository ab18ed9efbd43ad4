"""The crypto floor: what one IKEv2 PSK responder handshake costs in `cryptography` alone.

Per handshake the responder makes one key pair and one shared secret, about 16 HMAC-SHA2-256
operations (SKEYSEED, prf+ for the seven keys, the two PSK AUTH values and their key pad) and
two AES-GCM operations (decrypt IKE_AUTH, encrypt its answer). No Python implementation can
go below this; the rest of the per-SA CPU is parsing, state and sockets.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric import dh, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HMACS_PER_HANDSHAKE = 16
AEAD_PER_HANDSHAKE = 2
# RFC 3526 group 14 (MODP2048), generator 2.
MODP2048_P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA4836"
    "1C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804"
    "F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6"
    "955817183995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF", 16)


def _per_call_us(fn: Callable[[], object], seconds: float) -> float:
    """Microseconds per call of ``fn``, repeated for about ``seconds``."""
    fn()
    calls, start = 0, time.perf_counter()
    while True:
        for _ in range(20):
            fn()
        calls += 20
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed * 1e6 / calls


def measure(seconds: float = 0.3) -> dict[str, float]:
    """Microseconds per primitive and per handshake (x25519 and modp2048 variants)."""
    peer_x = x25519.X25519PrivateKey.generate().public_key()

    def x25519_ke() -> bytes:
        return x25519.X25519PrivateKey.generate().exchange(peer_x)

    with warnings.catch_warnings():  # cryptography 50 deprecates FFDH; it is measured anyway
        warnings.simplefilter("ignore")
        params = dh.DHParameterNumbers(MODP2048_P, 2).parameters()
    peer_dh = params.generate_private_key().public_key()

    def modp2048_ke() -> bytes:
        return params.generate_private_key().exchange(peer_dh)

    key, message = os.urandom(32), os.urandom(300)

    def hmac_sha256() -> bytes:
        mac = hmac.HMAC(key, hashes.SHA256())
        mac.update(message)
        return mac.finalize()

    aead, nonce = AESGCM(os.urandom(16)), os.urandom(12)

    def aes_gcm() -> bytes:
        return aead.encrypt(nonce, message, None)

    us = {"x25519": _per_call_us(x25519_ke, seconds),
          "modp2048": _per_call_us(modp2048_ke, seconds),
          "hmac_sha256": _per_call_us(hmac_sha256, seconds),
          "aes128_gcm": _per_call_us(aes_gcm, seconds)}
    rest = HMACS_PER_HANDSHAKE * us["hmac_sha256"] + AEAD_PER_HANDSHAKE * us["aes128_gcm"]
    us["handshake_x25519"] = us["x25519"] + rest
    us["handshake_modp2048"] = us["modp2048"] + rest
    return us
