"""SA payload negotiation (RFC 7296 §2.7, §3.3): our proposals on the wire, and choosing one.

- :func:`proposals_to_sa` turns the proposals of an ``ike=``/``esp=`` line into an SA payload:
  proposals numbered from 1, one transform per algorithm (an AES cipher once per key length,
  with a KEY_LENGTH attribute), no integrity transform for AEAD ciphers (the RECOMMENDED form
  of §3.3), and an ESN transform for ESP and AH.
- :func:`choose` is the responder: it walks the peer's proposals in the peer's order and takes
  the first one acceptable under our list, picking for each transform type the peer's first
  transform that our proposal allows (libreswan's behaviour).
- :func:`accept_answer` is the initiator: the answer must be exactly one of our offers.

Both return a :class:`Chosen`. Unknown transform ids and transforms with unknown attributes are
skipped (§3.3.6); a proposal with a transform type we do not understand, or missing a mandatory
one, is unacceptable as a whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pluto.crypto import registry
from pluto.crypto.proposals import EncrChoice
from pluto.crypto.proposals import Proposal as CryptoProposal
from pluto.crypto.registry import (
    EncrAlgorithm,
    IntegAlgorithm,
    KeAlgorithm,
    Kind,
    PrfAlgorithm,
)
from pluto.log import Logger
from pluto.packet.ikev2_sa import Proposal, SAPayload, Transform, TransformAttribute
from pluto.packet.ikev2_types import (
    EsnId,
    NotifyType,
    ProtocolId,
    TransformAttr,
    TransformType,
)

ENCR = TransformType.ENCR
PRF = TransformType.PRF
INTEG = TransformType.INTEG
KE = TransformType.KE
ESN = TransformType.ESN

_PROTOCOL_IDS = {registry.IKE: ProtocolId.IKE, registry.ESP: ProtocolId.ESP,
                 registry.AH: ProtocolId.AH}
_PROTOCOL_NAMES = {number: name for name, number in _PROTOCOL_IDS.items()}

# Transform types each protocol may carry (RFC 7296 §3.3.3); others make a proposal unusable.
_ALLOWED_TYPES = {
    ProtocolId.IKE: frozenset({ENCR, PRF, INTEG, KE}),
    ProtocolId.ESP: frozenset({ENCR, INTEG, KE, ESN}),
    ProtocolId.AH: frozenset({INTEG, KE, ESN}),
}

# One transform as the wire has it: (type, id, key length or None).
WireTransform = tuple[int, int, int | None]


class NoProposalChosen(Exception):
    """Nothing in the peer's SA payload is acceptable (answer with NO_PROPOSAL_CHOSEN)."""

    notify = NotifyType.NO_PROPOSAL_CHOSEN

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Chosen:
    """The algorithms of one accepted proposal.

    ``protocol`` is a ProtocolId (IKE, ESP, AH); ``spi`` the SPI the peer put in its proposal
    (empty in IKE_SA_INIT). ``encr`` is None only for AH; ``encr_key_bits`` is the key length
    without salt (0 for NULL and AH). ``integ`` is None with an AEAD cipher, ``ke`` None when no
    key exchange was negotiated (ESP/AH without PFS). ``wire`` keeps the transforms exactly as
    accepted so that :meth:`to_sa` echoes them (for example a KE or INTEG of NONE).
    """

    number: int
    protocol: int
    spi: bytes
    encr: EncrAlgorithm | None
    encr_key_bits: int
    prf: PrfAlgorithm | None
    integ: IntegAlgorithm | None
    ke: KeAlgorithm | None
    esn: bool = False
    wire: tuple[WireTransform, ...] = field(default=(), compare=False, repr=False)

    @property
    def protocol_name(self) -> str:
        """``ike``, ``esp`` or ``ah`` (the registry's protocol names)."""
        return _PROTOCOL_NAMES[ProtocolId(self.protocol)]

    @property
    def aead(self) -> bool:
        return self.encr is not None and self.encr.aead

    @property
    def encr_keymat_size(self) -> int:
        """Bytes of keying material for the cipher: key plus salt (0 without a cipher)."""
        if self.encr is None:
            return 0
        return self.encr.keymat_size(self.encr_key_bits)

    @property
    def integ_key_size(self) -> int:
        return 0 if self.integ is None else self.integ.key_size

    def transforms(self) -> list[Transform]:
        """One transform of each negotiated type, in the order of RFC 7296 §3.3.2."""
        wire = self.wire or self._wire_from_algorithms()
        return [_transform(kind, number, bits) for kind, number, bits in wire]

    def to_sa(self, spi: bytes = b"") -> SAPayload:
        """The one-proposal answer (or, for the initiator of a rekey, the one proposal)."""
        proposal = Proposal(self.number, int(self.protocol), self.transforms(), spi=spi)
        return SAPayload(proposals=[proposal])

    def describe(self) -> str:
        """libreswan's short form: ``AES_GCM_16_256-HMAC_SHA2_512-DH19`` (IKE),
        ``AES_CBC_128-HMAC_SHA2_256_128-DH19`` or ``AES_GCM_16_256`` (ESP)."""
        parts = []
        if self.encr is not None:
            bits = self.encr_key_bits if self.encr.variable_key else None
            parts.append(str(EncrChoice(self.encr, bits)))
        if self.integ is not None and not self.integ.is_none:
            # IKE prints the integrity algorithm only when the PRF does not imply it.
            if self.prf is None or self.integ != self.prf.integ:
                parts.append(self.integ.fqn)
        if self.prf is not None:
            parts.append(self.prf.fqn)
        if self.ke is not None:
            parts.append(self.ke.fqn)
        return "-".join(parts)

    def __str__(self) -> str:
        return self.describe()

    def _wire_from_algorithms(self) -> tuple[WireTransform, ...]:
        wire: list[WireTransform] = []
        if self.encr is not None:
            bits = self.encr_key_bits if self.encr.variable_key else None
            wire.append((ENCR, _id(self.encr), bits))
        if self.prf is not None:
            wire.append((PRF, _id(self.prf), None))
        if self.integ is not None and not self.integ.is_none:
            wire.append((INTEG, _id(self.integ), None))
        if self.ke is not None:
            wire.append((KE, _id(self.ke), None))
        if self.protocol in (ProtocolId.ESP, ProtocolId.AH):
            wire.append((ESN, EsnId.ESN if self.esn else EsnId.NO_ESN, None))
        return tuple(wire)


