"""Proposal strings: libreswan's ``ike=``, ``esp=`` and ``ah=`` syntax.

Grammar (libreswan ipsec.conf(5), IKEv2)::

    PROPOSALS = PROPOSAL { "," PROPOSAL }
    ike=      ENCRS [ "-" KEYLEN ] [ "-" [ INTEGS "-" ] PRFS [ "-" KES ] ] [ ";" KES ]
    esp=      ENCRS [ "-" KEYLEN ] [ "-" INTEGS [ "-" KES ] ] [ ";" KES ]
    ah=       INTEGS [ "-" KES ] [ ";" KES ]
    ENCRS = ENCR { "+" ENCR } and likewise for INTEGS, PRFS and KES

An encryption name may carry its key length (``aes256``, ``aes_gcm_16_128``, ``aes_ctr128``).
In ``ike=`` the slot after the encryption is the PRF, and the integrity algorithm follows the
PRF (``aes-sha2`` means HMAC_SHA2_256_128 with PRF HMAC_SHA2_256); when that slot names an
integrity-only algorithm (``sha1_96``, ``none``) the PRF comes next. AEAD ciphers take integrity
``none``; AEAD and non-AEAD ciphers cannot share a proposal. Duplicates are dropped, as
libreswan does.

Omitted parts get libreswan 4.x's IKEv2 defaults (lib/libswan/ike_info.c and esp_info.c, as
printed by its ``ipsec algparse`` test testing/pluto/algparse-01/algparse.v2.txt):

- ``ike=``: encryption AES_GCM_16_256, AES_GCM_16_128, CHACHA20_POLY1305, AES_CBC_256,
  AES_CBC_128 as separate proposals; PRF HMAC_SHA2_512+HMAC_SHA2_256; key exchange
  DH19+DH20+DH21+DH31+MODP4096+MODP3072+MODP2048+MODP8192;
- ``esp=``: the same five ciphers, the AEAD ones with integrity NONE and the CBC ones with
  HMAC_SHA2_512_256+HMAC_SHA2_256_128; no key exchange (with PFS the Child SA then uses the
  IKE SA's group);
- ``ah=``: HMAC_SHA2_512_256 and HMAC_SHA2_256_128 as two proposals.

:func:`format_proposals` prints a list back in libreswan's canonical form, for example
``AES_GCM_16_256-HMAC_SHA2_512-DH19, AES_CBC_256-HMAC_SHA2_256-MODP2048``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pluto.crypto.registry import (
    AH,
    ESP,
    IKE,
    Algorithm,
    EncrAlgorithm,
    IntegAlgorithm,
    KeAlgorithm,
    Kind,
    PrfAlgorithm,
    by_name,
    resolve_encryption,
)
from pluto.log import Logger

PROTOCOLS = (IKE, ESP, AH)


class ProposalError(ValueError):
    """A proposal string that cannot be used; the message names the offending token."""

    def __init__(self, message: str, token: str | None = None) -> None:
        super().__init__(message)
        self.token = token


@dataclass(frozen=True)
class EncrChoice:
    """An encryption algorithm with the key length written in the string (None: not given)."""

    alg: EncrAlgorithm
    key_bits: int | None = None

    def __str__(self) -> str:
        return self.alg.fqn if self.key_bits is None else f"{self.alg.fqn}_{self.key_bits}"

    def wire_key_bits(self) -> tuple[int, ...]:
        """The key lengths to put in SA transforms, largest first.

        Without an explicit length, a variable-length cipher is offered with its largest and
        its default length (AES: 256 then 128), as libreswan does. Fixed-length ciphers give
        their one size; they send no Key Length attribute (see ``alg.variable_key``).
        """
        if self.key_bits is not None:
            return (self.key_bits,)
        if not self.alg.variable_key:
            return (self.alg.key_bits_default,)
        return tuple(dict.fromkeys((max(self.alg.key_bits_allowed), self.alg.key_bits_default)))


@dataclass(frozen=True)
class Proposal:
    """One proposal: the algorithms of each transform type, in order of preference."""

    protocol: str
    encrypt: tuple[EncrChoice, ...] = ()
    prf: tuple[PrfAlgorithm, ...] = ()
    integ: tuple[IntegAlgorithm, ...] = ()
    ke: tuple[KeAlgorithm, ...] = ()

    @property
    def aead(self) -> bool:
        return bool(self.encrypt) and self.encrypt[0].alg.aead

    def __str__(self) -> str:
        return format_proposal(self)


# --- defaults (see the module docstring for where they come from) ---------------------------

_DEFAULT_CIPHERS = "aes_gcm_16_256,aes_gcm_16_128,chacha20_poly1305,aes_cbc_256,aes_cbc_128"
_DEFAULT_STRINGS = {IKE: _DEFAULT_CIPHERS, ESP: _DEFAULT_CIPHERS, AH: "sha2_512,sha2_256"}
_DEFAULT_IKE_PRFS = ("sha2_512", "sha2_256")
_DEFAULT_IKE_KES = ("dh19", "dh20", "dh21", "dh31", "modp4096", "modp3072", "modp2048",
                    "modp8192")
_DEFAULT_CHILD_INTEGS = ("sha2_512", "sha2_256")


def _defaults(kind: Kind, names: Iterable[str]) -> tuple:
    return tuple(by_name(kind, name) for name in names)


# --- parsing ---------------------------------------------------------------------------------

_WHAT = {Kind.ENCR: "encryption", Kind.PRF: "PRF", Kind.INTEG: "integrity",
         Kind.KE: "key exchange"}


class _Parser:
    def __init__(self, protocol: str, allow_legacy: bool, pfs: bool,
                 logger: Logger | None) -> None:
        self.protocol = protocol
        self.label = protocol.upper()
        self.allow_legacy = allow_legacy
        self.pfs = pfs
        self.logger = logger

    def debug(self, text: str) -> None:
        if self.logger is not None:
            self.logger.debug("proposal-parser", text)

    def fail(self, message: str, token: str | None = None) -> ProposalError:
        self.debug(f"  error: {message}")
        return ProposalError(message, token)

    # -- the string as a whole --

    def parse(self, text: str) -> list[Proposal]:
        self.debug(f"parsing {self.protocol}={text}")
        if not text.strip():
            raise self.fail(f"{self.label} proposal is empty")
        proposals: list[Proposal] = []
        for number, part in enumerate(text.split(","), 1):
            proposal = self.proposal(part.strip().lower())
            if proposal in proposals:
                self.debug(f"  discarding duplicate proposal {number} '{part.strip()}'")
                continue
            self.debug(f"  proposal {number} '{part.strip()}': {proposal}")
            proposals.append(proposal)
        return proposals

    def proposal(self, part: str) -> Proposal:
        main, semicolon, ke_text = part.partition(";")
        if ";" in ke_text:
            raise self.fail(f"{self.label} proposal '{part}' has more than one ';'", part)
        segments = main.split("-")
        ke_segment = ke_text if semicolon else None
        if self.protocol == IKE:
            return self.ike(segments, ke_segment)
        if self.protocol == ESP:
            return self.esp(segments, ke_segment)
        return self.ah(segments, ke_segment)

    # -- one proposal per protocol --

    def ike(self, segments: list[str], ke_segment: str | None) -> Proposal:
        encrypt, rest = self.encryption(segments)
        integ: tuple[IntegAlgorithm, ...] | None = None
        prf: tuple[PrfAlgorithm, ...] | None = None
        if rest:
            first = rest.pop(0)
            slot_kind = self.classify_ike_slot(first)
            if slot_kind is Kind.PRF:
                prf = self.algorithms(Kind.PRF, first)
            else:
                integ = self.algorithms(Kind.INTEG, first)
                if rest:
                    prf = self.algorithms(Kind.PRF, rest.pop(0))
        ke = self.key_exchanges(rest, ke_segment)
        if prf is None:
            prf = _defaults(Kind.PRF, _DEFAULT_IKE_PRFS)
            self.debug(f"  default PRFs {_join(prf)}")
        integ = self.check_integrity(encrypt, integ, _integ_for(prf), "integrity from the PRFs")
        if ke is None:
            ke = _defaults(Kind.KE, _DEFAULT_IKE_KES)
            self.debug(f"  default key exchanges {_join(ke)}")
        return Proposal(IKE, encrypt, prf, integ, ke)

    def esp(self, segments: list[str], ke_segment: str | None) -> Proposal:
        encrypt, rest = self.encryption(segments)
        integ = self.algorithms(Kind.INTEG, rest.pop(0)) if rest else None
        integ = self.check_integrity(encrypt, integ, _defaults(Kind.INTEG, _DEFAULT_CHILD_INTEGS),
                                     "default integrity")
        return Proposal(ESP, encrypt, (), integ, self.child_key_exchanges(rest, ke_segment))

    def ah(self, segments: list[str], ke_segment: str | None) -> Proposal:
        integ = self.algorithms(Kind.INTEG, segments[0])
        for alg in integ:
            if alg.is_none:
                raise self.fail("AH cannot have 'none' as the integrity algorithm", "none")
        return Proposal(AH, (), (), integ, self.child_key_exchanges(segments[1:], ke_segment))

    # -- slots --

    def encryption(self, segments: list[str]) -> tuple[tuple[EncrChoice, ...], list[str]]:
        """The encryption slot and an optional key-length segment; returns the rest."""
        choices = [self.encryption_token(token) for token in self.tokens(Kind.ENCR, segments[0])]
        rest = segments[1:]
        if rest and rest[0].strip().isdigit():
            bits_text = rest.pop(0).strip()
            if len(choices) != 1 or choices[0].key_bits is not None:
                raise self.fail(f"key length '{bits_text}' must follow exactly one encryption "
                                "algorithm without a key length", bits_text)
            choices[0] = self.with_key_length(choices[0].alg, int(bits_text), bits_text)
        encrypt = _dedupe_encryption(choices, self)
        if len({choice.alg.aead for choice in encrypt}) > 1:
            raise self.fail(f"AEAD and non-AEAD {self.label} encryption algorithms cannot be "
                            f"combined in one proposal ('{segments[0]}')", segments[0])
        return encrypt, rest

    def encryption_token(self, token: str) -> EncrChoice:
        found = resolve_encryption(token)
        if found is None:
            raise self.fail(f"unknown encryption algorithm '{token}'", token)
        alg, bits = found
        self.check_usable(alg, token)
        if bits is None:
            return EncrChoice(alg)
        return self.with_key_length(alg, bits, token)

    def with_key_length(self, alg: EncrAlgorithm, bits: int, token: str) -> EncrChoice:
        if not alg.variable_key:
            raise self.fail(f"encryption algorithm {alg.fqn} does not take a key length "
                            f"('{token}')", token)
        if bits == 0:
            raise self.fail(f"encryption key length is zero ('{token}')", token)
        if bits not in alg.key_bits_allowed:
            valid = ", ".join(str(b) for b in sorted(alg.key_bits_allowed))
            raise self.fail(f"encryption algorithm {alg.fqn} with key length {bits} is invalid "
                            f"('{token}'); valid key lengths: {valid}", token)
        return EncrChoice(alg, bits)

    def classify_ike_slot(self, segment: str) -> Kind:
        """Whether the slot after the IKE encryption lists PRFs or integrity algorithms."""
        first = self.tokens(Kind.PRF, segment)[0]
        if by_name(Kind.PRF, first) is not None:
            return Kind.PRF
        if by_name(Kind.INTEG, first) is not None:
            return Kind.INTEG
        raise self.fail(f"unknown integrity/PRF algorithm '{first}'", first)

    def algorithms(self, kind: Kind, segment: str) -> tuple:
        found: list[Algorithm] = []
        for token in self.tokens(kind, segment):
            alg = by_name(kind, token)
            if alg is None:
                raise self.fail(f"unknown {_WHAT[kind]} algorithm '{token}'", token)
            self.check_usable(alg, token)
            if alg in found:
                self.debug(f"  discarding duplicate {self.label} {_WHAT[kind]} algorithm {alg}")
                continue
            found.append(alg)
        return tuple(found)

    def key_exchanges(self, rest: list[str], ke_segment: str | None
                      ) -> tuple[KeAlgorithm, ...] | None:
        """KEs from a trailing '-KES' segment or from ';KES' (not both); None when absent."""
        ke = None
        if rest:
            ke = self.algorithms(Kind.KE, rest.pop(0))
        if rest:
            raise self.fail(f"{self.label} proposal contains unexpected '{rest[0]}'", rest[0])
        if ke_segment is not None:
            if ke is not None:
                raise self.fail(f"{self.label} proposal gives key exchanges twice "
                                f"(unexpected '{ke_segment}' after ';')", ke_segment)
            ke = self.algorithms(Kind.KE, ke_segment)
        return ke

    def child_key_exchanges(self, rest: list[str], ke_segment: str | None
                            ) -> tuple[KeAlgorithm, ...]:
        ke = self.key_exchanges(rest, ke_segment)
        if ke is None:
            return ()
        if not self.pfs:
            self.debug(f"  ignoring {self.label} key exchange {_join(ke)} as PFS is disabled")
            return ()
        return ke

    def check_integrity(self, encrypt: tuple[EncrChoice, ...],
                        integ: tuple[IntegAlgorithm, ...] | None,
                        default: tuple[IntegAlgorithm, ...], why: str
                        ) -> tuple[IntegAlgorithm, ...]:
        cipher = encrypt[0].alg
        if cipher.aead:
            if integ is not None and any(not alg.is_none for alg in integ):
                raise self.fail(f"AEAD {self.label} encryption algorithm {cipher.fqn} must have "
                                f"'none' as the integrity algorithm", _join(integ))
            return (_none_integ(),)
        if integ is None:
            self.debug(f"  {why} {_join(default)}")
            return default
        if any(alg.is_none for alg in integ):
            raise self.fail(f"non-AEAD {self.label} encryption algorithm {cipher.fqn} cannot "
                            "have 'none' as the integrity algorithm", "none")
        return integ

    # -- tokens --

    def tokens(self, kind: Kind, segment: str) -> list[str]:
        tokens = [token.strip() for token in segment.split("+")]
        for token in tokens:
            if not token:
                where = f" in '{segment}'" if segment.strip() else ""
                raise self.fail(f"{self.label} {_WHAT[kind]} algorithm is empty{where}", segment)
        return tokens

    def check_usable(self, alg: Algorithm, token: str) -> None:
        if self.protocol not in alg.protocols:
            raise self.fail(f"{_WHAT[alg.kind]} algorithm '{token}' ({alg.fqn}) cannot be "
                            f"used for {self.label}", token)
        if alg.legacy and not self.allow_legacy:
            raise self.fail(f"'{token}' is disabled (legacy): {alg.fqn} is only accepted when "
                            "legacy algorithms are explicitly allowed", token)


def _dedupe_encryption(choices: list[EncrChoice], parser: _Parser) -> tuple[EncrChoice, ...]:
    """Drop repeats; a cipher without key length already covers every later length."""
    kept: list[EncrChoice] = []
    for choice in choices:
        if any(k.alg is choice.alg and k.key_bits in (None, choice.key_bits) for k in kept):
            parser.debug(f"  discarding duplicate {parser.label} encryption algorithm {choice}")
            continue
        kept.append(choice)
    return tuple(kept)


def _none_integ() -> IntegAlgorithm:
    alg = by_name(Kind.INTEG, "none")
    assert isinstance(alg, IntegAlgorithm)
    return alg


def _integ_for(prfs: Sequence[PrfAlgorithm]) -> tuple[IntegAlgorithm, ...]:
    """The integrity algorithms that follow from a PRF list (HMAC_SHA2_256 -> ..._256_128)."""
    return tuple(dict.fromkeys(prf.integ for prf in prfs))


def _join(algs: Iterable[object]) -> str:
    return "+".join(str(alg) for alg in algs)


def parse_proposals(protocol: str, text: str | None, *, allow_legacy: bool = False,
                    pfs: bool = True, logger: Logger | None = None) -> list[Proposal]:
    """Parse an ``ike=``/``esp=``/``ah=`` value; None (option not set) gives the defaults.

    ``allow_legacy`` accepts algorithms that are off by default (3DES, MD5, MODP1024 ...);
    with ``pfs`` false, key exchanges in esp=/ah= are dropped as libreswan does. Raises
    ProposalError naming the offending token. Debug lines go to the ``proposal-parser`` class.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown proposal protocol {protocol!r}")
    if logger is None:
        # Every IKE_SA_INIT and IKE_AUTH re-reads its connection's ike=/esp= (no logger: no
        # debug lines to repeat); Proposals are frozen, so one parse per string is enough.
        key = (protocol, text, allow_legacy, pfs)
        cached = _PARSED.get(key)
        if cached is None:
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            cached = _PARSED[key] = tuple(_parse(protocol, text, allow_legacy, pfs, None))
        return list(cached)
    return _parse(protocol, text, allow_legacy, pfs, logger)


