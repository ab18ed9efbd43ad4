"""IKEv1 Main Mode (PSK) + Quick Mode (PFS) between two in-process cores: both kernels hold
matching SAs, and their keys are recomputed here from the RFC 2409 formulas of
pluto.crypto.kdf_ikev1 out of what crossed the wire (nonces, cookies, SPIs) and the DH
secrets; wrong PSK, no proposal chosen, lost and duplicated messages, Delete."""

from __future__ import annotations

import pytest

from pluto.crypto.kdf_ikev1 import ikev1_keys, quick_mode_keymat, skeyid_psk
from pluto.crypto.prf import PRFS
from pluto.ikev1 import informational
from pluto.ikev1.states import IsakmpSa, QuickSa
from pluto.packet.ikev1 import (
    KeyExchangePayload,
    NoncePayload,
    SecurityAssociationPayload,
    parse_message,
)
from pluto.packet.ikev1_types import NotifyType
from pluto.whack_protocol import RC_NOTIFICATION
from tests.inprocess.harness import PSK, Pair

MESSAGES = ("MI1", "MR1", "MI2", "MR2", "MI3", "MR3", "QI1", "QR1", "QI2")


def _pair(**kw) -> Pair:
    pair = Pair(**kw)
    for host in (pair.west, pair.east):
        host.core.options.ikev1_policy = "accept"
        host.impairs.apply("revival")
    return pair


def _add(pair: Pair, west_extra: dict | None = None, east_extra: dict | None = None) -> None:
    from tests.inprocess.harness import connection

    pair.add(connection(ikev2=False, **(west_extra or {})),
             connection(ikev2=False, **(east_extra or {})))


def _establish(pair: Pair):
    _add(pair)
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    return reply


def _states(host, cls):
    return [s for s in host.core.states if isinstance(s, cls)]


def _check_kernels_match(pair: Pair) -> None:
    west = {sa.id.spi: sa for sa in pair.west.kernel.installed_sas()}
    east = {sa.id.spi: sa for sa in pair.east.kernel.installed_sas()}
    assert len(west) == len(east) == 2 and set(west) == set(east)
    for spi, sa in west.items():
        peer = east[spi]
        assert (sa.id, sa.src, sa.encrypt_key, sa.integ_key, sa.src_selector) == \
               (peer.id, peer.src, peer.encrypt_key, peer.integ_key, peer.src_selector)


def test_main_and_quick_mode_psk_establish_with_independently_derived_keys():
    pair = _pair()
    reply = _establish(pair)
    assert reply.finished == 0, reply.lines
    texts = reply.texts
    assert texts[0] == '"west-east" #1: initiating IKEv1 Main Mode connection'
    assert texts[1] == '"west-east" #1: sent Main Mode request to 127.0.0.2:UDP/500'
    assert "initiator established ISAKMP SA {auth=PRESHARED_KEY cipher=AES_CBC_256" in texts[4]
    assert texts[-1].startswith('"west-east" #2: IPsec SA established IPsec tunnel '
                                '[198.18.1.0/24===198.18.2.0/24] {ESP=>0x')
    assert [s.kind.name for s in pair.west.core.states] == ["STATE_MAIN_I4", "STATE_QUICK_I2"]
    assert [s.kind.name for s in pair.east.core.states] == ["STATE_MAIN_R3", "STATE_QUICK_R2"]
    _check_kernels_match(pair)

    # Recompute everything from the clear Main Mode messages and the PSK.
    wire = [parse_message(d.data) for d in pair.wire.sent]
    mi1, mr1, mi2, mr2 = wire[:4]
    assert mr1.find(SecurityAssociationPayload)[0].proposals[0].transforms[0] in \
        mi1.find(SecurityAssociationPayload)[0].proposals[0].transforms
    ni, nr = mi2.find(NoncePayload)[0].data, mr2.find(NoncePayload)[0].data
    cky_i, cky_r = mr1.icookie, mr1.rcookie
    west_isakmp = _states(pair.west, IsakmpSa)[0]
    east_isakmp = _states(pair.east, IsakmpSa)[0]
    g_xy = west_isakmp.keypair.shared_secret(mr2.find(KeyExchangePayload)[0].data)
    assert g_xy == east_isakmp.keypair.shared_secret(mi2.find(KeyExchangePayload)[0].data)
    prf = PRFS[5]  # HMAC_SHA2_256: the negotiated hash of the default proposal
    keys = ikev1_keys(prf, skeyid_psk(prf, PSK.encode(), ni, nr), g_xy, cky_i, cky_r)
    west_child, east_child = _states(pair.west, QuickSa)[0], _states(pair.east, QuickSa)[0]
    g_qm = west_child.keypair.shared_secret(east_child.keypair.public)
    for sa in pair.west.kernel.installed_sas():
        keymat = quick_mode_keymat(prf, keys.skeyid_d, 3, sa.id.spi.to_bytes(4, "big"),
                                   west_child.ni, east_child.nr, 32 + 32, g_qm)
        assert (sa.encrypt_key, sa.integ_key) == (keymat[:32], keymat[32:])


