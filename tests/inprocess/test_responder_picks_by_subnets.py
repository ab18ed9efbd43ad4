"""The IKE_AUTH responder picks, among the connections that accept the peer's ID, the one whose
subnets fit the proposed traffic selectors (found by the soak run: with one conn per subnet
pair between the same two IDs, every exchange landed on the first conn and was refused)."""

from __future__ import annotations

from pluto.engine.states import ChildSa
from tests.inprocess.harness import Pair, connection


def test_the_connection_whose_subnets_fit_answers():
    pair = Pair()
    for n in (1, 2, 3):
        pair.add(connection(f"net{n}", west_client=f"198.18.{n}.0/24",
                            east_client=f"198.19.{n}.0/24"))
    reply = pair.west.whack({"action": "initiate", "name": "net3"})
    pair.pump()
    assert reply.finished == 0, reply.lines
    [child] = [s for s in pair.east.core.states if isinstance(s, ChildSa)]
    assert child.conn.name == "net3"
    assert (str(child.local_ts), str(child.remote_ts)) == ("198.19.3.0/24", "198.18.3.0/24")
    assert pair.east.lines_with('switched from "net1" to "net3"')
    # another tunnel between the same IDs (a CREATE_CHILD_SA over the same IKE SA here)
    reply = pair.west.whack({"action": "initiate", "name": "net2"})
    pair.pump()
    assert reply.finished == 0, reply.lines
    names = sorted(s.conn.name for s in pair.east.core.states if isinstance(s, ChildSa))
    assert names == ["net2", "net3"]


def test_subnets_nobody_has_are_still_refused():
    pair = Pair()
    pair.add(connection("net1", west_client="198.18.1.0/24", east_client="198.19.1.0/24"))
    west_only = connection("net9", west_client="198.18.9.0/24", east_client="198.19.9.0/24")
    assert pair.west.whack({"action": "add", "connection": west_only}).finished == 0
    pair.west.whack({"action": "initiate", "name": "net9"})
    pair.pump()
    assert pair.east.lines_with("traffic selectors do not match ours")
    assert not [s for s in pair.east.core.states if isinstance(s, ChildSa)]
