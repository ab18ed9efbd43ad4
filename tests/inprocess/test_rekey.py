"""Rekeying with CREATE_CHILD_SA: Child SAs (N(REKEY_SA)) and the IKE SA (new SPIs, keys from
the old SK_d), on time (rekeymargin/rekeyfuzz) and on demand (whack, action impairs)."""

from __future__ import annotations

import hashlib
import hmac

from pluto.packet.ikev2 import NotifyPayload, parse_message
from pluto.packet.ikev2_types import ExchangeType, NotifyType
from pluto.whack_protocol import RC_SUCCESS
from tests.inprocess.harness import Pair


def _kinds(host) -> list[tuple[int, str]]:
    return [(s.serial, s.kind.name) for s in host.core.states]


def _kernels_agree(pair: Pair, count: int) -> None:
    west = {sa.id.spi: sa for sa in pair.west.kernel.installed_sas()}
    east = {sa.id.spi: sa for sa in pair.east.kernel.installed_sas()}
    assert len(west) == len(east) == count, (pair.west.kernel.describe(),
                                             pair.east.kernel.describe())
    assert set(west) == set(east)
    for spi, sa in west.items():
        assert (sa.encrypt_key, sa.src_selector) == (east[spi].encrypt_key,
                                                      east[spi].src_selector)


def _exchanges(pair: Pair, start: int) -> list[tuple[str, str, bool]]:
    """(sender, exchange, is response) of each datagram sent since ``start``."""
    out = []
    for datagram in pair.wire.sent[start:]:
        msg = parse_message(datagram.data)
        sender = "west" if datagram.src == pair.west.endpoint else "east"
        out.append((sender, ExchangeType(msg.exchange).name, msg.is_response))
    return out


def test_child_rekey_on_demand_installs_new_sas_before_deleting_the_old():
    pair = Pair()
    pair.establish()
    old = pair.west.core.states.get(2)
    old_spis = {old.inbound_spi, old.outbound_spi}
    policies = pair.west.kernel.installed_policies()
    start = len(pair.wire.sent)
    reply = pair.west.whack({"action": "rekey-child", "name": "west-east"})
    assert reply.finished is None  # sync
    request = pair.wire.queue[0]
    pair.wire.deliver(pair.wire.queue.popleft())  # east answers and installs the new SA
    assert len(pair.east.kernel.installed_sas()) == 4  # old and new side by side
    pair.pump()
    assert reply.finished == 0 and reply.lines[-1][0] == RC_SUCCESS
    assert reply.texts[0] == ('"west-east" #3: sent CREATE_CHILD_SA request to rekey Child SA '
                              '#2 using IKE SA #1 (PFS DH19)')
    assert reply.texts[-1].startswith('"west-east" #3: initiator rekeyed Child SA #2 using #1; '
                                      "IPsec tunnel [198.18.1.0/24===198.18.2.0/24]")
    # the request named the old SA by west's inbound SPI
    east_ike = pair.east.core.states.get(1)
    inner = east_ike.protector.unprotect(request.data, parse_message(request.data))
    rekey = [p for p in inner if isinstance(p, NotifyPayload)
             and p.notify_type == NotifyType.REKEY_SA]
    assert [int.from_bytes(n.spi, "big") for n in rekey] == [old.inbound_spi]
    assert _exchanges(pair, start) == [("west", "CREATE_CHILD_SA", False),
                                       ("east", "CREATE_CHILD_SA", True),
                                       ("west", "INFORMATIONAL", False),
                                       ("east", "INFORMATIONAL", True)]
    for host in (pair.west, pair.east):
        assert _kinds(host) == [(1, "STATE_V2_ESTABLISHED_IKE_SA"),
                                (3, "STATE_V2_ESTABLISHED_CHILD_SA")]
        assert host.kernel.installed_policies() == policies or host is pair.east
        assert len(host.kernel.installed_policies()) == 3
    new = pair.west.core.states.get(3)
    assert new.reqid == old.reqid
    assert {new.inbound_spi, new.outbound_spi}.isdisjoint(old_spis)
    _kernels_agree(pair, 2)
    assert pair.east.lines_with('"west-east" #3: responder rekeyed Child SA #2 using #1')
    assert pair.east.lines_with('"west-east" #2: received Delete SA payload: deleting Child SA')


