"""SA payload negotiation: our proposals on the wire, the responder's choice, the initiator's
check of the answer (RFC 7296 §2.7, §3.3).

Expected wire values are written out from the RFC and the IANA registry (ENCR_AES_CBC 12,
ENCR_AES_GCM_16 20, ENCR_CHACHA20_POLY1305 28, PRF_HMAC_SHA2_256 5, PRF_HMAC_SHA2_512 7,
AUTH_HMAC_SHA2_256_128 12, groups 14/19/31, KEY_LENGTH attribute 14, ESN 0/1).
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pluto.crypto.proposals import parse_esp, parse_ike
from pluto.ikev2.negotiation import (
    Chosen,
    NoProposalChosen,
    accept_answer,
    choose,
    offered_ke,
    proposals_to_sa,
    with_child_ke,
    without_ke,
)
from pluto.packet.ikev2 import (
    Proposal,
    SAPayload,
    Transform,
    TransformAttribute,
    emit_payloads,
    parse_payloads,
)
from pluto.packet.ikev2_types import PayloadType, ProtocolId

IKE, ESP = ProtocolId.IKE, ProtocolId.ESP
ENCR, PRF, INTEG, KE, ESN = 1, 2, 3, 4, 5


def t(kind: int, number: int, bits: int | None = None, *extra: TransformAttribute) -> Transform:
    attributes = [] if bits is None else [TransformAttribute(14, bits)]
    return Transform(kind, number, attributes + list(extra))


def sa(*proposals: tuple[int, list[Transform]], protocol: int = IKE, spi: bytes = b"") -> SAPayload:
    return SAPayload(proposals=[Proposal(n, protocol, ts, spi=spi) for n, ts in proposals])


def shape(payload: SAPayload) -> list[tuple[int, int, bytes, list[tuple[int, int, int | None]]]]:
    """Proposals as (number, protocol, SPI, [(type, id, key length)])."""
    return [(p.number, p.protocol, p.spi,
             [(x.transform_type, x.transform_id, x.key_length) for x in p.transforms])
            for p in payload.proposals]


def wire(payload: SAPayload) -> SAPayload:
    """Through the codec and back, as the peer would see it."""
    first, data = emit_payloads([payload])
    (parsed,) = parse_payloads(data, first)
    assert isinstance(parsed, SAPayload)
    return parsed


# --- our proposals on the wire ---------------------------------------------------------------


def test_one_ike_proposal_byte_exact():
    payload = proposals_to_sa(parse_ike("aes_gcm256-sha2_512;dh19"))
    first, data = emit_payloads([payload])
    assert first == PayloadType.SA

    def transform(last, kind, number, attrs=b""):
        return struct.pack("!BBHBBH", last, 0, 8 + len(attrs), kind, 0, number) + attrs

    transforms = (transform(3, 1, 20, struct.pack("!HH", 0x8000 | 14, 256))
                  + transform(3, 2, 7) + transform(0, 4, 19))
    proposal = struct.pack("!BBHBBBB", 0, 0, 8 + len(transforms), 1, 1, 0, 3) + transforms
    assert data == struct.pack("!BBH", 0, 0, 4 + len(proposal)) + proposal


def test_default_ike_proposals():
    payload = proposals_to_sa(parse_ike(None))
    assert [p.number for p in payload.proposals] == [1, 2, 3, 4, 5]
    kes = [(KE, n, None) for n in (19, 20, 21, 31, 16, 15, 14, 18)]
    prfs = [(PRF, 7, None), (PRF, 5, None)]
    assert shape(payload) == [
        (1, IKE, b"", [(ENCR, 20, 256)] + prfs + kes),  # AEAD: no integrity transform
        (2, IKE, b"", [(ENCR, 20, 128)] + prfs + kes),
        (3, IKE, b"", [(ENCR, 28, None)] + prfs + kes),  # ChaCha20: no Key Length attribute
        (4, IKE, b"", [(ENCR, 12, 256)] + prfs + [(INTEG, 14, None), (INTEG, 12, None)] + kes),
        (5, IKE, b"", [(ENCR, 12, 128)] + prfs + [(INTEG, 14, None), (INTEG, 12, None)] + kes),
    ]


def test_aes_without_key_length_is_offered_at_256_then_128():
    payload = proposals_to_sa(parse_ike("aes-sha2;dh19"))
    assert shape(payload)[0][3][:2] == [(ENCR, 12, 256), (ENCR, 12, 128)]


def test_ike_rekey_proposals_carry_the_8_byte_spi():
    payload = wire(proposals_to_sa(parse_ike("aes_gcm256-sha2;dh19,aes128-sha2;dh31"),
                                   b"\x11" * 8))
    assert [p.spi for p in payload.proposals] == [b"\x11" * 8] * 2


@pytest.mark.parametrize(("esn", "expected"), [
    (False, [(ESN, 0, None)]),
    (True, [(ESN, 1, None)]),
    (None, [(ESN, 1, None), (ESN, 0, None)]),
])
def test_esp_proposals_have_spi_and_esn(esn, expected):
    payload = wire(proposals_to_sa(parse_esp("aes_gcm128,aes256-sha2_256;dh14"), b"\xc0\x01\x02\x03",
                                   esn=esn))
    assert shape(payload) == [
        (1, ESP, b"\xc0\x01\x02\x03", [(ENCR, 20, 128)] + expected),
        (2, ESP, b"\xc0\x01\x02\x03",
         [(ENCR, 12, 256), (INTEG, 12, None), (KE, 14, None)] + expected),
    ]


# --- the responder's choice ----------------------------------------------------------------


def test_round_trip_default_proposals():
    ours = parse_ike(None)
    offered = wire(proposals_to_sa(ours))
    chosen = choose(ours, offered)
    assert chosen.number == 1
    assert chosen.describe() == "AES_GCM_16_256-HMAC_SHA2_512-DH19"
    answer = wire(chosen.to_sa())
    assert shape(answer) == [(1, IKE, b"", [(ENCR, 20, 256), (PRF, 7, None), (KE, 19, None)])]
    assert accept_answer(offered, answer) == chosen


def test_peer_order_wins_over_ours():
    ours = parse_ike("aes_gcm256-sha2_512;dh19,aes256-sha2_256;dh19")
    peer = sa((1, [t(ENCR, 12, 256), t(PRF, 5), t(INTEG, 12), t(KE, 19)]),
              (2, [t(ENCR, 20, 256), t(PRF, 7), t(KE, 19)]))
    chosen = choose(ours, peer)
    assert (chosen.number, chosen.encr.fqn, chosen.encr_key_bits) == (1, "AES_CBC", 256)
    assert (chosen.prf.fqn, chosen.integ.fqn) == ("HMAC_SHA2_256", "HMAC_SHA2_256_128")
    assert chosen.describe() == "AES_CBC_256-HMAC_SHA2_256-DH19"


def test_peer_first_acceptable_transform_of_each_type():
    ours = parse_ike("aes_gcm256-sha2_256+sha2_512;dh19+dh31")
    peer = sa((1, [t(ENCR, 20, 128), t(ENCR, 20, 256), t(PRF, 7), t(PRF, 5),
                   t(KE, 14), t(KE, 31), t(KE, 19)]))
    chosen = choose(ours, peer)
    assert (chosen.encr_key_bits, chosen.prf.fqn, chosen.ke.fqn) == (256, "HMAC_SHA2_512", "DH31")
    # The group of the peer's KE payload is taken when the proposal allows it.
    assert choose(ours, peer, ke_hint=19).ke.fqn == "DH19"
    assert choose(ours, peer, ke_hint=14).ke.fqn == "DH31"


def test_key_lengths_must_match():
    peer = sa((1, [t(ENCR, 12, 192), t(PRF, 5), t(INTEG, 12), t(KE, 19)]))
    with pytest.raises(NoProposalChosen):
        choose(parse_ike("aes-sha2;dh19"), peer)  # offers and accepts 256 and 128 only
    chosen = choose(parse_ike("aes192-sha2;dh19"), peer)
    assert (chosen.encr_key_bits, chosen.encr_keymat_size) == (192, 24)
    gcm = choose(parse_ike("aes_gcm128-sha2;dh19"),
                 sa((1, [t(ENCR, 20, 128), t(PRF, 5), t(KE, 19)])))
    assert (gcm.encr_key_bits, gcm.encr_keymat_size, gcm.integ_key_size) == (128, 20, 0)


def test_aes_without_key_length_attribute_is_skipped():
    ours = parse_ike("aes-sha2;dh19")
    with pytest.raises(NoProposalChosen):
        choose(ours, sa((1, [t(ENCR, 12), t(PRF, 5), t(INTEG, 12), t(KE, 19)])))


def test_unknown_transform_ids_are_skipped():
    peer = sa((1, [t(ENCR, 1023, 256), t(ENCR, 20, 256), t(PRF, 250), t(PRF, 5),
                   t(KE, 999), t(KE, 19)]))
    assert choose(parse_ike("aes_gcm256-sha2;dh19"), peer).describe() == \
        "AES_GCM_16_256-HMAC_SHA2_256-DH19"


def test_transform_with_unknown_attribute_is_ignored():
    odd = TransformAttribute(17, 5)
    peer = sa((1, [t(ENCR, 20, 256, odd), t(ENCR, 20, 128), t(PRF, 5), t(KE, 19)]))
    assert choose(parse_ike("aes_gcm-sha2;dh19"), peer).encr_key_bits == 128
    only = sa((1, [t(ENCR, 20, 256, odd), t(PRF, 5), t(KE, 19)]))
    with pytest.raises(NoProposalChosen):
        choose(parse_ike("aes_gcm-sha2;dh19"), only)
    # A Key Length attribute on a PRF makes no sense either.
    with pytest.raises(NoProposalChosen):
        choose(parse_ike("aes_gcm-sha2;dh19"), sa((1, [t(ENCR, 20, 256), t(PRF, 5, 128),
                                                       t(KE, 19)])))


def test_proposal_with_unknown_transform_type_is_unacceptable():
    good = [t(ENCR, 20, 256), t(PRF, 5), t(KE, 19)]
    peer = sa((1, good + [t(200, 1)]), (2, good + [t(ESN, 0)]), (3, good))
    chosen = choose(parse_ike("aes_gcm256-sha2;dh19"), peer)
    assert chosen.number == 3  # ESN is not a transform type of IKE either


def test_missing_mandatory_types():
    ours = parse_ike("aes256-sha2;dh19")
    for transforms in ([t(ENCR, 12, 256), t(PRF, 5), t(KE, 19)],  # no integrity
                       [t(ENCR, 12, 256), t(INTEG, 12), t(KE, 19)],  # no PRF
                       [t(ENCR, 12, 256), t(PRF, 5), t(INTEG, 12)]):  # no KE
        with pytest.raises(NoProposalChosen):
            choose(ours, sa((1, transforms)))


def test_mismatch_raises_no_proposal_chosen():
    peer = wire(proposals_to_sa(parse_ike("aes_gcm256-sha2_512;dh19")))
    with pytest.raises(NoProposalChosen) as info:
        choose(parse_ike("aes_gcm256-sha2_512;modp2048"), peer)
    assert info.value.notify == 14
    with pytest.raises(NoProposalChosen):
        choose(parse_ike("aes256-sha2_512;dh19"), peer)
    with pytest.raises(NoProposalChosen):  # an ESP proposal does not answer IKE
        choose(parse_ike("aes_gcm256-sha2_512;dh19"),
               wire(proposals_to_sa(parse_esp("aes_gcm256"), b"\x00\x00\x10\x00")))


def test_aead_with_integrity_none_is_accepted_and_echoed():
    peer = sa((1, [t(ENCR, 20, 256), t(PRF, 5), t(INTEG, 0), t(KE, 19)]))
    chosen = choose(parse_ike("aes_gcm256-sha2;dh19"), peer)
    assert chosen.integ is None
    assert shape(chosen.to_sa())[0][3] == [(ENCR, 20, 256), (PRF, 5, None), (INTEG, 0, None),
                                           (KE, 19, None)]
    with pytest.raises(NoProposalChosen):  # but not a real integrity algorithm
        choose(parse_ike("aes_gcm256-sha2;dh19"),
               sa((1, [t(ENCR, 20, 256), t(PRF, 5), t(INTEG, 12), t(KE, 19)])))


def test_esp_without_pfs():
    ours = parse_esp("aes_gcm256")
    spi = b"\x9a\xbc\xde\xf0"
    plain = sa((1, [t(ENCR, 20, 256), t(ESN, 0)]), protocol=ESP, spi=spi)
    chosen = choose(ours, plain)
    assert (chosen.ke, chosen.integ, chosen.esn, chosen.spi) == (None, None, False, spi)
    assert chosen.describe() == "AES_GCM_16_256"
    with_none = sa((1, [t(ENCR, 20, 256), t(KE, 0), t(ESN, 0)]), protocol=ESP, spi=spi)
    chosen = choose(ours, with_none)
    assert chosen.ke is None
    assert shape(chosen.to_sa(b"\x00\x00\x12\x34")) == [
        (1, ESP, b"\x00\x00\x12\x34", [(ENCR, 20, 256), (KE, 0, None), (ESN, 0, None)])]
    # The peer insists on PFS, we have none configured.
    with pytest.raises(NoProposalChosen):
        choose(ours, sa((1, [t(ENCR, 20, 256), t(KE, 19), t(ESN, 0)]), protocol=ESP, spi=spi))


def test_esp_with_pfs():
    ours = parse_esp("aes128-sha2_256;dh19")
    spi = b"\x01\x02\x03\x04"
    with pytest.raises(NoProposalChosen):  # no KE offered, but we want PFS
        choose(ours, sa((1, [t(ENCR, 12, 128), t(INTEG, 12), t(ESN, 0)]), protocol=ESP,
                        spi=spi))
    chosen = choose(ours, sa((1, [t(ENCR, 12, 128), t(INTEG, 12), t(KE, 31), t(KE, 19),
                                  t(ESN, 0)]), protocol=ESP, spi=spi))
    assert chosen.describe() == "AES_CBC_128-HMAC_SHA2_256_128-DH19"
    assert (chosen.encr_keymat_size, chosen.integ_key_size) == (16, 32)
    # A "pfs" connection with an esp= line without groups uses the IKE SA's group.
    ike_group = parse_ike("aes_gcm-sha2;dh31")[0].ke[0]
    pfs = with_child_ke(parse_esp("aes_gcm256"), ike_group)
    assert shape(proposals_to_sa(pfs, spi))[0][3] == [(ENCR, 20, 256), (KE, 31, None),
                                                     (ESN, 0, None)]
    assert shape(proposals_to_sa(without_ke(pfs), spi))[0][3] == [(ENCR, 20, 256),
                                                                 (ESN, 0, None)]


def test_ike_auth_child_proposals_with_a_group_from_a_lenient_peer():
    ours = without_ke(parse_esp("aes_gcm256"))
    peer = sa((1, [t(ENCR, 20, 256), t(KE, 19), t(ESN, 0)]), protocol=ESP, spi=b"abcd")
    with pytest.raises(NoProposalChosen):
        choose(ours, peer)
    chosen = choose(ours, peer, ignore_ke=True)
    assert chosen.ke is None
    assert shape(chosen.to_sa(b"wxyz"))[0][3] == [(ENCR, 20, 256), (ESN, 0, None)]


def test_offered_ke_for_invalid_ke_payload():
    ours = parse_ike("aes_gcm256-sha2;dh19+dh31,aes256-sha2;modp2048")
    assert offered_ke(ours, 14).fqn == "MODP2048"
    assert offered_ke(ours, 31).fqn == "DH31"
    assert offered_ke(ours, 20) is None
    assert offered_ke(parse_esp("aes_gcm256;none"), 0) is None


def test_esn_choice():
    peer_esn_only = sa((1, [t(ENCR, 20, 256), t(ESN, 1)]), protocol=ESP, spi=b"abcd")
    with pytest.raises(NoProposalChosen):
        choose(parse_esp("aes_gcm256"), peer_esn_only)
    assert choose(parse_esp("aes_gcm256"), peer_esn_only, esn=True).esn
    either = sa((1, [t(ENCR, 20, 256), t(ESN, 1), t(ESN, 0)]), protocol=ESP, spi=b"abcd")
    assert choose(parse_esp("aes_gcm256"), either, esn=None).esn
    assert not choose(parse_esp("aes_gcm256"), either).esn


# --- the initiator's check of the answer ---------------------------------------------------


def answer(number: int, transforms: list[Transform], protocol: int = IKE,
           spi: bytes = b"") -> SAPayload:
    return sa((number, transforms), protocol=protocol, spi=spi)


OFFER = wire(proposals_to_sa(parse_ike("aes_gcm-sha2_512+sha2_256;dh19+dh31,"
                                       "aes256-sha2_256;modp2048")))


def test_accepted_answer():
    chosen = accept_answer(OFFER, answer(1, [t(ENCR, 20, 128), t(PRF, 5), t(KE, 31)]))
    assert chosen == Chosen(1, IKE, b"", chosen.encr, 128, chosen.prf, None, chosen.ke)
    assert chosen.describe() == "AES_GCM_16_128-HMAC_SHA2_256-DH31"
    second = accept_answer(OFFER, answer(2, [t(ENCR, 12, 256), t(PRF, 5), t(INTEG, 12),
                                             t(KE, 14)]))
    assert second.describe() == "AES_CBC_256-HMAC_SHA2_256-MODP2048"


@pytest.mark.parametrize("bad", [
    answer(3, [t(ENCR, 20, 128), t(PRF, 5), t(KE, 31)]),  # proposal we never sent
    answer(2, [t(ENCR, 20, 128), t(PRF, 5), t(KE, 31)]),  # transforms of proposal 1
    answer(1, [t(ENCR, 20, 192), t(PRF, 5), t(KE, 31)]),  # key length not offered
    answer(1, [t(ENCR, 20, 128), t(PRF, 6), t(KE, 31)]),  # PRF not offered
    answer(1, [t(ENCR, 20, 128), t(PRF, 5)]),  # no KE
    answer(1, [t(ENCR, 20, 128), t(PRF, 5), t(KE, 31), t(KE, 19)]),  # two KEs
    answer(1, [t(ENCR, 20, 128), t(PRF, 5), t(INTEG, 0), t(KE, 31)]),  # INTEG not offered
    answer(1, [t(ENCR, 20, 128), t(PRF, 5), t(KE, 31)], protocol=ESP, spi=b"abcd"),
    sa((1, [t(ENCR, 20, 128), t(PRF, 5), t(KE, 31)]), (2, [t(ENCR, 12, 256), t(PRF, 5),
                                                             t(INTEG, 12), t(KE, 14)])),
], ids=["number", "other-proposal", "key-length", "prf", "no-ke", "two-kes", "integ",
        "protocol", "two-proposals"])
def test_answers_not_among_our_offers_are_rejected(bad):
    with pytest.raises(NoProposalChosen):
        accept_answer(OFFER, bad)


def test_esp_answer_records_the_responders_spi():
    offer = wire(proposals_to_sa(parse_esp("aes_gcm256,aes128-sha2_256"), b"\x00\x00\x10\x01"))
    chosen = accept_answer(offer, answer(2, [t(ENCR, 12, 128), t(INTEG, 12), t(ESN, 0)],
                                         protocol=ESP, spi=b"\x00\x00\x20\x02"))
    assert (chosen.protocol, chosen.spi, chosen.esn) == (ESP, b"\x00\x00\x20\x02", False)
    assert chosen.protocol_name == "esp"
    with pytest.raises(NoProposalChosen):  # ESN type missing from the answer
        accept_answer(offer, answer(2, [t(ENCR, 12, 128), t(INTEG, 12)], protocol=ESP,
                                    spi=b"\x00\x00\x20\x02"))


# --- any pair of configurations ------------------------------------------------------------

IKE_LINES = ["aes_gcm256-sha2_512;dh19", "aes_gcm128-sha2_256;dh31+dh19", "aes-sha2;modp2048",
             "chacha20_poly1305-sha2_512;dh20", "aes256-sha2_512+sha2_256;dh21+dh14",
             "aes_ctr-sha1;dh19", "aes128-sha2_384;dh19", None]


@settings(max_examples=150, deadline=None)
@given(initiator=st.lists(st.sampled_from(IKE_LINES), min_size=1, max_size=3),
       responder=st.lists(st.sampled_from(IKE_LINES), min_size=1, max_size=3))
def test_any_choice_is_accepted_by_the_initiator(initiator, responder):
    def proposals(lines):
        return [p for line in lines for p in parse_ike(line)]

    ours, theirs = proposals(initiator), proposals(responder)
    offered = wire(proposals_to_sa(ours))
    try:
        chosen = choose(theirs, offered)
    except NoProposalChosen:
        # Then no proposal of ours shares an algorithm of every type with one of theirs.
        for mine in ours:
            for other in theirs:
                assert not (set(mine.prf) & set(other.prf) and set(mine.ke) & set(other.ke)
                            and mine.aead == other.aead
                            and {(c.alg, b) for c in mine.encrypt for b in c.wire_key_bits()}
                            & {(c.alg, b) for c in other.encrypt for b in c.wire_key_bits()}
                            and (mine.aead or set(mine.integ) & set(other.integ)))
        return
    mine = ours[chosen.number - 1]
    assert chosen.prf in mine.prf and chosen.ke in mine.ke
    assert chosen.aead or chosen.integ in mine.integ
    assert any(c.alg == chosen.encr and chosen.encr_key_bits in c.wire_key_bits()
               for c in mine.encrypt)
    assert accept_answer(offered, wire(chosen.to_sa())) == chosen