_PARSED: dict[tuple[str, str | None, bool, bool], tuple[Proposal, ...]] = {}
_PARSED_MAX = 512


def _parse(protocol: str, text: str | None, allow_legacy: bool, pfs: bool,
           logger: Logger | None) -> list[Proposal]:
    parser = _Parser(protocol, allow_legacy, pfs, logger)
    if text is None:
        parser.debug(f"{protocol}= not set: using the defaults")
        return parser.parse(_DEFAULT_STRINGS[protocol])
    return parser.parse(text)


def parse_ike(text: str | None, *, allow_legacy: bool = False,
              logger: Logger | None = None) -> list[Proposal]:
    return parse_proposals(IKE, text, allow_legacy=allow_legacy, logger=logger)


def parse_esp(text: str | None, *, allow_legacy: bool = False, pfs: bool = True,
              logger: Logger | None = None) -> list[Proposal]:
    return parse_proposals(ESP, text, allow_legacy=allow_legacy, pfs=pfs, logger=logger)


def parse_ah(text: str | None, *, allow_legacy: bool = False, pfs: bool = True,
             logger: Logger | None = None) -> list[Proposal]:
    return parse_proposals(AH, text, allow_legacy=allow_legacy, pfs=pfs, logger=logger)


def default_proposals(protocol: str) -> list[Proposal]:
    """The proposals used when ``ike=``/``esp=``/``ah=`` is not set."""
    return parse_proposals(protocol, None)


# --- printing --------------------------------------------------------------------------------

def format_proposal(proposal: Proposal) -> str:
    """libreswan's canonical form: ENCR[-INTEG]-PRF-KE, ENCR-INTEG[-KE] (ESP), INTEG[-KE] (AH).

    IKE shows the integrity algorithms only when they differ from what the PRFs imply (so
    ``AES_CBC_256-HMAC_SHA2_256-DH19``, but ``AES_CBC-HMAC_SHA1_96-HMAC_SHA2_256-DH21``).
    The output parses back to the same proposal.
    """
    parts: list[str] = []
    if proposal.protocol != AH:
        parts.append(_join(proposal.encrypt))
    if proposal.protocol == IKE:
        if not proposal.aead and proposal.integ != _integ_for(proposal.prf):
            parts.append(_join(proposal.integ))
        parts.append(_join(proposal.prf))
    else:
        parts.append(_join(proposal.integ))
    if proposal.ke:
        parts.append(_join(proposal.ke))
    return "-".join(parts)


def format_proposals(proposals: Iterable[Proposal]) -> str:
    """A whole list, comma separated, as status output prints it."""
    return ", ".join(format_proposal(proposal) for proposal in proposals)