def test_child_rekey_async_and_by_impair_from_the_responder():
    pair = Pair()
    pair.establish()
    reply = pair.west.whack({"action": "rekey-child", "name": "west-east", "async": True})
    assert reply.finished == 0 and reply.texts == ['"west-east" #2: rekey started as #3']
    pair.pump()
    # east rekeys west's new Child SA #3 (east's #3) by impair
    reply = pair.east.whack({"action": "impair", "arguments": [["--impair", "rekey-child:3"]]})
    assert reply.finished == 0, reply.texts
    pair.pump()
    assert pair.east.lines_with("IMPAIR: rekey-child #3")
    for host in (pair.west, pair.east):
        assert _kinds(host) == [(1, "STATE_V2_ESTABLISHED_IKE_SA"),
                                (4, "STATE_V2_ESTABLISHED_CHILD_SA")]
    assert pair.west.lines_with('"west-east" #4: responder rekeyed Child SA #3 using #1')
    _kernels_agree(pair, 2)


def test_child_rekey_on_time_initiator_first():
    pair = Pair()
    pair.establish(ipseclifetime=600, rekeymargin=60, rekeyfuzz=0)
    pair.west.impairs.apply("revival")
    pair.advance(600 - 60 - 1)
    assert [s for s, _ in _kinds(pair.west)] == [1, 2]
    pair.advance(2)  # west's rekey time; east's (margin / 2) is later
    assert _kinds(pair.west) == [(1, "STATE_V2_ESTABLISHED_IKE_SA"),
                                 (3, "STATE_V2_ESTABLISHED_CHILD_SA")]
    assert _kinds(pair.east) == _kinds(pair.west)
    _kernels_agree(pair, 2)
    # and again a lifetime later: the new SA got its own timers
    pair.advance(600 - 60)
    assert _kinds(pair.west)[1] == (4, "STATE_V2_ESTABLISHED_CHILD_SA")
    _kernels_agree(pair, 2)


def test_responder_rekeys_when_the_initiator_does_not():
    pair = Pair()
    pair.establish(ipseclifetime=600, rekeymargin=60, rekeyfuzz=0)
    pair.west.core.cancel(pair.west.core.states.get(2), "rekey")
    pair.advance(600 - 60 + 1)
    assert [s for s, _ in _kinds(pair.east)] == [1, 2]
    pair.advance(30)  # east rekeys at lifetime - margin / 2
    assert pair.east.lines_with('"west-east" #3: initiator rekeyed Child SA #2 using #1')
    assert _kinds(pair.west) == [(1, "STATE_V2_ESTABLISHED_IKE_SA"),
                                 (3, "STATE_V2_ESTABLISHED_CHILD_SA")]
    _kernels_agree(pair, 2)


