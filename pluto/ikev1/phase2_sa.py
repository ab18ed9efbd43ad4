"""Quick Mode SA payloads: ESP, AH, or an ESP+AH bundle (RFC 2407 §4.4-4.5, RFC 2408 §4.2).

A bundle is two proposals with the same proposal number, one per protocol, each with its own
SPI: the peer must take both or neither. Every transform names the same encapsulation mode
and PFS group (one KE payload). AH transforms are named by the AH transform id and carry the
authentication algorithm attribute too, which RFC 2407 §4.5 requires and must agree.

In an ESP+AH bundle AH protects with the integrity algorithms of ``esp=``; when those are all
AEAD (no integrity), with the AH defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import groupby, product

from pluto.crypto.proposals import Proposal as OurProposal
from pluto.crypto.proposals import default_proposals, parse_ah, parse_esp
from pluto.crypto.registry import (
    AH,
    ESP,
    EncrAlgorithm,
    IntegAlgorithm,
    KeAlgorithm,
    Kind,
    by_ikev1_id,
)
from pluto.ikev1.sa import (
    DEFAULT_ESP,
    IPSEC_LIFETIME_MAX,
    NoProposalChosen,
    _attributes,
    _lifetime,
    _same_wire,
)
from pluto.log import Logger
from pluto.packet.ikev1 import Attribute, Proposal, SecurityAssociationPayload, Transform
from pluto.packet.ikev1_types import EncapsulationMode, IPsecAttribute, LifeType, ProtocolId

# the kernel's names of the IPsec protocols
KERNEL_NAMES = {ProtocolId.IPSEC_ESP: "esp", ProtocolId.IPSEC_AH: "ah"}
_LABELS = {ProtocolId.IPSEC_ESP: "ESP", ProtocolId.IPSEC_AH: "AH"}


@dataclass(frozen=True)
class Phase2Chosen:
    """One protocol's transform; ``ah`` is the AH half when this is the ESP of a bundle."""

    encr: EncrAlgorithm | None  # None for AH
    encr_key_bits: int
    integ: IntegAlgorithm | None
    ke: KeAlgorithm | None
    mode: int
    lifetime: int
    spi: bytes = b""  # the SPI the peer put in its proposal: our outbound SPI
    esn: bool = False
    transform: Transform | None = field(default=None, compare=False, repr=False)
    protocol: int = ProtocolId.IPSEC_ESP
    ah: Phase2Chosen | None = None

    @property
    def protocol_name(self) -> str:
        """The kernel's name: ``esp`` or ``ah``."""
        return KERNEL_NAMES[ProtocolId(self.protocol)]

    @property
    def keymat_size(self) -> int:
        integ = 0 if self.integ is None else self.integ.key_size
        encr = 0 if self.encr is None else self.encr.keymat_size(self.encr_key_bits)
        return encr + integ

    def parts(self) -> list[Phase2Chosen]:
        """Each protocol's transform, innermost (ESP) first, without the bundle link."""
        return [replace(self, ah=None)] + ([self.ah] if self.ah is not None else [])

    def describe(self) -> str:
        texts = []
        for part in self.parts():
            algs = []
            if part.encr is not None:
                bits = f"_{part.encr_key_bits}" if part.encr.variable_key else ""
                algs.append(f"{part.encr.fqn}{bits}")
            if part.integ is not None and not part.integ.is_none:
                algs.append(part.integ.fqn)
            if part.ke is not None:
                algs.append(part.ke.fqn)
            texts.append(f"{_LABELS[ProtocolId(part.protocol)]}/{'-'.join(algs)}")
        return "+".join(texts)


# --- our proposals -------------------------------------------------------------------------


def esp_proposals(text: str | None, pfs: bool) -> list[OurProposal]:
    found = [p for p in parse_esp(text or DEFAULT_ESP, pfs=pfs)
             if any(e.alg.ikev1_esp_id for e in p.encrypt)]
    if not found:
        raise ValueError(f"esp={text} has no algorithm combination that IKEv1 can negotiate")
    return found


def ah_proposals(text: str | None, pfs: bool) -> list[OurProposal]:
    found = [p for p in parse_ah(text, pfs=pfs) if any(i.ikev1_ah_id for i in p.integ)]
    if not found:
        raise ValueError(f"ah={text} has no integrity algorithm that IKEv1 AH can negotiate")
    return found


def bundle_ah_proposals(esp: list[OurProposal]) -> list[OurProposal]:
    """The AH half of ESP+AH: the ESP proposals' integrity algorithms, else AH's defaults."""
    integs = tuple(dict.fromkeys(i for p in esp for i in p.integ
                                 if not i.is_none and i.ikev1_ah_id))
    if integs:
        return [OurProposal(AH, (), (), integs, ())]
    return [p for p in default_proposals(AH) if any(i.ikev1_ah_id for i in p.integ)]


@dataclass(frozen=True)
class Offer:
    """What to put in a Quick Mode SA payload: per protocol our proposals and inbound SPI."""

    esp: list[OurProposal] | None
    esp_spi: bytes
    ah: list[OurProposal] | None = None
    ah_spi: bytes = b""


