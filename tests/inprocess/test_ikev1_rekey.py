"""IKEv1 rekeying with rekeymargin/rekeyfuzz and expiry with rekey=no, between two in-process
cores with a fake clock: new SAs come up before the old ones end, the old ones are deleted on
both sides, the kernels keep exactly one matching pair of ESP SAs, across several rekeys."""

from __future__ import annotations

from pluto.ikev1.states import IsakmpSa, QuickSa
from pluto.packet.ikev1 import parse_message
from pluto.packet.ikev1_types import ExchangeType
from tests.inprocess.harness import Pair, connection


def _pair(**extra) -> Pair:
    pair = Pair()
    for host in (pair.west, pair.east):
        host.core.options.ikev1_policy = "accept"
        host.impairs.apply("revival")
    pair.add(connection(ikev2=False, **extra), connection(ikev2=False, **extra))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.lines
    return pair


def _states(host, cls=None) -> list[tuple[int, str]]:
    return [(s.serial, s.kind.name) for s in host.core.states
            if cls is None or isinstance(s, cls)]


def _kernels_match(pair: Pair) -> set[int]:
    west = {sa.id.spi: sa for sa in pair.west.kernel.installed_sas()}
    east = {sa.id.spi: sa for sa in pair.east.kernel.installed_sas()}
    assert len(west) == len(east) == 2 and set(west) == set(east)
    for spi, sa in west.items():
        assert (sa.encrypt_key, sa.integ_key) == (east[spi].encrypt_key, east[spi].integ_key)
    return set(west)


def _main_mode_starts(pair: Pair) -> list[int]:
    """How many MI1s west sent, seen on the wire."""
    return [1 for d in pair.wire.sent if d.src == pair.west.endpoint
            and parse_message(d.data).exchange == ExchangeType.MAIN
            and parse_message(d.data).rcookie == bytes(8)]


def test_ipsec_sa_is_rekeyed_at_the_margin_several_times():
    pair = _pair(ipseclifetime=600, rekeymargin=60, rekeyfuzz=0)
    spis = [_kernels_match(pair)]
    reqid = pair.west.kernel.installed_sas()[0].reqid
    pair.advance(539)
    assert _states(pair.west) == [(1, "STATE_MAIN_I4"), (2, "STATE_QUICK_I2")]
    pair.advance(1)  # 600 - 60: the initiator rekeys
    assert _states(pair.west) == [(1, "STATE_MAIN_I4"), (3, "STATE_QUICK_I2")]
    assert _states(pair.east) == [(1, "STATE_MAIN_R3"), (3, "STATE_QUICK_R2")]
    assert pair.west.lines_with('"west-east" #3: IPsec SA #2 replaced by #3; deleting the old '
                                'one')
    assert pair.east.lines_with("received Delete SA(0x")
    spis.append(_kernels_match(pair))
    for serial in (4, 5):  # two more rekeys, each 540 s after the last
        pair.advance(540)
        assert _states(pair.west, QuickSa) == [(serial, "STATE_QUICK_I2")]
        assert _states(pair.east, QuickSa) == [(serial, "STATE_QUICK_R2")]
        spis.append(_kernels_match(pair))
    assert all(not a & b for a, b in zip(spis, spis[1:], strict=False))  # fresh SPIs each time
    assert {sa.reqid for sa in pair.west.kernel.installed_sas()} == {reqid}
    assert _main_mode_starts(pair) == [1]  # the ISAKMP SA carried every Quick Mode


def test_responder_does_not_rekey_and_fuzz_stays_within_the_margin():
    pair = _pair(ipseclifetime=1000, rekeymargin=100, rekeyfuzz=100)
    pair.advance(799)  # the earliest rekey: margin + 100% fuzz before the end
    assert _states(pair.west, QuickSa) == [(2, "STATE_QUICK_I2")]
    pair.advance(101)  # the latest: the margin alone
    assert _states(pair.west, QuickSa) == [(3, "STATE_QUICK_I2")]
    assert not pair.east.lines_with("rekeying")
    assert [q.initiator for q in pair.west.core.states if isinstance(q, QuickSa)] == [True]


