"""The algorithm registry: one descriptor per algorithm, found by name or by number.

Every algorithm pluto knows is described once here: its canonical (libreswan style) name such
as ``AES_GCM_16`` or ``HMAC_SHA2_256_128``, the names and aliases an ``ike=``/``esp=`` line may
use, its IKEv2 transform id (RFC 7296 §3.3.2 and the IANA "IKEv2 Parameters" registry), its
IKEv1 numbers (Oakley encryption/hash/group of RFC 2409 App. A, ESP transform ids and
authentication-algorithm attribute values of RFC 2407 §4.4-4.5, AH transform ids), its sizes,
and whether it is on by default. Legacy algorithms (3DES, everything MD5-based, MODP 768, 1024
and 1536) are described too, so that a peer's proposal can be named in a log line, but they are
only accepted when a caller explicitly allows legacy algorithms.

The descriptors hold data only; the primitives live in encr.py, ke.py, prf.py and integ.py.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

IKE = "ike"
ESP = "esp"
AH = "ah"


class Kind(enum.Enum):
    ENCR = "encryption"
    PRF = "PRF"
    INTEG = "integrity"
    KE = "key exchange"


@dataclass(frozen=True, repr=False)
class Algorithm:
    kind: Kind
    fqn: str  # canonical name, as status output prints it
    names: tuple[str, ...]  # lower-case names accepted in proposal strings, preferred first
    ikev2_id: int | None
    protocols: frozenset[str]  # where it may be proposed: IKE, ESP, AH
    ikev1_ike_id: int | None = None  # Oakley encryption / hash / group description
    ikev1_esp_id: int | None = None  # ESP transform id, or ESP authentication algorithm
    ikev1_ah_id: int | None = None  # AH transform id
    legacy: bool = False

    @property
    def enabled_by_default(self) -> bool:
        return not self.legacy

    @property
    def name(self) -> str:
        """The preferred proposal-string name (``aes_gcm_16``, ``sha2_256``, ``dh19``)."""
        return self.names[0]

    def __str__(self) -> str:
        return self.fqn

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.fqn}>"


@dataclass(frozen=True, repr=False)
class EncrAlgorithm(Algorithm):
    mode: str = "cbc"  # cbc, ctr, gcm, chacha20-poly1305, null
    key_bits_default: int = 0
    key_bits_allowed: tuple[int, ...] = ()  # largest first
    variable_key: bool = False  # True when the Key Length attribute is sent
    block_size: int = 1  # the cipher's block size
    pad_to_block: bool = False  # True when the plaintext must fill whole blocks (CBC)
    iv_size: int = 0  # bytes of IV sent on the wire
    salt_size: int = 0  # bytes of keying material after the key (RFC 3686/4106/7634 nonce)
    icv_size: int = 0  # AEAD tag size; 0 for ciphers that need an integrity algorithm

    @property
    def aead(self) -> bool:
        return self.icv_size > 0

    @property
    def pad_alignment(self) -> int:
        """What the IKEv2 SK plaintext (with padding and pad length) must be a multiple of."""
        return self.block_size if self.pad_to_block else 1

    def keymat_size(self, key_bits: int | None = None) -> int:
        """Bytes of keying material this cipher takes: the key plus any salt."""
        bits = self.key_bits_default if key_bits is None else key_bits
        return bits // 8 + self.salt_size


@dataclass(frozen=True, repr=False)
class PrfAlgorithm(Algorithm):
    output_size: int = 0
    key_size: int = 0  # preferred key length in bytes (RFC 7296 §2.13)
    integ_ikev2_id: int = 0  # the integrity algorithm built on the same hash/cipher

    @property
    def integ(self) -> IntegAlgorithm:
        alg = by_ikev2_id(Kind.INTEG, self.integ_ikev2_id)
        assert isinstance(alg, IntegAlgorithm)
        return alg

    def implementation(self) -> Any:
        """The PRF object of pluto.crypto.prf (imported lazily: it is a separate module)."""
        from pluto.crypto import prf

        return prf.PRFS[self.ikev2_id]


@dataclass(frozen=True, repr=False)
class IntegAlgorithm(Algorithm):
    key_size: int = 0
    icv_size: int = 0  # truncated MAC length

    @property
    def is_none(self) -> bool:
        return self.ikev2_id == 0

    def implementation(self) -> Any:
        """The Integ object of pluto.crypto.integ (imported lazily)."""
        from pluto.crypto import integ

        return integ.INTEGS[self.ikev2_id]


@dataclass(frozen=True, repr=False)
class KeAlgorithm(Algorithm):
    family: str = "none"  # modp, ecp, x25519, x448, none
    bits: int = 0  # modulus or field size
    public_size: int = 0  # bytes of KE payload data
    shared_size: int = 0  # bytes of the shared secret g^ir

    @property
    def is_none(self) -> bool:
        return self.ikev2_id == 0

    def implementation(self) -> Any:
        """The KeGroup of pluto.crypto.ke for this group."""
        from pluto.crypto import ke

        return ke.ke_group(self.ikev2_id)


_IKE_ESP = frozenset({IKE, ESP})
_ESP = frozenset({ESP})
_ALL = frozenset({IKE, ESP, AH})


def _aes(fqn: str, names: tuple[str, ...], ikev2_id: int, mode: str, *, iv: int, salt: int,
         icv: int = 0, ikev1_ike_id: int | None = None) -> EncrAlgorithm:
    cbc = mode == "cbc"
    return EncrAlgorithm(
        Kind.ENCR, fqn, names, ikev2_id, _IKE_ESP, ikev1_ike_id=ikev1_ike_id,
        ikev1_esp_id=ikev2_id, mode=mode, key_bits_default=128,
        key_bits_allowed=(256, 192, 128), variable_key=True, block_size=16, pad_to_block=cbc,
        iv_size=iv, salt_size=salt, icv_size=icv,
    )


ENCRYPTION: tuple[EncrAlgorithm, ...] = (
    _aes("AES_CBC", ("aes_cbc", "aes", "aescbc"), 12, "cbc", iv=16, salt=0, ikev1_ike_id=7),
    _aes("AES_CTR", ("aes_ctr", "aesctr"), 13, "ctr", iv=8, salt=4),
    _aes("AES_GCM_8", ("aes_gcm_8", "aes_gcm_a"), 18, "gcm", iv=8, salt=4, icv=8),
    _aes("AES_GCM_12", ("aes_gcm_12", "aes_gcm_b"), 19, "gcm", iv=8, salt=4,
         icv=12),
    _aes("AES_GCM_16", ("aes_gcm_16", "aes_gcm", "aes_gcm_c"), 20, "gcm", iv=8,
         salt=4, icv=16),
    EncrAlgorithm(
        Kind.ENCR, "CHACHA20_POLY1305", ("chacha20_poly1305", "chacha20poly1305"), 28,
        _IKE_ESP, mode="chacha20-poly1305", key_bits_default=256, key_bits_allowed=(256,),
        block_size=1, iv_size=8, salt_size=4, icv_size=16,
    ),
    EncrAlgorithm(
        Kind.ENCR, "3DES_CBC", ("3des_cbc", "3des"), 3, _IKE_ESP, ikev1_ike_id=5,
        ikev1_esp_id=3, legacy=True, mode="cbc", key_bits_default=192,
        key_bits_allowed=(192,), block_size=8, pad_to_block=True, iv_size=8,
    ),
    # ESP without confidentiality (RFC 2410): for tests and benchmarks only.
    EncrAlgorithm(Kind.ENCR, "NULL", ("null",), 11, _ESP, ikev1_esp_id=11, mode="null"),
)


def _hmac_prf(fqn: str, names: tuple[str, ...], ikev2_id: int, size: int, integ_id: int,
              oakley_hash: int, legacy: bool = False) -> PrfAlgorithm:
    return PrfAlgorithm(Kind.PRF, fqn, names, ikev2_id, frozenset({IKE}),
                        ikev1_ike_id=oakley_hash, legacy=legacy, output_size=size,
                        key_size=size, integ_ikev2_id=integ_id)


PRFS: tuple[PrfAlgorithm, ...] = (
    _hmac_prf("HMAC_MD5", ("md5", "hmac_md5"), 1, 16, 1, 1, legacy=True),
    _hmac_prf("HMAC_SHA1", ("sha1", "sha", "hmac_sha1"), 2, 20, 2, 2),
    _hmac_prf("HMAC_SHA2_256", ("sha2_256", "sha2", "sha256", "hmac_sha2_256"), 5, 32, 12, 4),
    _hmac_prf("HMAC_SHA2_384", ("sha2_384", "sha384", "hmac_sha2_384"), 6, 48, 13, 5),
    _hmac_prf("HMAC_SHA2_512", ("sha2_512", "sha512", "hmac_sha2_512"), 7, 64, 14, 6),
    PrfAlgorithm(Kind.PRF, "AES_XCBC", ("aes_xcbc", "aes128_xcbc"), 4, frozenset({IKE}),
                 output_size=16, key_size=16, integ_ikev2_id=5),
    PrfAlgorithm(Kind.PRF, "AES_CMAC", ("aes_cmac", "aes128_cmac"), 8, frozenset({IKE}),
                 output_size=16, key_size=16, integ_ikev2_id=8),
)


def _integ(fqn: str, names: tuple[str, ...], ikev2_id: int, key: int, icv: int,
           esp_auth: int | None, ah: int | None, legacy: bool = False) -> IntegAlgorithm:
    return IntegAlgorithm(Kind.INTEG, fqn, names, ikev2_id, _ALL, ikev1_esp_id=esp_auth,
                          ikev1_ah_id=ah, legacy=legacy, key_size=key, icv_size=icv)


INTEGRITY: tuple[IntegAlgorithm, ...] = (
    # "none": what an AEAD proposal carries (or omits) in the integrity slot.
    IntegAlgorithm(Kind.INTEG, "NONE", ("none", "null"), 0, _IKE_ESP),
    _integ("HMAC_MD5_96", ("md5", "hmac_md5", "md5_96", "hmac_md5_96"), 1, 16, 12, 1, 2,
           legacy=True),
    _integ("HMAC_SHA1_96", ("sha1", "sha", "sha1_96", "hmac_sha1", "hmac_sha1_96"),
           2, 20, 12, 2, 3),
    _integ("HMAC_SHA2_256_128", ("sha2_256", "sha2", "sha256", "sha2_256_128",
                                 "hmac_sha2_256", "hmac_sha2_256_128"), 12, 32, 16, 5, 5),
    _integ("HMAC_SHA2_384_192", ("sha2_384", "sha384", "sha2_384_192", "hmac_sha2_384",
                                 "hmac_sha2_384_192"), 13, 48, 24, 6, 6),
    _integ("HMAC_SHA2_512_256", ("sha2_512", "sha512", "sha2_512_256", "hmac_sha2_512",
                                 "hmac_sha2_512_256"), 14, 64, 32, 7, 7),
    _integ("AES_XCBC_96", ("aes_xcbc", "aes_xcbc_96"), 5, 16, 12, 9, 9),
    # AES-CMAC-96 (RFC 4494) has no IKEv1 number.
    _integ("AES_CMAC_96", ("aes_cmac", "aes_cmac_96"), 8, 16, 12, None, None),
)


def _modp(bits: int, group: int, legacy: bool = False) -> KeAlgorithm:
    size = bits // 8
    return KeAlgorithm(Kind.KE, f"MODP{bits}", (f"modp{bits}", f"dh{group}"), group, _ALL,
                       ikev1_ike_id=group, ikev1_esp_id=group, ikev1_ah_id=group,
                       legacy=legacy, family="modp", bits=bits, public_size=size,
                       shared_size=size)


def _curve(group: int, family: str, bits: int, public: int, shared: int,
           names: tuple[str, ...]) -> KeAlgorithm:
    return KeAlgorithm(Kind.KE, f"DH{group}", (f"dh{group}",) + names, group, _ALL,
                       ikev1_ike_id=group, ikev1_esp_id=group, ikev1_ah_id=group,
                       family=family, bits=bits, public_size=public, shared_size=shared)


KEY_EXCHANGES: tuple[KeAlgorithm, ...] = (
    # "none": no key exchange; allowed in a Child SA proposal (no PFS), never for IKE.
    KeAlgorithm(Kind.KE, "NONE", ("none",), 0, frozenset({ESP, AH})),
    _modp(768, 1, legacy=True),
    _modp(1024, 2, legacy=True),
    _modp(1536, 5, legacy=True),
    _modp(2048, 14),
    _modp(3072, 15),
    _modp(4096, 16),
    _modp(6144, 17),
    _modp(8192, 18),
    # RFC 5903 ECP groups: KE data is x | y, the shared secret is x.
    _curve(19, "ecp", 256, 64, 32, ("ecp256", "ecp_256", "secp256r1")),
    _curve(20, "ecp", 384, 96, 48, ("ecp384", "ecp_384", "secp384r1")),
    _curve(21, "ecp", 521, 132, 66, ("ecp521", "ecp_521", "secp521r1")),
    # RFC 8031.
    _curve(31, "x25519", 255, 32, 32, ("x25519", "curve25519")),
    _curve(32, "x448", 448, 56, 56, ("x448", "curve448")),
)

ALGORITHMS: dict[Kind, tuple[Algorithm, ...]] = {
    Kind.ENCR: ENCRYPTION,
    Kind.PRF: PRFS,
    Kind.INTEG: INTEGRITY,
    Kind.KE: KEY_EXCHANGES,
}


def _index() -> tuple[dict, dict, dict]:
    names: dict[tuple[Kind, str], Algorithm] = {}
    ikev2: dict[tuple[Kind, int], Algorithm] = {}
    ikev1: dict[tuple[Kind, str, int], Algorithm] = {}
    for kind, algs in ALGORITHMS.items():
        for alg in algs:
            for name in (*alg.names, alg.fqn.lower()):
                other = names.setdefault((kind, name), alg)
                if other is not alg:
                    raise ValueError(f"{kind.value} name {name!r} used twice")
            if alg.ikev2_id is not None:
                if ikev2.setdefault((kind, alg.ikev2_id), alg) is not alg:
                    raise ValueError(f"{kind.value} IKEv2 id {alg.ikev2_id} used twice")
            for proto, number in ((IKE, alg.ikev1_ike_id), (ESP, alg.ikev1_esp_id),
                                  (AH, alg.ikev1_ah_id)):
                if number is not None:
                    ikev1[(kind, proto, number)] = alg
    return names, ikev2, ikev1


_BY_NAME, _BY_IKEV2, _BY_IKEV1 = _index()


def algorithms(kind: Kind) -> tuple[Algorithm, ...]:
    """Every algorithm of one kind, in registry order."""
    return ALGORITHMS[kind]


def by_name(kind: Kind, name: str) -> Algorithm | None:
    """The algorithm with this exact name or alias (case-insensitive), or None."""
    return _BY_NAME.get((kind, name.strip().lower()))


def by_ikev2_id(kind: Kind, number: int) -> Algorithm | None:
    """The algorithm with this IKEv2 transform id, or None."""
    return _BY_IKEV2.get((kind, number))


def by_ikev1_id(kind: Kind, number: int, protocol: str = IKE) -> Algorithm | None:
    """The algorithm with this IKEv1 number, or None.

    The number spaces differ per protocol: ``ike`` means the Oakley attributes of Phase 1
    (encryption algorithm, hash algorithm, group description), ``esp`` the ESP transform id
    (encryption) or the authentication algorithm attribute (integrity), ``ah`` the AH
    transform id. Group numbers are the same everywhere.
    """
    return _BY_IKEV1.get((kind, protocol, number))


# strongSwan-style AEAD names that people also type into libreswan configs: aes128gcm16.
_STRONGSWAN_GCM = re.compile(r"aes(\d+)gcm(8|12|16)")
_TRAILING_BITS = re.compile(r"(.*?)[_-]?(\d+)")


def resolve_encryption(token: str) -> tuple[EncrAlgorithm, int | None] | None:
    """An encryption name with an optional key length: ``aes256`` -> (AES_CBC, 256).

    Exact names win (``aes_gcm_16`` is AES_GCM_16, not AES_GCM with 16 bits); otherwise the
    trailing digits are the key length (``aes_gcm256``, ``aes_gcm_16_128``, ``aes_ctr128``,
    ``aes128gcm16``). The key length is not checked here (see proposals.py).
    """
    text = token.strip().lower()
    alg = by_name(Kind.ENCR, text)
    if alg is not None:
        assert isinstance(alg, EncrAlgorithm)
        return alg, None
    match = _STRONGSWAN_GCM.fullmatch(text)
    if match:
        alg = by_name(Kind.ENCR, f"aes_gcm_{match.group(2)}")
        assert isinstance(alg, EncrAlgorithm)
        return alg, int(match.group(1))
    match = _TRAILING_BITS.fullmatch(text)
    if match and match.group(1):
        alg = by_name(Kind.ENCR, match.group(1))
        if isinstance(alg, EncrAlgorithm):
            return alg, int(match.group(2))
    return None


def is_allowed(alg: Algorithm, allow_legacy: bool = False) -> bool:
    """Whether ``alg`` may be proposed or accepted (legacy ones only when allowed)."""
    return alg.enabled_by_default or allow_legacy


def describe(kinds: Iterable[Kind] = tuple(Kind)) -> Iterator[str]:
    """One line per algorithm, for ``--listalgs`` style output."""
    for kind in kinds:
        for alg in ALGORITHMS[kind]:
            state = "legacy (off by default)" if alg.legacy else "on"
            where = "/".join(p.upper() for p in (IKE, ESP, AH) if p in alg.protocols)
            ikev2 = "-" if alg.ikev2_id is None else str(alg.ikev2_id)
            yield (f"{kind.value:<12} {alg.fqn:<18} IKEv2 {ikev2:>3}  {where:<11} {state:<24}"
                   f" {', '.join(alg.names)}")
