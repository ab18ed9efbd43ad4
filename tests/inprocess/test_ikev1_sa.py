"""IKEv1 SA payloads: one transform per algorithm combination, lifetimes capped at the
issue's limits (ISAKMP 8 h, IPsec 24 h), the responder's echo of the chosen transform, and
the commit bit ignored with a warning."""

from __future__ import annotations

import pytest

from pluto.ikev1.phase2_sa import Offer, choose_phase2, esp_proposals, phase2_sa
from pluto.ikev1.sa import (
    IPSEC_LIFETIME_MAX,
    ISAKMP_LIFETIME_MAX,
    NoProposalChosen,
    accept_phase1,
    answer_sa,
    choose_phase1,
    ike_proposals,
    phase1_sa,
)
from pluto.log import CollectingLogger
from pluto.packet.ikev1 import Attribute, emit_payloads, parse_payloads
from pluto.packet.ikev1_types import IPsecAttribute, OakleyAttribute, ProtocolId


def _values(transform) -> dict[int, int]:
    return {a.type: a.as_int() for a in transform.attributes}


def test_one_transform_per_combination_with_rfc_numbers():
    sa = phase1_sa(ike_proposals("aes-sha2_256+sha1;modp2048+dh19"), 3600)
    transforms = sa.proposals[0].transforms
    # AES without a key length is offered with 256 and 128 bits: 2 x 2 hashes x 2 groups
    assert len(transforms) == 8
    first = _values(transforms[0])
    # RFC 2409 App. A: AES-CBC 7, SHA2-256 4, PSK 1, MODP2048 14, seconds 1
    assert first == {1: 7, 2: 4, 3: 1, 4: 14, 11: 1, 12: 3600, 14: 256}
    assert {(v[14], v[2], v[4]) for v in map(_values, transforms)} == {
        (bits, h, g) for bits in (256, 128) for h in (4, 2) for g in (14, 19)}
    # the payload survives the wire
    _type, data = emit_payloads([sa])
    assert parse_payloads(data, 1)[0][0] == sa


def test_lifetimes_are_capped_when_proposed_and_when_accepted():
    sa = phase1_sa(ike_proposals(None), 86400)
    assert _values(sa.proposals[0].transforms[0])[OakleyAttribute.LIFE_DURATION] == \
        ISAKMP_LIFETIME_MAX
    esp = phase2_sa(Offer(esp_proposals(None, pfs=False), bytes(4)), 10 * 86400, True, None)
    assert _values(esp.proposals[0].transforms[0])[IPsecAttribute.SA_LIFE_DURATION] == \
        IPSEC_LIFETIME_MAX
    # a peer asking for a day of ISAKMP SA gets 8 h, and the log says so
    theirs = phase1_sa(ike_proposals(None), 3600)
    transform = theirs.proposals[0].transforms[0]
    transform.attributes[5] = Attribute.number(OakleyAttribute.LIFE_DURATION, 86400)
    logger = CollectingLogger()
    chosen = choose_phase1(phase1_sa(ike_proposals(None), 3600), theirs, logger)
    assert chosen.lifetime == ISAKMP_LIFETIME_MAX
    assert any("exceeds our limit" in line for line in logger.lines)


def test_responder_echoes_the_peer_transform_and_the_initiator_checks_it():
    offer = phase1_sa(ike_proposals("aes128-sha1;modp2048,aes256-sha2_256;modp2048"), 3600)
    ours = phase1_sa(ike_proposals("aes256-sha2_256;modp2048"), 3600)
    chosen = choose_phase1(ours, offer)
    assert (chosen.encr.fqn, chosen.encr_key_bits, chosen.prf.fqn) == \
        ("AES_CBC", 256, "HMAC_SHA2_256")
    answer = answer_sa(offer, 1, chosen.transform, ProtocolId.ISAKMP)
    assert accept_phase1(offer, answer) == chosen
    forged = phase1_sa(ike_proposals("aes256-sha2_512;modp2048"), 3600)
    forged.proposals[0].transforms = forged.proposals[0].transforms[:1]
    with pytest.raises(NoProposalChosen):
        accept_phase1(offer, forged)
    with pytest.raises(NoProposalChosen):
        choose_phase1(phase1_sa(ike_proposals("aes128-sha2_512;modp3072"), 3600), offer)


def test_esp_transforms_carry_mode_group_and_auth():
    from pluto.crypto.registry import Kind, by_name

    dh19 = by_name(Kind.KE, "dh19")
    esp = phase2_sa(Offer(esp_proposals("aes128-sha1", pfs=True), b"\x01\x02\x03\x04"), 28800,
                    False, dh19)
    proposal = esp.proposals[0]
    assert (proposal.protocol, proposal.spi) == (ProtocolId.IPSEC_ESP, b"\x01\x02\x03\x04")
    (transform,) = proposal.transforms
    # RFC 2407 4.4.4 / 4.5: ESP_AES 12, HMAC-SHA1 2, transport mode 2, group 19
    assert transform.transform_id == 12
    assert _values(transform) == {1: 1, 2: 28800, 3: 19, 4: 2, 5: 2, 6: 128}
    chosen = choose_phase2(esp, esp)
    assert chosen.ke == dh19 and chosen.keymat_size == 16 + 20


def test_commit_bit_is_ignored_with_a_warning():
    from pluto.packet.ikev1 import emit_message, parse_message
    from pluto.packet.ikev1_types import HeaderFlag
    from tests.inprocess.harness import Pair, connection

    pair = Pair()
    for host in (pair.west, pair.east):
        host.core.options.ikev1_policy = "accept"
    pair.add(connection(ikev2=False))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    mi1 = parse_message(pair.drop_next().data)
    mi1.flags |= HeaderFlag.COMMIT
    pair.east.core.packet_received(emit_message(mi1), pair.east.endpoint, pair.west.endpoint)
    pair.pump()
    assert pair.east.lines_with("Commit Flag set")
    pair.advance(1)
    assert reply.finished == 0, reply.lines