# --- our proposals on the wire -------------------------------------------------------------


def proposals_to_sa(proposals: Sequence[CryptoProposal], spi: bytes = b"", *,
                    esn: bool | None = False) -> SAPayload:
    """Our proposals as an SA payload, numbered from 1, each carrying ``spi``.

    ``spi``: empty in IKE_SA_INIT, the new 8-byte IKE SPI when rekeying the IKE SA, our 4-byte
    inbound SPI for ESP/AH. ``esn`` (ESP/AH only): False offers no ESN, True ESN only, None
    both (ESN preferred).
    """
    if not proposals:
        raise ValueError("no proposals to offer")
    out = []
    for number, proposal in enumerate(proposals, 1):
        protocol = _PROTOCOL_IDS[proposal.protocol]
        transforms = [_transform(*wire) for wire in _offer(proposal, protocol, esn)]
        out.append(Proposal(number, int(protocol), transforms, spi=spi))
    return SAPayload(proposals=out)


def _offer(proposal: CryptoProposal, protocol: ProtocolId, esn: bool | None
           ) -> list[WireTransform]:
    wire: list[WireTransform] = []
    for choice in proposal.encrypt:
        for bits in choice.wire_key_bits():
            wire.append((ENCR, _id(choice.alg), bits if choice.alg.variable_key else None))
    wire += [(PRF, _id(alg), None) for alg in proposal.prf]
    # Combined-mode ciphers: "no integrity transform" is the RECOMMENDED form (§3.3).
    wire += [(INTEG, _id(alg), None) for alg in proposal.integ if not alg.is_none]
    wire += [(KE, _id(alg), None) for alg in proposal.ke]
    if protocol != ProtocolId.IKE:
        choices = {False: (EsnId.NO_ESN,), True: (EsnId.ESN,), None: (EsnId.ESN, EsnId.NO_ESN)}
        wire += [(ESN, number, None) for number in choices[esn]]
    return wire