def phase2_sa(offer: Offer, lifetime: float, tunnel: bool, pfs_group: KeAlgorithm | None,
              mode: int | None = None) -> SecurityAssociationPayload:
    """Proposal 1: ESP and/or AH, a transform per cipher/key length/integrity.

    With PFS every transform names ``pfs_group`` (the KE payload can carry only one).
    ``mode`` overrides the encapsulation mode ``tunnel`` implies (NAT-T's UDP modes)."""
    seconds = min(int(lifetime), IPSEC_LIFETIME_MAX)
    if mode is None:
        mode = EncapsulationMode.TUNNEL if tunnel else EncapsulationMode.TRANSPORT
    common = [Attribute(IPsecAttribute.SA_LIFE_TYPE, LifeType.SECONDS),
              Attribute.number(IPsecAttribute.SA_LIFE_DURATION, seconds)]
    if pfs_group is not None:
        common.append(Attribute(IPsecAttribute.GROUP_DESCRIPTION, pfs_group.ikev1_esp_id))
    common.append(Attribute(IPsecAttribute.ENCAPSULATION_MODE, mode))
    proposals = []
    if offer.esp is not None:
        proposals.append(Proposal(1, ProtocolId.IPSEC_ESP, _esp_transforms(offer.esp, common),
                                  offer.esp_spi))
    if offer.ah is not None:
        proposals.append(Proposal(1, ProtocolId.IPSEC_AH, _ah_transforms(offer.ah, common),
                                  offer.ah_spi))
    return SecurityAssociationPayload(proposals)


def _esp_transforms(proposals: list[OurProposal], common: list[Attribute]) -> list[Transform]:
    transforms: list[Transform] = []
    for p in proposals:
        integs = [i for i in p.integ if not i.is_none and i.ikev1_esp_id] or [None]
        for encr, integ in product(p.encrypt, integs):
            if not encr.alg.ikev1_esp_id or (integ is None and not encr.alg.aead):
                continue
            for bits in encr.wire_key_bits():
                attributes = list(common)
                if integ is not None:
                    attributes.append(Attribute(IPsecAttribute.AUTHENTICATION_ALGORITHM,
                                                integ.ikev1_esp_id))
                if encr.alg.variable_key:
                    attributes.append(Attribute(IPsecAttribute.KEY_LENGTH, bits))
                transforms.append(Transform(len(transforms) + 1, encr.alg.ikev1_esp_id,
                                            attributes))
    return transforms


def _ah_transforms(proposals: list[OurProposal], common: list[Attribute]) -> list[Transform]:
    integs = dict.fromkeys(i for p in proposals for i in p.integ if i.ikev1_ah_id)
    return [Transform(number, integ.ikev1_ah_id,
                      [*common, Attribute(IPsecAttribute.AUTHENTICATION_ALGORITHM,
                                          integ.ikev1_esp_id)])
            for number, integ in enumerate(integs, 1)]


# --- reading transforms --------------------------------------------------------------------


def read_phase2(transform: Transform, spi: bytes, logger: Logger | None = None,
                protocol: int = ProtocolId.IPSEC_ESP) -> Phase2Chosen | None:
    """The algorithms of one ESP or AH transform, or None when we do not know one of them."""
    values = _attributes(transform)
    auth = values.get(IPsecAttribute.AUTHENTICATION_ALGORITHM)
    encr: EncrAlgorithm | None = None
    integ = None
    bits = 0
    if protocol == ProtocolId.IPSEC_AH:
        integ = by_ikev1_id(Kind.INTEG, transform.transform_id, AH)
        if not isinstance(integ, IntegAlgorithm) or auth != integ.ikev1_esp_id:
            return None
    else:
        found = by_ikev1_id(Kind.ENCR, transform.transform_id, ESP)
        if not isinstance(found, EncrAlgorithm):
            return None
        encr = found
        if auth is not None:
            integ = by_ikev1_id(Kind.INTEG, auth, ESP)
            if not isinstance(integ, IntegAlgorithm):
                return None
        elif not encr.aead:
            return None
        bits = values.get(IPsecAttribute.KEY_LENGTH, encr.key_bits_default)
        if encr.key_bits_allowed and bits not in encr.key_bits_allowed:
            return None
    ke = None
    if IPsecAttribute.GROUP_DESCRIPTION in values:
        ke = by_ikev1_id(Kind.KE, values[IPsecAttribute.GROUP_DESCRIPTION], ESP)
        if not isinstance(ke, KeAlgorithm):
            return None
    lifetime = _lifetime(values, IPsecAttribute.SA_LIFE_TYPE, IPsecAttribute.SA_LIFE_DURATION,
                         28800, IPSEC_LIFETIME_MAX, "IPsec SA", logger)
    mode = values.get(IPsecAttribute.ENCAPSULATION_MODE, EncapsulationMode.TUNNEL)
    return Phase2Chosen(encr, bits, integ, ke, mode, lifetime, spi, transform=transform,
                        protocol=protocol)


