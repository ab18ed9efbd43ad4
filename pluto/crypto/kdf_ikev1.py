"""IKEv1 key derivation (RFC 2409 §5, §5.5 and Appendix B).

    SKEYID   = prf(pre-shared-key, Ni_b | Nr_b)                    pre-shared key
    SKEYID   = prf(Ni_b | Nr_b, g^xy)                              signatures
    SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
    SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
    SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)

The PRF is the HMAC of the negotiated hash (or AES-XCBC where a peer insists); the IVs use
the plain hash, passed in as a ``hasher`` callable (``HmacPrf.hash``). Cookies are the 8-byte
CKY-I and CKY-R of the ISAKMP header; Ni_b and Nr_b are the nonce payload bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pluto.crypto.prf import Prf

Hasher = Callable[[bytes], bytes]


def skeyid_psk(prf: Prf, psk: bytes, ni_b: bytes, nr_b: bytes) -> bytes:
    """SKEYID for pre-shared key authentication."""
    return prf(psk, ni_b + nr_b)


def skeyid_signature(prf: Prf, ni_b: bytes, nr_b: bytes, g_xy: bytes) -> bytes:
    """SKEYID for signature (RSA/DSS/ECDSA) authentication."""
    return prf(ni_b + nr_b, g_xy)


def skeyid_derived(
    prf: Prf,
    skeyid: bytes,
    previous: bytes,
    g_xy: bytes,
    cky_i: bytes,
    cky_r: bytes,
    number: int,
) -> bytes:
    """One of SKEYID_d (number 0, no previous key), SKEYID_a (1) and SKEYID_e (2)."""
    return prf(skeyid, previous + g_xy + cky_i + cky_r + bytes((number,)))


@dataclass(frozen=True, repr=False)
class Ikev1Keys:
    """SKEYID and the three keys derived from it for one ISAKMP SA."""

    skeyid: bytes
    skeyid_d: bytes
    skeyid_a: bytes
    skeyid_e: bytes

    def __repr__(self) -> str:
        sizes = ", ".join(
            f"{name}=<{len(getattr(self, name))} bytes>"
            for name in ("skeyid", "skeyid_d", "skeyid_a", "skeyid_e")
        )
        return f"Ikev1Keys({sizes})"


def ikev1_keys(prf: Prf, skeyid: bytes, g_xy: bytes, cky_i: bytes, cky_r: bytes) -> Ikev1Keys:
    """SKEYID_d, SKEYID_a and SKEYID_e from SKEYID, each chained on the one before."""
    skeyid_d = skeyid_derived(prf, skeyid, b"", g_xy, cky_i, cky_r, 0)
    skeyid_a = skeyid_derived(prf, skeyid, skeyid_d, g_xy, cky_i, cky_r, 1)
    skeyid_e = skeyid_derived(prf, skeyid, skeyid_a, g_xy, cky_i, cky_r, 2)
    return Ikev1Keys(skeyid, skeyid_d, skeyid_a, skeyid_e)


def encryption_key(prf: Prf, skeyid_e: bytes, length: int) -> bytes:
    """The ISAKMP SA encryption key of ``length`` bytes (RFC 2409 Appendix B).

    When SKEYID_e is long enough its first bytes are the key; otherwise it is expanded as
    K1 = prf(SKEYID_e, 0), Kn = prf(SKEYID_e, K(n-1)), key = first bytes of K1 | K2 | ...
    """
    if length <= len(skeyid_e):
        return skeyid_e[:length]
    out = bytearray()
    block = b"\x00"
    while len(out) < length:
        block = prf(skeyid_e, block)
        out += block
    return bytes(out[:length])


def phase1_iv(hasher: Hasher, g_xi: bytes, g_xr: bytes, block_size: int) -> bytes:
    """The IV of the first encrypted Main/Aggressive Mode message: hash(g^xi | g^xr)."""
    return _truncated_hash(hasher, g_xi + g_xr, block_size)


def phase2_iv(hasher: Hasher, last_phase1_block: bytes, message_id: int, block_size: int) -> bytes:
    """The first IV of a Quick Mode or Informational exchange.

    hash(last CBC output block of phase 1 | M-ID), M-ID as the 4 octets of the header;
    later messages of the same exchange chain on the previous message's last block.
    """
    if not 0 <= message_id <= 0xFFFFFFFF:
        raise ValueError(f"message ID {message_id} does not fit in 32 bits")
    return _truncated_hash(hasher, last_phase1_block + message_id.to_bytes(4, "big"), block_size)


def _truncated_hash(hasher: Hasher, data: bytes, block_size: int) -> bytes:
    digest = hasher(data)
    if len(digest) < block_size:
        raise ValueError(f"a {len(digest)}-byte hash cannot make a {block_size}-byte IV")
    return digest[:block_size]


def expand_keymat(prf: Prf, key: bytes, seed: bytes, length: int) -> bytes:
    """K1 | K2 | ... truncated, with K1 = prf(key, seed) and Kn = prf(key, K(n-1) | seed)."""
    out = bytearray()
    block = b""
    while len(out) < length:
        block = prf(key, block + seed)
        out += block
    return bytes(out[:length])


def quick_mode_keymat(
    prf: Prf,
    skeyid_d: bytes,
    protocol: int,
    spi: bytes,
    ni_b: bytes,
    nr_b: bytes,
    length: int,
    g_qm_xy: bytes | None = None,
) -> bytes:
    """KEYMAT of one IPsec SA (RFC 2409 §5.5), expanded to ``length`` bytes.

    KEYMAT = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b), with g(qm)^xy only
    when Quick Mode did PFS. ``protocol`` is the IPsec protocol id (2 AH, 3 ESP) and ``spi``
    the 4-byte SPI of this SA (each direction has its own SPI, hence its own KEYMAT). The
    encryption key is taken from the front, then the authentication key.
    """
    if not 0 <= protocol <= 0xFF:
        raise ValueError(f"protocol id {protocol} does not fit in one octet")
    seed = (g_qm_xy or b"") + bytes((protocol,)) + spi + ni_b + nr_b
    return expand_keymat(prf, skeyid_d, seed, length)