def _transform(kind: int, number: int, bits: int | None) -> Transform:
    attributes = [] if bits is None else [TransformAttribute.key_length(bits)]
    return Transform(int(kind), int(number), attributes)


def _id(alg: registry.Algorithm) -> int:
    assert alg.ikev2_id is not None, f"{alg} has no IKEv2 number"
    return alg.ikev2_id


def with_child_ke(proposals: Sequence[CryptoProposal], ke: KeAlgorithm
                  ) -> list[CryptoProposal]:
    """ESP/AH proposals for a PFS exchange: those without a key exchange get ``ke``.

    An ``esp=`` line without a group means "the IKE SA's group" when PFS is on (libreswan).
    """
    return [p if p.ke else replace(p, ke=(ke,)) for p in proposals]


def without_ke(proposals: Sequence[CryptoProposal]) -> list[CryptoProposal]:
    """ESP/AH proposals for IKE_AUTH, which carries no key exchange (RFC 7296 §1.2)."""
    return [replace(p, ke=()) for p in proposals]


def offered_ke(proposals: Sequence[CryptoProposal], group: int) -> KeAlgorithm | None:
    """The group the peer asked for in INVALID_KE_PAYLOAD, if we offered it; else None."""
    for proposal in proposals:
        for alg in proposal.ke:
            if alg.ikev2_id == group and not alg.is_none:
                return alg
    return None


# --- reading the peer's proposals ----------------------------------------------------------

_KIND_OF_TYPE = {ENCR: Kind.ENCR, PRF: Kind.PRF, INTEG: Kind.INTEG, KE: Kind.KE}


def _wire_of(transform: Transform, logger: Logger | None) -> WireTransform | None:
    """The transform as (type, id, key length); None when it must be ignored (§3.3.6)."""
    bits: int | None = None
    for attr in transform.attributes:
        known = (transform.transform_type == ENCR and attr.attr_type == TransformAttr.KEY_LENGTH
                 and isinstance(attr.value, int) and bits is None)
        if not known:
            _debug(logger, f"ignoring transform type {transform.transform_type} id "
                           f"{transform.transform_id}: attribute {attr.attr_type} not understood")
            return None
        bits = int(attr.value)
    return (transform.transform_type, transform.transform_id, bits)


def _grouped(proposal: Proposal, logger: Logger | None) -> dict[int, list[WireTransform]] | None:
    """The proposal's usable transforms by type (peer's order); None if a type is not ours."""
    allowed = _ALLOWED_TYPES.get(proposal.protocol)
    if allowed is None:
        return None
    groups: dict[int, list[WireTransform]] = {}
    for transform in proposal.transforms:
        if transform.transform_type not in allowed:
            _debug(logger, f"proposal {proposal.number}: transform type "
                           f"{transform.transform_type} not understood for this protocol")
            return None
        groups.setdefault(transform.transform_type, [])
        wire = _wire_of(transform, logger)
        if wire is not None:
            groups[transform.transform_type].append(wire)
    return groups


@dataclass(frozen=True)
class _Acceptable:
    """What one of our proposals accepts, as wire transforms per type."""

    protocol: ProtocolId
    by_type: dict[int, frozenset[WireTransform]]
    aead: bool

    def accepts(self, wire: WireTransform) -> bool:
        return wire in self.by_type.get(wire[0], frozenset())


