"""Revival after the peer's Delete (pluto/engine/revival.py): a connection initiated here is
started again, first at once, then with a growing delay; not after our own --terminate or
--deletestate, not with --impair revival, not for a connection only answered here."""

from __future__ import annotations

from pluto.engine.states import ChildSa, IkeSa
from pluto.ikev1.states import IsakmpSa, QuickSa
from tests.inprocess.harness import Pair, connection

REVIVING = ('"west-east": reviving connection which received Delete/Notify but must remain '
            "up per local policy")


def _established(host, cls) -> list[int]:
    return [s.serial for s in host.core.states if isinstance(s, cls) and s.kind.established]


def _east_terminates(pair: Pair) -> None:
    reply = pair.east.whack({"action": "terminate", "name": "west-east"})
    assert reply.finished == 0, reply.lines
    pair.pump()


def test_peer_ike_delete_revives_at_once_with_a_new_ike_sa():
    pair = Pair()
    pair.establish()
    _east_terminates(pair)
    assert len(pair.west.core.states) == 0  # gone, revival waits for the timer
    assert pair.west.lines_with('"west-east" #1: connection is supposed to remain up; '
                                "revival attempt 1 scheduled in 0 seconds")
    pair.advance(0)
    assert pair.west.lines_with(REVIVING)
    # a new IKE SA (#3) and Child SA (#4), in both kernels
    assert _established(pair.west, IkeSa) == [3] and _established(pair.west, ChildSa) == [4]
    assert len(pair.west.kernel.installed_sas()) == 2
    assert len(pair.east.kernel.installed_sas()) == 2


def test_back_off_starts_over_after_a_child_sa_is_established():
    pair = Pair()
    pair.establish()
    for serial in (4, 6):  # each revival succeeds: every next one is attempt 1 again, at once
        _east_terminates(pair)
        pair.advance(0)
        assert _established(pair.west, ChildSa) == [serial]
    assert len(pair.west.lines_with("revival attempt 1 scheduled in 0 seconds")) == 2
    assert not pair.west.lines_with("revival attempt 2")


def test_delay_grows_by_five_seconds_while_no_child_sa_comes_up():
    pair = Pair()
    pair.establish()
    # east now refuses west's Child SA (its esp= differs) but still accepts the IKE SA
    pair.east.whack({"action": "delete", "name": "west-east"})
    pair.pump()
    pair.east.whack({"action": "add", "connection": connection(
        west=str(pair.west.address), east=str(pair.east.address), esp="aes128-sha1")})
    pair.advance(0)  # attempt 1: IKE SA #3 up, its Child SA #4 refused
    assert _established(pair.west, IkeSa) == [3] and _established(pair.west, ChildSa) == []
    _east_terminates(pair)
    assert pair.west.lines_with('"west-east" #3: connection is supposed to remain up; '
                                "revival attempt 2 scheduled in 5 seconds")
    pair.advance(4.9)
    assert len(pair.west.core.states) == 0
    pair.advance(0.2)
    assert _established(pair.west, IkeSa) == [5]
    _east_terminates(pair)
    assert pair.west.lines_with("revival attempt 3 scheduled in 10 seconds")
    assert len(pair.west.lines_with(REVIVING)) == 2


def test_not_revived_after_our_own_terminate():
    pair = Pair()
    pair.establish()
    pair.west.whack({"action": "terminate", "name": "west-east"})
    pair.pump()
    pair.advance(600)
    assert len(pair.west.core.states) == 0 and len(pair.east.core.states) == 0
    assert not pair.west.lines_with("revival") and not pair.east.lines_with("revival")


def test_terminate_cancels_a_scheduled_revival():
    pair = Pair()
    pair.establish()
    conn = pair.west.core.connections.get("west-east")
    conn.revival = None
    _east_terminates(pair)
    pair.west.whack({"action": "terminate", "name": "west-east"})
    pair.advance(600)
    assert len(pair.west.core.states) == 0
    assert not pair.west.lines_with("reviving connection")


def test_not_revived_after_whack_deletestate_then_peer_delete():
    pair = Pair()
    pair.establish()
    pair.west.whack({"action": "deletestate", "serial": 2})  # our Child SA, by whack
    pair.pump()
    _east_terminates(pair)
    pair.advance(60)
    assert len(pair.west.core.states) == 0
    assert not pair.west.lines_with("revival")


def test_impair_revival_stops_it_and_says_so():
    pair = Pair()
    pair.establish()
    pair.west.impairs.apply("revival")
    _east_terminates(pair)
    pair.advance(600)
    assert len(pair.west.core.states) == 0 and len(pair.east.core.states) == 0
    assert "IMPAIR: revival: skipping the revival of the connection" in pair.west.log
    assert not pair.west.lines_with("reviving connection")
    assert pair.west.kernel.installed_sas() == []


