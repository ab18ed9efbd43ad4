"""IKEv1 phase 1 SA payloads from our proposals, and choosing from the peer's (RFC 2409 §5,
App. A), with the helpers Quick Mode's SA payloads share (pluto/ikev1/phase2_sa.py).

IKEv1 transforms carry one value per attribute, so every combination of algorithms is its own
transform: ``aes256-sha2_256;modp2048+dh19`` offers two. Lifetimes travel as attributes too:
an ISAKMP SA may last at most 8 h (1 h unless configured), an IPsec SA at most a day (8 h);
a longer lifetime from the peer is accepted and cut to our limit, as libreswan does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product

from pluto.crypto.proposals import Proposal as OurProposal
from pluto.crypto.proposals import parse_ike
from pluto.crypto.registry import (
    IKE,
    EncrAlgorithm,
    IntegAlgorithm,
    KeAlgorithm,
    Kind,
    PrfAlgorithm,
    by_ikev1_id,
)
from pluto.log import Logger
from pluto.packet.ikev1 import Attribute, Proposal, SecurityAssociationPayload, Transform
from pluto.packet.ikev1_types import (
    IsakmpTransformId,
    LifeType,
    OakleyAttribute,
    OakleyAuthMethod,
    ProtocolId,
)

ISAKMP_LIFETIME_MAX = 8 * 3600
IPSEC_LIFETIME_MAX = 24 * 3600
# libreswan's IKEv1 defaults when ike=/esp= are not given: CBC only (IKEv1 has no AEAD for
# phase 1), SHA-2 before SHA-1, MODP2048 (every IKEv1 peer has it) before the ECP groups.
DEFAULT_IKE = "aes256-sha2_256;modp2048+dh19,aes128-sha2_256;modp2048+dh19,aes256-sha1;modp2048"
DEFAULT_ESP = "aes256-sha2_256,aes128-sha2_256,aes256-sha1"


class NoProposalChosen(Exception):
    """Nothing in the peer's SA payload is acceptable (or its answer is not what we sent)."""


@dataclass(frozen=True)
class Phase1Chosen:
    encr: EncrAlgorithm
    encr_key_bits: int
    prf: PrfAlgorithm
    ke: KeAlgorithm
    auth: int
    lifetime: int
    integ: IntegAlgorithm | None = None  # IKEv1 phase 1 authenticates with HASH, not integ
    esn: bool = False
    transform: Transform | None = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        bits = f"_{self.encr_key_bits}" if self.encr.variable_key else ""
        return f"{self.encr.fqn}{bits}-{self.prf.fqn}-{self.ke.fqn}"


# --- our proposals -----------------------------------------------------------------------


def ike_proposals(text: str | None) -> list[OurProposal]:
    """``ike=`` (or our default) keeping only what has IKEv1 numbers; ValueError if none."""
    found = [p for p in parse_ike(text or DEFAULT_IKE) if _ikev1_ike(p)]
    if not found:
        raise ValueError(f"ike={text} has no algorithm combination that IKEv1 can negotiate")
    return found


def _ikev1_ike(p: OurProposal) -> bool:
    return (any(e.alg.ikev1_ike_id for e in p.encrypt) and any(f.ikev1_ike_id for f in p.prf)
            and any(k.ikev1_ike_id for k in p.ke))


def _phase1_combinations(proposals: list[OurProposal]):
    for p in proposals:
        for encr, prf, ke in product(p.encrypt, p.prf, p.ke):
            if encr.alg.ikev1_ike_id and prf.ikev1_ike_id and ke.ikev1_ike_id:
                for bits in encr.wire_key_bits():
                    yield encr.alg, bits, prf, ke


def phase1_sa(proposals: list[OurProposal], lifetime: float,
              auth: int = OakleyAuthMethod.PRESHARED_KEY) -> SecurityAssociationPayload:
    """One ISAKMP proposal, one transform (authenticated by ``auth``) per algorithm
    combination."""
    seconds = min(int(lifetime), ISAKMP_LIFETIME_MAX)
    transforms = []
    for number, (encr, bits, prf, ke) in enumerate(_phase1_combinations(proposals), 1):
        attributes = [Attribute(OakleyAttribute.ENCRYPTION_ALGORITHM, encr.ikev1_ike_id),
                      Attribute(OakleyAttribute.HASH_ALGORITHM, prf.ikev1_ike_id),
                      Attribute(OakleyAttribute.AUTHENTICATION_METHOD, auth),
                      Attribute(OakleyAttribute.GROUP_DESCRIPTION, ke.ikev1_ike_id),
                      Attribute(OakleyAttribute.LIFE_TYPE, LifeType.SECONDS),
                      Attribute.number(OakleyAttribute.LIFE_DURATION, seconds)]
        if encr.variable_key:
            attributes.append(Attribute(OakleyAttribute.KEY_LENGTH, bits))
        transforms.append(Transform(number, IsakmpTransformId.KEY_IKE, attributes))
    return SecurityAssociationPayload([Proposal(1, ProtocolId.ISAKMP, transforms)])