def test_wrong_psk_fails_and_nothing_is_installed():
    pair = _pair(east_secrets='@west @east : PSK "a-different-secret-entirely"\n')
    reply = _establish(pair)
    assert reply.finished is None
    pair.advance(61)
    assert reply.finished not in (None, 0)
    assert "timeout exceeded" in reply.texts[-1]
    assert pair.east.lines_with("probable authentication failure (mismatch of preshared "
                                "secrets?)") or pair.east.lines_with("Hash Payload does not")
    assert not pair.west.kernel.installed_sas() and not pair.east.kernel.installed_sas()
    assert len(pair.west.core.states) == 0
    pair.advance(61)
    assert len(pair.east.core.states) == 0, "the responder forgets the half-open SA"


def test_no_proposal_chosen_in_main_mode():
    pair = _pair()
    _add(pair, {"ike": "aes128-sha1;modp2048"}, {"ike": "aes256-sha2_512;modp3072"})
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == RC_NOTIFICATION + NotifyType.NO_PROPOSAL_CHOSEN
    assert "NO_PROPOSAL_CHOSEN" in reply.texts[-1]
    assert len(pair.east.core.states) == 0 and len(pair.west.core.states) == 0


def test_no_proposal_chosen_in_quick_mode():
    pair = _pair()
    _add(pair, {"esp": "aes128-sha1"}, {"esp": "aes256-sha2_512"})
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert pair.east.lines_with("responding with NO_PROPOSAL_CHOSEN")
    assert [s.kind.name for s in pair.east.core.states] == ["STATE_MAIN_R3"]
    assert pair.west.lines_with("received and ignored notification payload: "
                                "NO_PROPOSAL_CHOSEN")
    pair.advance(61)
    assert reply.finished not in (None, 0)
    assert not pair.west.kernel.installed_sas()


@pytest.mark.parametrize("lost", range(len(MESSAGES)), ids=MESSAGES)
def test_a_lost_message_is_retransmitted(lost):
    pair = _pair()
    _add(pair)
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    for _ in range(lost):
        pair.wire.deliver(pair.wire.queue.popleft())
    pair.drop_next()
    pair.pump()
    if MESSAGES[lost] == "QI2":  # the initiator is done; the responder waits for QI2
        assert [s.kind.name for s in pair.east.core.states][-1] == "STATE_QUICK_R1"
        assert len(pair.east.kernel.installed_sas()) == 0
    else:
        assert reply.finished is None
    pair.advance(2)
    assert reply.finished == 0, reply.lines
    assert pair.west.lines_with("retransmission") or pair.east.lines_with("retransmission")
    _check_kernels_match(pair)


@pytest.mark.parametrize("repeated", range(len(MESSAGES)), ids=MESSAGES)
def test_a_duplicated_message_changes_nothing(repeated):
    pair = _pair()
    _add(pair)
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    for _ in range(repeated):
        pair.wire.deliver(pair.wire.queue.popleft())
    datagram = pair.wire.queue.popleft()
    pair.wire.deliver(datagram)
    pair.wire.deliver(datagram)
    pair.pump()
    assert reply.finished == 0, reply.lines
    assert len(pair.west.core.states) == len(pair.east.core.states) == 2
    _check_kernels_match(pair)


def test_delete_via_informational():
    pair = _pair()
    _establish(pair)
    informational.delete_sa(pair.west.core, _states(pair.west, QuickSa)[0])
    pair.pump()
    assert pair.east.lines_with("received Delete SA(0x")
    assert not pair.west.kernel.installed_sas() and not pair.east.kernel.installed_sas()
    assert [s.kind.name for s in pair.east.core.states] == ["STATE_MAIN_R3"]
    informational.delete_sa(pair.west.core, _states(pair.west, IsakmpSa)[0])
    pair.pump()
    assert pair.east.lines_with("received Delete SA payload: deleting ISAKMP State #1")
    assert len(pair.west.core.states) == len(pair.east.core.states) == 0


def test_a_second_initiate_uses_the_isakmp_sa_for_quick_mode():
    pair = _pair()
    _establish(pair)
    informational.delete_sa(pair.west.core, _states(pair.west, QuickSa)[0])
    pair.pump()
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.lines
    assert reply.texts[0] == '"west-east" #3: initiating Quick Mode IKEv1+PSK+ENCRYPT+TUNNEL+PFS'
    _check_kernels_match(pair)


def test_ikev1_is_off_unless_ikev1_policy_accepts_it():
    from tests.inprocess.harness import connection

    pair = Pair()
    reply = pair.west.whack({"action": "add", "connection": connection(ikev2=False)})
    assert reply.finished != 0 and "ikev1-policy=drop" in reply.texts[-1]
    # an IKEv1 datagram to a core whose policy drops IKEv1 gets no answer
    accepting = _pair()
    _add(accepting)
    accepting.west.whack({"action": "initiate", "name": "west-east", "async": True})
    mi1 = accepting.drop_next()
    pair.east.core.packet_received(mi1.data, pair.east.endpoint, pair.west.endpoint)
    assert not pair.wire.queue and not pair.east.core.states


def test_whack_terminate_tells_the_ikev1_peer():
    pair = _pair()
    _establish(pair)
    reply = pair.west.whack({"action": "terminate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.lines
    assert pair.east.lines_with("received Delete SA payload: deleting ISAKMP State #1")
    assert not pair.west.kernel.installed_sas() and not pair.east.kernel.installed_sas()
    assert len(pair.west.core.states) == len(pair.east.core.states) == 0
