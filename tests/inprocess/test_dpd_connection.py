"""Per-connection dead peer detection: dpddelay, dpdtimeout and dpdaction (ipsec.conf or the
connection description) drive the liveness checks of that connection's IKE SA."""

from __future__ import annotations

import pytest

from tests.inprocess.harness import Pair, connection


def _pair(**dpd) -> Pair:
    pair = Pair()
    west = connection(**dpd)
    pair.add(west, connection())  # only west checks liveness
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.lines
    assert ("DPD=active" if dpd else "DPD=passive") in reply.texts[-1]
    return pair


@pytest.mark.parametrize("action, revived", [("restart", True), ("clear", False),
                                             ("hold", False)])
def test_dpdaction_decides_what_happens_to_a_dead_peer(action, revived):
    pair = _pair(dpddelay=10, dpdtimeout=25, dpdaction=action)
    pair.east.impairs.apply("block-inbound:3")  # east hears nothing after IKE_AUTH
    pair.advance(10 + 25)
    assert pair.west.lines_with("peer is not responding; deleting IKE SA and its Child SAs")
    assert bool(pair.west.lines_with("reviving connection")) is revived
    assert bool(pair.west.lines_with(f"dpdaction={action}: not reviving")) is not revived
    assert pair.west.kernel.installed_sas() == []
    assert (len(pair.west.core.states) > 0) is revived


def test_no_dpddelay_no_checks_even_when_the_peer_is_gone():
    pair = _pair()
    pair.east.impairs.apply("block-inbound:3")
    pair.advance(600)
    assert not pair.west.lines_with("peer is not responding")
    assert [s.serial for s in pair.west.core.states] == [1, 2]