def test_isakmp_sa_rekey_keeps_its_policy_and_deletes_the_old_one():
    pair = _pair(ikelifetime=600, ipseclifetime=3000, rekeymargin=60, rekeyfuzz=0,
                 ike="aes128-sha2_256;modp2048")
    old = next(s for s in pair.west.core.states if isinstance(s, IsakmpSa))
    pair.advance(540)
    assert pair.west.lines_with('"west-east" #1: STATE_MAIN_I4: rekeying before the lifetime '
                                'of 600 seconds ends')
    assert pair.west.lines_with('"west-east" #3: ISAKMP SA #1 replaced by #3; deleting the '
                                'old one')
    assert pair.east.lines_with("received Delete SA payload: deleting ISAKMP State #1")
    # a new ISAKMP SA renews phase 1 only: the IPsec SA #2 moves over, no Quick Mode
    assert pair.west.lines_with('"west-east" #3: ISAKMP SA #1 replaced; its IPsec SAs are '
                                "kept, no Quick Mode needed")
    assert _states(pair.west) == [(2, "STATE_QUICK_I2"), (3, "STATE_MAIN_I4")]
    assert _states(pair.east) == [(2, "STATE_QUICK_R2"), (3, "STATE_MAIN_R3")]
    assert pair.west.core.states.get(2).ike_serial == 3
    new = next(s for s in pair.west.core.states if isinstance(s, IsakmpSa))
    assert new.spi_i != old.spi_i and new.chosen.describe() == old.chosen.describe()
    assert new.chosen.encr_key_bits == 128
    _kernels_match(pair)
    pair.advance(540)  # and again, now from #3
    assert _states(pair.west, IsakmpSa) == [(4, "STATE_MAIN_I4")]
    assert _states(pair.east, IsakmpSa) == [(4, "STATE_MAIN_R3")]
    _kernels_match(pair)


def test_rekey_no_lets_the_sas_expire_without_replacement():
    pair = _pair(ipseclifetime=600, ikelifetime=3000, rekeymargin=60, rekey=False)
    pair.advance(599)
    assert len(pair.west.kernel.installed_sas()) == 2
    pair.advance(1)
    assert pair.west.lines_with('"west-east" #2: STATE_QUICK_I2: lifetime expired; deleting')
    assert pair.west.kernel.installed_sas() == [] and pair.east.kernel.installed_sas() == []
    assert _states(pair.west) == [(1, "STATE_MAIN_I4")]
    assert _states(pair.east) == [(1, "STATE_MAIN_R3")]
    assert not pair.west.lines_with("rekeying")
    pair.advance(2400)
    assert pair.west.core.states.__len__() == 0 and len(pair.east.core.states) == 0


def test_whack_rekey_child_and_rekey_ike_on_ikev1():
    pair = _pair()
    reply = pair.west.whack({"action": "rekey-child", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.lines
    assert reply.texts[-1].startswith('"west-east" #3: IPsec SA established')
    assert _states(pair.west) == [(1, "STATE_MAIN_I4"), (3, "STATE_QUICK_I2")]
    assert _states(pair.east) == [(1, "STATE_MAIN_R3"), (3, "STATE_QUICK_R2")]
    reply = pair.west.whack({"action": "rekey-ike", "name": "west-east", "async": True})
    assert reply.texts[-1] == '"west-east" #1: rekey started as #4'
    pair.pump()
    assert _states(pair.west) == [(3, "STATE_QUICK_I2"), (4, "STATE_MAIN_I4")]
    assert _states(pair.east) == [(3, "STATE_QUICK_R2"), (4, "STATE_MAIN_R3")]
    _kernels_match(pair)