def test_ike_rekey_on_demand_moves_the_child_and_derives_from_old_sk_d():
    pair = Pair()
    pair.establish()
    old = pair.west.core.states.get(1)
    old_sk_d = old.keys.sk_d
    reply = pair.west.whack({"action": "rekey-ike", "name": "west-east"})
    assert reply.finished is None
    pair.pump()
    assert reply.finished == 0, reply.texts
    assert reply.texts[0] == '"west-east" #3: sent CREATE_CHILD_SA request to rekey IKE SA #1'
    assert reply.texts[-1] == ('"west-east" #3: initiator rekeyed IKE SA #1 {cipher=AES_GCM_16_256 '
                               'integ=n/a prf=HMAC_SHA2_512 group=DH19}')
    for host in (pair.west, pair.east):
        assert _kinds(host) == [(2, "STATE_V2_ESTABLISHED_CHILD_SA"),
                                (3, "STATE_V2_ESTABLISHED_IKE_SA")]
        assert host.core.states.get(2).ike_serial == 3
    west_new, east_new = pair.west.core.states.get(3), pair.east.core.states.get(3)
    assert west_new.initiator and not east_new.initiator
    assert (west_new.spi_i, west_new.spi_r) == (east_new.spi_i, east_new.spi_r)
    assert west_new.spi_i != old.spi_i and len(west_new.spi_r) == 8
    assert west_new.keys.sk_d == east_new.keys.sk_d != old_sk_d
    # the new SKEYSEED uses the old SA's PRF and SK_d: recompute it with hmac (§2.18, §2.13)
    g_ir = west_new.keypair.shared_secret(east_new.keypair.public)
    seed = hmac.new(old_sk_d, g_ir + west_new.ni + west_new.nr, hashlib.sha512).digest()
    material = b""
    block = b""
    counter = 1
    stream = west_new.ni + west_new.nr + west_new.spi_i + west_new.spi_r
    while len(material) < 64:
        block = hmac.new(seed, block + stream + bytes([counter]), hashlib.sha512).digest()
        material += block
        counter += 1
    assert west_new.keys.sk_d == material[:64]
    # the new IKE SA works: a Child SA delete and a liveness probe go over it
    reply = pair.west.whack({"action": "rekey-child", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    assert [s for s, _ in _kinds(pair.east)] == [3, 4]
    _kernels_agree(pair, 2)
    assert west_new.next_request_id == 2 and east_new.next_peer_request_id == 2


def test_ike_rekey_on_time_and_by_impair():
    pair = Pair()
    pair.establish(ikelifetime=900, rekeymargin=60, rekeyfuzz=0)
    pair.west.impairs.apply("revival")
    pair.advance(900 - 60 + 1)
    assert _kinds(pair.west) == [(2, "STATE_V2_ESTABLISHED_CHILD_SA"),
                                 (3, "STATE_V2_ESTABLISHED_IKE_SA")]
    assert _kinds(pair.east) == _kinds(pair.west)
    reply = pair.east.whack({"action": "impair", "arguments": [["--impair", "rekey-ike:2"]]})
    assert reply.finished == 0
    pair.pump()
    assert pair.east.lines_with('"west-east" #4: initiator rekeyed IKE SA #3')
    for host in (pair.west, pair.east):
        assert _kinds(host) == [(2, "STATE_V2_ESTABLISHED_CHILD_SA"),
                                (4, "STATE_V2_ESTABLISHED_IKE_SA")]
    # east started this rekey: east is the new IKE SA's original initiator (§2.18)
    assert pair.east.core.states.get(4).initiator and not pair.west.core.states.get(4).initiator
    assert pair.east.core.states.get(4).spi_i == pair.west.core.states.get(4).spi_i
    _kernels_agree(pair, 2)


def test_replace_impair_renegotiates():
    pair = Pair()
    pair.establish()
    reply = pair.west.whack({"action": "impair", "arguments": [["--impair", "replace:2"]]})
    assert reply.finished == 0
    pair.pump()
    assert _kinds(pair.west) == [(1, "STATE_V2_ESTABLISHED_IKE_SA"),
                                 (3, "STATE_V2_ESTABLISHED_CHILD_SA")]
    reply = pair.west.whack({"action": "impair", "arguments": [["--impair", "replace:1"]]})
    pair.pump()
    assert [k for _, k in _kinds(pair.west)] == ["STATE_V2_ESTABLISHED_IKE_SA",
                                                 "STATE_V2_ESTABLISHED_CHILD_SA"]
    assert [s for s, _ in _kinds(pair.west)] == [4, 5]
    _kernels_agree(pair, 2)


def test_rekey_of_unknown_things_fails_cleanly():
    pair = Pair()
    pair.add()
    reply = pair.west.whack({"action": "rekey-child", "name": "west-east"})
    assert reply.finished == 11 and "no established Child SA" in reply.texts[-1]
    reply = pair.west.whack({"action": "rekey-ike", "name": "nope"})
    assert reply.finished == 11


def test_unanswered_rekey_closes_whack_and_deletes_the_ike_sa():
    pair = Pair()
    pair.establish()
    pair.west.impairs.apply("revival")
    pair.east.impairs.apply("block-inbound:3")
    reply = pair.west.whack({"action": "rekey-child", "name": "west-east"})
    pair.advance(59)
    assert reply.finished is None
    pair.advance(2)
    assert reply.finished is not None and reply.finished != 0
    assert reply.texts[-1] == '"west-east" #3: deleted before its negotiation finished'
    assert pair.west.lines_with("peer is not responding; deleting IKE SA and its Child SAs")
    assert len(pair.west.core.states) == 0 and pair.west.kernel.installed_sas() == []
