"""CREATE_CHILD_SA for a new Child SA: on a childless IKE SA, for a second connection to the
same peer, with and without PFS, with traffic-selector narrowing, and its error answers."""

from __future__ import annotations

from pluto.packet.ikev2 import KEPayload, TSrPayload, parse_message
from pluto.packet.ikev2_types import ExchangeType
from pluto.whack_protocol import RC_NOTIFICATION, RC_SUCCESS
from tests.inprocess.harness import Pair, connection


def _established(host, kind="STATE_V2_ESTABLISHED_CHILD_SA"):
    return [s for s in host.core.states if s.kind.name == kind]


def _kernels_agree(pair: Pair, count: int) -> None:
    west = {sa.id.spi: sa for sa in pair.west.kernel.installed_sas()}
    east = {sa.id.spi: sa for sa in pair.east.kernel.installed_sas()}
    assert len(west) == len(east) == count
    assert set(west) == set(east)
    for spi, sa in west.items():
        assert (sa.encrypt_key, sa.integ_key, sa.src_selector, sa.dst_selector) == (
            east[spi].encrypt_key, east[spi].integ_key, east[spi].src_selector,
            east[spi].dst_selector)


def _inner(pair: Pair, host, datagram):
    """The decrypted payloads of a datagram sent on IKE SA #1, as its receiver reads them."""
    receiver = pair.east if host is pair.west else pair.west
    ike = receiver.core.states.get(1)
    return ike.protector.unprotect(datagram.data, parse_message(datagram.data))


def _childless(pair: Pair, **kw):
    pair.west.impairs.apply("omit-v2-ike-auth-child")
    reply = pair.establish(**kw)
    assert reply.finished == 0, reply.texts
    assert reply.texts[-1] == '"west-east" #1: initiator established childless IKE SA'
    pair.west.impairs.apply("no-omit-v2-ike-auth-child")


def test_child_on_a_childless_ike_sa_with_pfs():
    pair = Pair()
    _childless(pair)
    sent_before = len(pair.wire.sent)
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    assert reply.finished is None  # sync: waits for the exchange
    pair.pump()
    assert reply.finished == 0 and reply.lines[-1][0] == RC_SUCCESS
    assert reply.texts[0] == ('"west-east" #2: sent CREATE_CHILD_SA request for new IPsec SA '
                              'using IKE SA #1 (PFS DH19)')
    assert reply.texts[-1].startswith('"west-east" #2: initiator established Child SA using '
                                      '#1; IPsec tunnel [198.18.1.0/24===198.18.2.0/24]')
    request, response = pair.wire.sent[sent_before:]
    assert parse_message(request.data).exchange == ExchangeType.CREATE_CHILD_SA
    ke_i = [p for p in _inner(pair, pair.west, request) if isinstance(p, KEPayload)]
    assert [k.dh_group for k in ke_i] == [19]
    ke_r = [p for p in _inner(pair, pair.east, response) if isinstance(p, KEPayload)]
    assert [k.dh_group for k in ke_r] == [19]
    assert len(_established(pair.west)) == len(_established(pair.east)) == 1
    assert pair.east.lines_with('"west-east" #2: responder established Child SA using #1; '
                                "IPsec tunnel [198.18.2.0/24===198.18.1.0/24]")
    _kernels_agree(pair, 2)
    assert len(pair.west.kernel.installed_policies()) == 3


def test_child_without_pfs_has_no_ke_and_keys_differ_from_pfs():
    keys = {}
    for pfs in (False, True):
        pair = Pair()
        _childless(pair, pfs=pfs)
        sent_before = len(pair.wire.sent)
        reply = pair.west.whack({"action": "initiate", "name": "west-east"})
        pair.pump()
        assert reply.finished == 0, reply.texts
        request = pair.wire.sent[sent_before]
        has_ke = any(isinstance(p, KEPayload) for p in _inner(pair, pair.west, request))
        assert has_ke is pfs
        _kernels_agree(pair, 2)
        keys[pfs] = {sa.encrypt_key for sa in pair.west.kernel.installed_sas()}
    assert keys[False].isdisjoint(keys[True])