# XAUTH's Oakley methods (draft-beaulieu-ike-xauth-02 §7.2): "Init" when the Main Mode
# initiator is the XAUTH client, "Resp" when it is the server. The key exchange and HASH/SIG
# are those of the base method, which is what the rest of phase 1 works with.
XAUTH_METHODS = {
    (OakleyAuthMethod.PRESHARED_KEY, True): OakleyAuthMethod.XAUTH_INIT_PRESHARED,
    (OakleyAuthMethod.PRESHARED_KEY, False): OakleyAuthMethod.XAUTH_RESP_PRESHARED,
    (OakleyAuthMethod.RSA_SIG, True): OakleyAuthMethod.XAUTH_INIT_RSA,
    (OakleyAuthMethod.RSA_SIG, False): OakleyAuthMethod.XAUTH_RESP_RSA,
}
_BASE_METHODS = {int(wire): base for (base, _), wire in XAUTH_METHODS.items()}


def base_method(method: int) -> int:
    """PRESHARED_KEY or RSA_SIG for their XAUTH variants; any other method unchanged."""
    return _BASE_METHODS.get(method, method)


# --- reading transforms -------------------------------------------------------------------


def _attributes(transform: Transform) -> dict[int, int]:
    return {a.type: a.as_int() for a in transform.attributes}


def _lifetime(values: dict[int, int], type_key: int, duration_key: int, default: int,
              limit: int, what: str, logger: Logger | None) -> int:
    if values.get(type_key, LifeType.SECONDS) != LifeType.SECONDS:
        return default  # a kilobyte limit: not enforced, the time limit stays ours
    seconds = values.get(duration_key, default)
    if seconds > limit:
        if logger is not None:
            logger.log(f"peer requested {seconds} seconds which exceeds our limit for the "
                       f"{what} lifetime; reducing to {limit} seconds")
        seconds = limit
    return seconds


def read_phase1(transform: Transform, logger: Logger | None = None) -> Phase1Chosen | None:
    """The algorithms of one ISAKMP transform, or None when we do not know one of them."""
    values = _attributes(transform)
    encr = by_ikev1_id(Kind.ENCR, values.get(OakleyAttribute.ENCRYPTION_ALGORITHM, 0), IKE)
    prf = by_ikev1_id(Kind.PRF, values.get(OakleyAttribute.HASH_ALGORITHM, 0), IKE)
    ke = by_ikev1_id(Kind.KE, values.get(OakleyAttribute.GROUP_DESCRIPTION, 0), IKE)
    if not isinstance(encr, EncrAlgorithm) or not isinstance(prf, PrfAlgorithm) \
            or not isinstance(ke, KeAlgorithm):
        return None
    bits = values.get(OakleyAttribute.KEY_LENGTH, encr.key_bits_default)
    if bits not in encr.key_bits_allowed:
        return None
    lifetime = _lifetime(values, OakleyAttribute.LIFE_TYPE, OakleyAttribute.LIFE_DURATION,
                         3600, ISAKMP_LIFETIME_MAX, "ISAKMP SA", logger)
    return Phase1Chosen(encr, bits, prf, ke,
                        base_method(values.get(OakleyAttribute.AUTHENTICATION_METHOD, 0)),
                        lifetime,
                        transform=transform)


# --- choosing (responder) and checking the answer (initiator) -----------------------------


def _same_algorithms(a, b) -> bool:
    keys = ("encr", "encr_key_bits", "prf", "ke", "integ", "mode")
    return all(getattr(a, k, None) == getattr(b, k, None) for k in keys)


def choose_phase1(ours: SecurityAssociationPayload, theirs: SecurityAssociationPayload,
                  logger: Logger | None = None,
                  auth: int = OakleyAuthMethod.PRESHARED_KEY) -> Phase1Chosen:
    """The peer's first transform (in its order) that we offer too, with our connection's
    authentication method ``auth``."""
    mine = [c for t in ours.proposals[0].transforms if (c := read_phase1(t)) is not None]
    for proposal in theirs.proposals:
        if proposal.protocol != ProtocolId.ISAKMP:
            continue
        for transform in proposal.transforms:
            if transform.transform_id != IsakmpTransformId.KEY_IKE:
                continue
            got = read_phase1(transform, logger)
            if got is not None and got.auth == auth and any(
                    _same_algorithms(got, m) for m in mine):
                return got
    raise NoProposalChosen("no acceptable Oakley transform")


def answer_sa(offer: SecurityAssociationPayload, proposal_number: int, transform: Transform,
              protocol: int, spi: bytes = b"") -> SecurityAssociationPayload:
    """The responder's SA: one proposal carrying the chosen transform as the peer sent it."""
    return SecurityAssociationPayload([Proposal(proposal_number, protocol, [transform], spi)],
                                      offer.doi, offer.situation)


def accept_phase1(offered: SecurityAssociationPayload, answer: SecurityAssociationPayload,
                  logger: Logger | None = None) -> Phase1Chosen:
    """The responder must pick exactly one of the transforms we sent, unchanged."""
    if len(answer.proposals) != 1 or len(answer.proposals[0].transforms) != 1:
        raise NoProposalChosen("the answer must hold one proposal with one transform")
    picked = answer.proposals[0].transforms[0]
    if not any(_same_wire(picked, t) for t in offered.proposals[0].transforms):
        raise NoProposalChosen("the answer's transform is not one we offered")
    chosen = read_phase1(picked, logger)
    if chosen is None:
        raise NoProposalChosen("the answer's transform names unknown algorithms")
    return chosen


def _same_wire(a: Transform, b: Transform) -> bool:
    """Same transform ID and attributes (the transform number may differ)."""
    return a.transform_id == b.transform_id and \
        sorted(_attributes(a).items()) == sorted(_attributes(b).items())