def _acceptable(proposal: CryptoProposal, esn: bool | None) -> _Acceptable:
    protocol = _PROTOCOL_IDS[proposal.protocol]
    by_type: dict[int, set[WireTransform]] = {}
    for kind, number, bits in _offer(proposal, protocol, esn):
        by_type.setdefault(kind, set()).add((kind, number, bits))
    if proposal.aead:
        # A peer may also send an integrity transform of NONE with an AEAD cipher (§3.3).
        by_type.setdefault(INTEG, set()).add((INTEG, 0, None))
    if protocol != ProtocolId.IKE and not proposal.ke:
        # Without PFS we take a KE of NONE too (what IKE_AUTH proposals may carry, §1.2).
        by_type[KE] = {(KE, 0, None)}
    return _Acceptable(protocol, {k: frozenset(v) for k, v in by_type.items()}, proposal.aead)


def _pick(groups: dict[int, list[WireTransform]], ours: _Acceptable, ke_hint: int | None
          ) -> tuple[WireTransform, ...] | None:
    """One transform of each type the peer sent, acceptable to ``ours``; None if impossible."""
    picked: list[WireTransform] = []
    for kind in sorted(groups):
        candidates = [w for w in groups[kind] if ours.accepts(w)]
        if not candidates:
            return None
        if kind == KE and ke_hint is not None:
            hinted = [w for w in candidates if w[1] == ke_hint]
            candidates = hinted or candidates
        picked.append(candidates[0])
    if not _required(ours) <= {w[0] for w in picked}:
        return None
    return tuple(picked)


_MANDATORY = {ProtocolId.IKE: {ENCR, PRF, KE}, ProtocolId.ESP: {ENCR}, ProtocolId.AH: {INTEG}}


def _required(ours: _Acceptable) -> set[int]:
    """Transform types the peer's proposal must carry for ``ours`` to take it (§3.3.3)."""
    required = set(_MANDATORY[ours.protocol])
    if not ours.aead and ours.protocol == ProtocolId.ESP:
        required.add(INTEG)
    if ours.protocol == ProtocolId.IKE and not ours.aead:
        required.add(INTEG)
    if ours.protocol != ProtocolId.IKE:
        if not ours.accepts((KE, 0, None)):
            required.add(KE)  # we want PFS: a proposal without KE will not do
        if not ours.accepts((ESN, EsnId.NO_ESN, None)):
            required.add(ESN)  # an absent ESN transform means no ESN, which we refuse
    return required


def _chosen(number: int, protocol: ProtocolId, spi: bytes, wire: tuple[WireTransform, ...]
            ) -> Chosen:
    found = {w[0]: w for w in wire}

    def algorithm(transform_type: int) -> Any:
        # Transform id 0 is NONE for integrity and KE: the same as no algorithm.
        entry = found.get(transform_type)
        if entry is None or (entry[1] == 0 and transform_type in (INTEG, KE)):
            return None
        return registry.by_ikev2_id(_KIND_OF_TYPE[transform_type], entry[1])

    encr: EncrAlgorithm | None = algorithm(ENCR)
    bits = 0
    if encr is not None:
        bits = found[ENCR][2] or encr.key_bits_default
    esn = ESN in found and found[ESN][1] == EsnId.ESN
    return Chosen(number, protocol, spi, encr, bits, algorithm(PRF), algorithm(INTEG),
                  algorithm(KE), esn, wire=tuple(sorted(wire)))