def test_second_connection_shares_the_ike_sa_and_is_narrowed():
    pair = Pair()
    pair.establish()
    # west asks for its /24 to a /16; east has only 198.18.3.0/24 behind it for "wide", and
    # its "west-east" already has its Child SA on this IKE SA
    pair.west.whack({"action": "add", "connection": connection(
        "wide", west_client="198.18.1.0/24", east_client="198.18.0.0/16")})
    pair.east.whack({"action": "add", "connection": connection(
        "wide", west_client="198.18.1.0/24", east_client="198.18.3.0/24")})
    reply = pair.west.whack({"action": "initiate", "name": "wide"})
    request = pair.wire.queue[0]
    pair.pump()
    assert reply.finished == 0, reply.texts
    assert reply.texts[-1].startswith('"wide" #3: initiator established Child SA using #1; '
                                      "IPsec tunnel [198.18.1.0/24===198.18.3.0/24]")
    tsr = next(p for p in _inner(pair, pair.west, request) if isinstance(p, TSrPayload))
    assert str(tsr.selectors[0].start_address) == "198.18.0.0"
    assert [s.serial for s in pair.west.core.states] == [1, 2, 3]
    assert pair.west.core.states.get(3).conn.name == "wide"
    assert pair.east.core.states.get(3).conn.name == "wide"
    _kernels_agree(pair, 4)


def test_unacceptable_selectors_and_proposals_keep_the_ike_sa():
    pair = Pair()
    pair.establish()
    pair.west.whack({"action": "add", "connection": connection(
        "elsewhere", west_client="198.18.3.0/24", east_client="198.18.4.0/24")})
    reply = pair.west.whack({"action": "initiate", "name": "elsewhere"})
    pair.pump()
    assert reply.finished == RC_NOTIFICATION + 38, reply.texts  # TS_UNACCEPTABLE
    assert pair.east.lines_with("fit no connection; responding with TS_UNACCEPTABLE")
    pair.west.whack({"action": "add", "connection": connection(
        "cbc", west_client="198.18.1.0/25", esp="aes_cbc128-sha2_256")})
    pair.east.whack({"action": "add", "connection": connection(
        "cbc", west_client="198.18.1.0/25", esp="aes_gcm128")})
    reply = pair.west.whack({"action": "initiate", "name": "cbc"})
    pair.pump()
    assert reply.finished == RC_NOTIFICATION + 14, reply.texts  # NO_PROPOSAL_CHOSEN
    assert [s.kind.name for s in pair.west.core.states] == [
        "STATE_V2_ESTABLISHED_IKE_SA", "STATE_V2_ESTABLISHED_CHILD_SA"]
    assert len(pair.east.core.states) == 2
    _kernels_agree(pair, 2)


def test_invalid_ke_payload_is_retried_with_the_peer_group():
    pair = Pair()
    west = connection(west="127.0.0.1", east="127.0.0.2", esp="aes_gcm128;dh19+dh20")
    east = connection(west="127.0.0.1", east="127.0.0.2", esp="aes_gcm128;dh20")
    pair.west.impairs.apply("omit-v2-ike-auth-child")
    pair.add(west, east)
    pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    pair.west.impairs.apply("no-omit-v2-ike-auth-child")
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    assert pair.east.lines_with("KE payload is not for DH20; responding with "
                                "INVALID_KE_PAYLOAD")
    assert pair.west.lines_with("received INVALID_KE_PAYLOAD response to DH19; resending "
                                "CREATE_CHILD_SA request with DH20")
    assert pair.west.core.states.get(2).chosen.ke.fqn == "DH20"
    _kernels_agree(pair, 2)
