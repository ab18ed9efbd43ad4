"""IKE SA and Child SA keys from negotiated algorithms (RFC 7296 §2.13, §2.14, §2.17, §2.18).

The formulas live in :mod:`pluto.crypto.kdf_ikev2`; this module only sizes the keys from a
:class:`~pluto.ikev2.negotiation.Chosen` proposal. Encryption keying material includes the
salt of CTR, GCM and ChaCha20-Poly1305 (4 bytes after the key); an AEAD cipher gets no
integrity keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pluto.crypto import kdf_ikev2
from pluto.crypto.kdf_ikev2 import ChildSaKeys
from pluto.crypto.prf import Prf
from pluto.ikev2.negotiation import Chosen

__all__ = ["ChildSaKeys", "IkeSaKeys", "derive_child_sa_keys", "derive_ike_sa_keys",
           "derive_rekeyed_ike_sa_keys"]

_KEY_NAMES = ("sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr")


@dataclass(repr=False)
class IkeSaKeys:
    """The negotiated IKE SA algorithms and the seven SK_* keys; repr shows sizes only."""

    chosen: Chosen
    sk_d: bytes = field(repr=False)
    sk_ai: bytes = field(repr=False)
    sk_ar: bytes = field(repr=False)
    sk_ei: bytes = field(repr=False)
    sk_er: bytes = field(repr=False)
    sk_pi: bytes = field(repr=False)
    sk_pr: bytes = field(repr=False)

    @property
    def prf(self) -> Prf:
        """The IKE SA's PRF implementation (for AUTH, Child SA keys and the next rekey)."""
        return _prf(self.chosen)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}=<{len(getattr(self, name))} bytes>" for name in _KEY_NAMES)
        return f"IkeSaKeys({self.chosen.describe()}, {sizes})"


def _prf(chosen: Chosen) -> Prf:
    if chosen.prf is None:
        raise ValueError(f"proposal {chosen.describe()} has no PRF: not an IKE SA proposal")
    return chosen.prf.implementation()


def _split(chosen: Chosen, seed: bytes, ni: bytes, nr: bytes, spi_i: bytes,
           spi_r: bytes) -> IkeSaKeys:
    keys = kdf_ikev2.ike_sa_keys(_prf(chosen), seed, ni, nr, spi_i, spi_r,
                                 integ_key_size=chosen.integ_key_size,
                                 encr_key_size=chosen.encr_keymat_size)
    return IkeSaKeys(chosen, *(getattr(keys, name) for name in _KEY_NAMES))


def derive_ike_sa_keys(chosen: Chosen, ni: bytes, nr: bytes, g_ir: bytes, spi_i: bytes,
                       spi_r: bytes) -> IkeSaKeys:
    """Keys of a new IKE SA from IKE_SA_INIT: SKEYSEED = prf(Ni | Nr, g^ir), then prf+."""
    seed = kdf_ikev2.skeyseed(_prf(chosen), ni, nr, g_ir)
    return _split(chosen, seed, ni, nr, spi_i, spi_r)


def derive_rekeyed_ike_sa_keys(old: IkeSaKeys, chosen: Chosen, ni: bytes, nr: bytes,
                               g_ir: bytes, spi_i: bytes, spi_r: bytes) -> IkeSaKeys:
    """Keys of the IKE SA that replaces ``old`` (§2.18).

    SKEYSEED = prf_old(SK_d old, g^ir new | Ni | Nr) with the OLD SA's PRF; the new SA's PRF
    then expands it. Ni/Nr and the SPIs are those of the rekey exchange (SPIi: the new SA's
    initiator, i.e. whoever started the rekey).
    """
    seed = kdf_ikev2.rekey_skeyseed(old.prf, old.sk_d, g_ir, ni, nr)
    return _split(chosen, seed, ni, nr, spi_i, spi_r)


def derive_child_sa_keys(ike: IkeSaKeys, chosen: Chosen, ni: bytes, nr: bytes,
                         g_ir: bytes | None = None) -> ChildSaKeys:
    """KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr) split for the Child SA ``chosen`` (§2.17).

    ``encr_i``/``integ_i`` protect traffic from the exchange's initiator to its responder.
    In IKE_AUTH, Ni and Nr are the IKE_SA_INIT nonces; in CREATE_CHILD_SA, that exchange's,
    with ``g_ir`` when it carried a key exchange.
    """
    return kdf_ikev2.child_sa_keys(ike.prf, ike.sk_d, ni, nr,
                                   encr_key_size=chosen.encr_keymat_size,
                                   integ_key_size=chosen.integ_key_size, g_ir_new=g_ir)