# --- choosing (responder) and checking the answer (initiator) ------------------------------


def _same_algorithms(a: Phase2Chosen, b: Phase2Chosen) -> bool:
    keys = ("protocol", "encr", "encr_key_bits", "ke", "integ", "mode")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def _bundle(parts: dict[int, Phase2Chosen]) -> Phase2Chosen | None:
    """ESP (or AH alone) with the AH half attached; None when the halves disagree on the
    mode or PFS group, which one IPsec SA bundle cannot have."""
    esp, ah = parts.get(ProtocolId.IPSEC_ESP), parts.get(ProtocolId.IPSEC_AH)
    if esp is None:
        return ah
    if ah is None:
        return esp
    if (esp.mode, esp.ke) != (ah.mode, ah.ke):
        return None
    # the bundle lives as long as its shorter half
    return replace(esp, ah=ah, lifetime=min(esp.lifetime, ah.lifetime))


def _transform_text(transform: Transform, got: Phase2Chosen | None) -> str:
    """What we read in a peer's transform, for the debug log when nothing matches."""
    raw = f"id={transform.transform_id} " + " ".join(
        f"{a.type}={a.as_int()}" for a in transform.attributes)
    if got is None:
        return f"{raw} (an algorithm we do not know)"
    return f"{raw} -> {got.describe()} mode={got.mode}"


def _protocols_text(sa: SecurityAssociationPayload) -> str:
    return "+".join(_LABELS.get(p.protocol, str(p.protocol)) for p in sa.proposals)


def choose_phase2(ours: SecurityAssociationPayload, theirs: SecurityAssociationPayload,
                  logger: Logger | None = None) -> Phase2Chosen:
    """The peer's first proposal (by number) with exactly our protocols, taking in each the
    first transform that we offer too."""
    mine = {p.protocol: [c for t in p.transforms
                         if (c := read_phase2(t, b"", None, p.protocol)) is not None]
            for p in ours.proposals}
    if logger is not None and logger.debugging("base"):
        for protocol, choices in mine.items():
            logger.debug("base", f"we accept {_LABELS.get(protocol, protocol)}: " + ", ".join(
                f"{c.describe()} mode={c.mode}" for c in choices))
    for _number, group in groupby(theirs.proposals, key=lambda p: p.number):
        alternatives = list(group)
        if sorted(p.protocol for p in alternatives) != sorted(mine) or any(
                len(p.spi) != 4 for p in alternatives):
            continue
        picks: dict[int, Phase2Chosen] = {}
        for proposal in alternatives:
            for transform in proposal.transforms:
                got = read_phase2(transform, proposal.spi, logger, proposal.protocol)
                if logger is not None and logger.debugging("base"):
                    logger.debug("base", f"peer's proposal {proposal.number} transform "
                                 f"{transform.number}: {_transform_text(transform, got)}")
                if got is not None and any(_same_algorithms(got, m)
                                           for m in mine[proposal.protocol]):
                    picks[proposal.protocol] = got
                    break
        if len(picks) == len(mine) and (chosen := _bundle(picks)) is not None:
            return chosen
    raise NoProposalChosen(f"no acceptable {_protocols_text(ours)} transform")


def answer_phase2(offer: SecurityAssociationPayload, chosen: Phase2Chosen,
                  spis: dict[int, bytes]) -> SecurityAssociationPayload:
    """The responder's SA: the chosen proposal with each protocol's transform as the peer
    sent it and our inbound SPI for that protocol."""
    parts = chosen.parts()
    number = next(p.number for p in offer.proposals if parts[0].transform in p.transforms)
    proposals = [Proposal(number, part.protocol, [part.transform], spis[part.protocol])
                 for part in parts]
    return SecurityAssociationPayload(proposals, offer.doi, offer.situation)


def accept_phase2(offered: SecurityAssociationPayload, answer: SecurityAssociationPayload,
                  logger: Logger | None = None) -> Phase2Chosen:
    """The answer must hold our protocols, each with one transform that we offered."""
    ours = {p.protocol: p for p in offered.proposals}
    if sorted(p.protocol for p in answer.proposals) != sorted(ours) or \
            len({p.number for p in answer.proposals}) != 1:
        raise NoProposalChosen(f"the answer is not one {_protocols_text(offered)} proposal")
    picks: dict[int, Phase2Chosen] = {}
    for proposal in answer.proposals:
        if len(proposal.transforms) != 1 or len(proposal.spi) != 4:
            raise NoProposalChosen("each answered protocol must have one transform and a "
                                   "4-byte SPI")
        picked = proposal.transforms[0]
        if not any(_same_wire(picked, t) for t in ours[proposal.protocol].transforms):
            raise NoProposalChosen("the answer's transform is not one we offered")
        chosen = read_phase2(picked, proposal.spi, logger, proposal.protocol)
        if chosen is None:
            raise NoProposalChosen("the answer's transform names unknown algorithms")
        picks[proposal.protocol] = chosen
    bundle = _bundle(picks)
    if bundle is None:
        raise NoProposalChosen("the answer's ESP and AH disagree on mode or PFS group")
    return bundle