def choose(local: Sequence[CryptoProposal], received: SAPayload, *,
           ke_hint: int | None = None, esn: bool | None = False, ignore_ke: bool = False,
           logger: Logger | None = None) -> Chosen:
    """The responder's choice: the peer's first proposal that one of ours accepts.

    Within that proposal each transform type gets the peer's first transform our proposal
    allows; with ``ke_hint`` (the group of the peer's KE payload in IKE_SA_INIT) that group is
    taken when the proposal allows it, sparing an INVALID_KE_PAYLOAD round trip. ``esn`` says
    which ESN values we accept for ESP/AH (False: no ESN, True: ESN, None: either).
    ``ignore_ke`` drops the peer's KE transforms before matching: IKE_AUTH proposals may not
    carry a group (RFC 7296 §1.2) but some peers send one anyway. Raises NoProposalChosen.

    In IKE_SA_INIT the caller still compares ``chosen.ke`` with the KE payload's group and
    answers INVALID_KE_PAYLOAD when they differ.
    """
    ours = [_acceptable(p, esn) for p in local]
    for proposal in received.proposals:
        groups = _grouped(proposal, logger)
        if groups is None:
            continue
        if ignore_ke:
            groups.pop(KE, None)
        for index, acceptable in enumerate(ours):
            if acceptable.protocol != proposal.protocol:
                continue
            wire = _pick(groups, acceptable, ke_hint)
            if wire is not None:
                chosen = _chosen(proposal.number, acceptable.protocol, proposal.spi, wire)
                _debug(logger, f"accepted peer proposal {proposal.number} "
                               f"{chosen.describe()} (our proposal {index + 1})")
                return chosen
        _debug(logger, f"peer proposal {proposal.number} matches none of ours")
    raise NoProposalChosen(f"none of the peer's {len(received.proposals)} proposals "
                           "is acceptable")


def accept_answer(offered: SAPayload, answer: SAPayload, *,
                  logger: Logger | None = None) -> Chosen:
    """The initiator's check of the responder's SA: one proposal, one of our offers.

    The answer must carry exactly one proposal, numbered like one we sent with the same
    protocol, with exactly one transform of each type we offered in it, each one we offered.
    Raises NoProposalChosen otherwise.
    """
    if len(answer.proposals) != 1:
        raise NoProposalChosen(f"answer has {len(answer.proposals)} proposals, not 1")
    got = answer.proposals[0]
    ours = next((p for p in offered.proposals if p.number == got.number), None)
    if ours is None or ours.protocol != got.protocol:
        raise NoProposalChosen(f"answer names proposal {got.number}, which we did not offer")
    offered_wire: dict[int, set[WireTransform]] = {}
    for transform in ours.transforms:
        wire = _wire_of(transform, None)
        if wire is not None:
            offered_wire.setdefault(wire[0], set()).add(wire)
    picked: list[WireTransform] = []
    for transform in got.transforms:
        wire = _wire_of(transform, logger)
        if wire is None or wire not in offered_wire.get(wire[0], ()):
            raise NoProposalChosen(f"answer transform type {transform.transform_type} id "
                                   f"{transform.transform_id} was not offered")
        picked.append(wire)
    types = [w[0] for w in picked]
    if len(types) != len(set(types)):
        raise NoProposalChosen("answer has more than one transform of a type")
    if set(types) != set(offered_wire):
        missing = ", ".join(str(t) for t in sorted(set(offered_wire) - set(types)))
        raise NoProposalChosen(f"answer lacks transform types {missing}")
    chosen = _chosen(got.number, ProtocolId(got.protocol), got.spi, tuple(picked))
    _debug(logger, f"peer accepted our proposal {got.number}: {chosen.describe()}")
    return chosen


def _debug(logger: Logger | None, text: str) -> None:
    if logger is not None:
        logger.debug("crypt", text)


_TYPE_NAMES = {ENCR: "ENCR", PRF: "PRF", INTEG: "INTEG", KE: "KE", ESN: "ESN"}


def describe_sa(sa: SAPayload) -> Iterable[str]:
    """One line per proposal, for debug output: ``1: ENCR=20_256 PRF=7 KE=19``."""
    for proposal in sa.proposals:
        parts = []
        for t in proposal.transforms:
            bits = t.key_length
            name = _TYPE_NAMES.get(t.transform_type, f"TYPE{t.transform_type}")
            parts.append(f"{name}={t.transform_id}"
                         + ("" if bits is None else f"_{bits}"))
        yield f"{proposal.number}: " + " ".join(parts)
