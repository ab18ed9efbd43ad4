"""IKEv2 key derivation (RFC 7296 §2.13, §2.14, §2.17, §2.18).

    SKEYSEED         = prf(Ni | Nr, g^ir)
    {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
                     = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
    KEYMAT           = prf+(SK_d, [g^ir(new) |] Ni | Nr)          Child SA, PFS optional
    SKEYSEED (rekey) = prf(SK_d(old), g^ir(new) | Ni | Nr)        new IKE SA

SPIs are the 8-byte IKE SPIs as they appear in the header. Encryption key sizes include any
salt (AES-GCM: key + 4 bytes), since the salt is taken from the same key material.
"""

from __future__ import annotations

from dataclasses import dataclass

from pluto.crypto.prf import Prf

# prf+ numbers its blocks with one octet starting at 1 (RFC 7296 §2.13).
PRF_PLUS_MAX_BLOCKS = 255


def prf_plus(prf: Prf, key: bytes, seed: bytes, length: int) -> bytes:
    """prf+(K, S): T1 | T2 | ... truncated to ``length`` bytes.

    T1 = prf(K, S | 0x01), Tn = prf(K, T(n-1) | S | n). More than 255 blocks cannot be
    numbered, so longer requests raise ValueError.
    """
    if length < 0:
        raise ValueError(f"prf+ length {length} is negative")
    blocks = -(-length // prf.output_size)
    if blocks > PRF_PLUS_MAX_BLOCKS:
        raise ValueError(
            f"prf+ with {prf.name} gives at most {PRF_PLUS_MAX_BLOCKS * prf.output_size} "
            f"bytes; {length} requested"
        )
    out = bytearray()
    block = b""
    for counter in range(1, blocks + 1):
        block = prf(key, block + seed + bytes((counter,)))
        out += block
    return bytes(out[:length])


def skeyseed_key(prf: Prf, ni: bytes, nr: bytes) -> bytes:
    """The key of the SKEYSEED prf: Ni | Nr, or for a fixed-key PRF half its key from each.

    RFC 7296 §2.14: with AES-XCBC-PRF-128 and AES-CMAC-PRF-128 only the first 64 bits of Ni
    and of Nr are used here (all of them still go into prf+).
    """
    if prf.fixed_key_size is None:
        return ni + nr
    half = prf.fixed_key_size // 2
    return ni[:half] + nr[:half]


def skeyseed(prf: Prf, ni: bytes, nr: bytes, g_ir: bytes) -> bytes:
    """SKEYSEED = prf(Ni | Nr, g^ir) for a new IKE SA (IKE_SA_INIT)."""
    return prf(skeyseed_key(prf, ni, nr), g_ir)


def rekey_skeyseed(prf: Prf, sk_d_old: bytes, g_ir_new: bytes, ni: bytes, nr: bytes) -> bytes:
    """SKEYSEED = prf(SK_d(old), g^ir(new) | Ni | Nr) for an IKE SA rekeyed by CREATE_CHILD_SA.

    ``prf`` is the OLD IKE SA's PRF: the rekey exchange belongs to the old SA (RFC 7296
    §2.18); the new SA's PRF then takes over for :func:`ike_sa_keys`. Ni and Nr are the
    CREATE_CHILD_SA nonces. The same shape chains additional key exchanges (RFC 9370).
    """
    return prf(sk_d_old, g_ir_new + ni + nr)


@dataclass(frozen=True, repr=False)
class IkeSaKeys:
    """The seven IKE SA keys, in the order RFC 7296 §2.14 takes them from prf+."""

    sk_d: bytes
    sk_ai: bytes
    sk_ar: bytes
    sk_ei: bytes
    sk_er: bytes
    sk_pi: bytes
    sk_pr: bytes

    def __repr__(self) -> str:
        # Never print key material by accident (logs go through Logger.secret).
        sizes = ", ".join(f"{name}=<{len(getattr(self, name))} bytes>" for name in _IKE_KEY_NAMES)
        return f"IkeSaKeys({sizes})"


_IKE_KEY_NAMES = ("sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr")


def ike_sa_key_sizes(prf: Prf, integ_key_size: int, encr_key_size: int) -> tuple[int, ...]:
    """Sizes of SK_d, SK_ai, SK_ar, SK_ei, SK_er, SK_pi, SK_pr.

    SK_d, SK_pi and SK_pr are as long as the PRF's preferred key (RFC 7296 §2.14); integ
    key size is 0 with an AEAD cipher.
    """
    return (
        prf.key_size,
        integ_key_size,
        integ_key_size,
        encr_key_size,
        encr_key_size,
        prf.key_size,
        prf.key_size,
    )


def ike_sa_keys(
    prf: Prf,
    skeyseed_value: bytes,
    ni: bytes,
    nr: bytes,
    spi_i: bytes,
    spi_r: bytes,
    *,
    integ_key_size: int,
    encr_key_size: int,
) -> IkeSaKeys:
    """Split prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) into the seven SK_* keys."""
    sizes = ike_sa_key_sizes(prf, integ_key_size, encr_key_size)
    material = prf_plus(prf, skeyseed_value, ni + nr + spi_i + spi_r, sum(sizes))
    return IkeSaKeys(*_split(material, sizes))


def child_sa_keymat(
    prf: Prf, sk_d: bytes, ni: bytes, nr: bytes, length: int, g_ir_new: bytes | None = None
) -> bytes:
    """KEYMAT = prf+(SK_d, [g^ir(new) |] Ni | Nr) (RFC 7296 §2.17).

    For the first Child SA (IKE_AUTH) Ni and Nr are the IKE_SA_INIT nonces; for
    CREATE_CHILD_SA they are that exchange's nonces and ``g_ir_new`` its shared secret when
    PFS was negotiated.
    """
    seed = (g_ir_new or b"") + ni + nr
    return prf_plus(prf, sk_d, seed, length)


@dataclass(frozen=True, repr=False)
class ChildSaKeys:
    """Child SA keys as RFC 7296 §2.17 takes them from KEYMAT.

    All keys for traffic from initiator to responder come first, each direction with its
    encryption key (with salt) before its integrity key.
    """

    encr_i: bytes
    integ_i: bytes
    encr_r: bytes
    integ_r: bytes

    def __repr__(self) -> str:
        sizes = ", ".join(
            f"{name}=<{len(getattr(self, name))} bytes>"
            for name in ("encr_i", "integ_i", "encr_r", "integ_r")
        )
        return f"ChildSaKeys({sizes})"


def child_sa_keys(
    prf: Prf,
    sk_d: bytes,
    ni: bytes,
    nr: bytes,
    *,
    encr_key_size: int,
    integ_key_size: int,
    g_ir_new: bytes | None = None,
) -> ChildSaKeys:
    """KEYMAT split into the keys of the two directions of one Child SA (ESP or AH)."""
    sizes = (encr_key_size, integ_key_size, encr_key_size, integ_key_size)
    keymat = child_sa_keymat(prf, sk_d, ni, nr, sum(sizes), g_ir_new)
    return ChildSaKeys(*_split(keymat, sizes))


def _split(material: bytes, sizes: tuple[int, ...]) -> list[bytes]:
    parts = []
    offset = 0
    for size in sizes:
        parts.append(material[offset : offset + size])
        offset += size
    return parts