def test_responder_only_connection_is_not_revived():
    pair = Pair()
    pair.establish()
    pair.west.whack({"action": "terminate", "name": "west-east"})  # west: not up any more
    pair.pump()
    # east never initiated: west's Delete leaves it down
    pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    pair.west.impairs.apply("revival")
    pair.west.whack({"action": "terminate", "name": "west-east"})
    pair.pump()
    pair.advance(600)
    assert len(pair.east.core.states) == 0
    assert not pair.east.lines_with("revival")


def test_peer_deleting_the_only_child_sa_revives_it_over_the_ike_sa():
    pair = Pair()
    pair.establish()
    reply = pair.east.whack({"action": "deletestate", "serial": 2})  # east's Child SA
    assert reply.finished == 0
    pair.pump()
    assert _established(pair.west, ChildSa) == []
    assert pair.west.lines_with('"west-east" #2: connection is supposed to remain up; '
                                "revival attempt 1 scheduled in 0 seconds")
    pair.advance(0)
    # the same IKE SA #1, a new Child SA by CREATE_CHILD_SA
    assert _established(pair.west, IkeSa) == [1] and _established(pair.west, ChildSa) == [3]
    assert len(pair.east.kernel.installed_sas()) == 2


def _ikev1_pair(**extra) -> Pair:
    pair = Pair()
    for host in (pair.west, pair.east):
        host.core.options.ikev1_policy = "accept"
    pair.add(connection(ikev2=False, **extra), connection(ikev2=False, **extra))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.lines
    return pair


def test_ikev1_peer_delete_revives_with_main_mode():
    pair = _ikev1_pair()
    assert _established(pair.west, IsakmpSa) == [1] and _established(pair.west, QuickSa) == [2]
    _east_terminates(pair)
    assert len(pair.west.core.states) == 0
    assert len(pair.west.lines_with("connection is supposed to remain up; revival attempt 1 "
                                    "scheduled in 0 seconds")) == 1
    pair.advance(0)
    assert pair.west.lines_with(REVIVING)
    assert _established(pair.west, IsakmpSa) == [3] and _established(pair.west, QuickSa) == [4]
    assert len(pair.east.kernel.installed_sas()) == 2


def test_ikev1_not_revived_with_impair_or_after_terminate():
    pair = _ikev1_pair()
    pair.west.impairs.apply("revival")
    _east_terminates(pair)
    pair.advance(600)
    assert len(pair.west.core.states) == 0
    assert pair.west.lines_with("IMPAIR: revival: skipping the revival of the connection")
    pair = _ikev1_pair()
    pair.west.whack({"action": "terminate", "name": "west-east"})
    pair.pump()
    pair.advance(600)
    assert len(pair.west.core.states) == 0 and not pair.west.lines_with("revival")


def test_ikev1_peer_deleting_the_ipsec_sa_revives_it_with_quick_mode():
    pair = _ikev1_pair()
    reply = pair.east.whack({"action": "deletestate", "serial": 2})  # east's IPsec SA only
    assert reply.finished == 0
    pair.pump()
    assert _established(pair.west, QuickSa) == []
    assert pair.west.lines_with('"west-east" #2: connection is supposed to remain up; '
                                "revival attempt 1 scheduled in 0 seconds")
    pair.advance(0)
    # the ISAKMP SA #1 stays; a new Quick Mode brings IPsec SA #3
    assert _established(pair.west, IsakmpSa) == [1] and _established(pair.west, QuickSa) == [3]
    assert len(pair.east.kernel.installed_sas()) == 2


def test_auto_start_connection_is_revived():
    from pluto.config.ipsec_conf import from_text
    from pluto.config.startup import load_connections

    pair = Pair()
    conf = from_text(
        "conn west-east\n  left=127.0.0.1\n  leftsubnet=198.18.1.0/24\n"
        "  right=127.0.0.2\n  rightsubnet=198.18.2.0/24\n  authby=secret\n"
        "  leftid=@west\n  rightid=@east\n  auto=start\n", "t.conf")
    pair.east.whack({"action": "add", "connection": connection(
        west=str(pair.west.address), east=str(pair.east.address))})
    assert load_connections(pair.west.core, conf, [].append) == ["west-east"]
    pair.pump()
    assert _established(pair.west, ChildSa) == [2]
    _east_terminates(pair)
    pair.advance(0)
    assert pair.west.lines_with(REVIVING)
    assert _established(pair.west, ChildSa) == [4]


def test_peer_rekeying_the_ike_sa_is_no_reason_to_revive():
    pair = Pair()
    pair.establish()
    reply = pair.east.whack({"action": "rekey-ike", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.lines
    pair.advance(10)
    # the old IKE SA #1 was deleted by east after the rekey; its successor carries the child
    assert _established(pair.west, IkeSa) == [3] and _established(pair.west, ChildSa) == [2]
    assert pair.west.lines_with("received Delete SA payload")
    assert not pair.west.lines_with("revival") and not pair.west.lines_with("reviving")
