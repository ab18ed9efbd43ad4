"""Both ends killed and restarted at once, and a peer that changes its address mid-life.

IKEv2 MOBIKE (RFC 4555) is not implemented. A peer that comes back from a new address
therefore brings up a new IKE SA from there (a road warrior re-initiates; a gateway restarts
with its new address). The responder then holds the old IKE SA too: with uniqueids it is
replaced at once; without, liveness checks (dpddelay) to the old address go unanswered and it
is deleted after dpdtimeout. Either way the kernel ends with the new tunnel only.
"""

from __future__ import annotations

import ipaddress

from tests.inprocess.harness import PSK, Host, Pair, connection
from tests.inprocess.test_restart_sweep import _crash_and_restart, _sweep

ROAD, ROAD_MOVED, EAST = "203.0.113.209", "203.0.113.210", "198.51.100.23"


def _spis(host: Host) -> set[int]:
    return {sa.id.spi for sa in host.kernel.installed_sas()}


def test_both_ends_restart_at_once_and_the_tunnel_comes_back():
    pair = Pair()
    pair.add()
    pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    old = _spis(pair.west)
    for host in (pair.west, pair.east):
        _crash_and_restart(pair, host)
        assert _sweep(host).count("SA") == 2
    for host in (pair.west, pair.east):
        assert host.whack({"action": "add", "connection": connection()}).finished == 0
    pair.west.whack({"action": "initiate", "name": "west-east"})  # west: auto=start
    pair.pump()
    assert _spis(pair.west) == _spis(pair.east) and len(_spis(pair.west)) == 2
    assert not _spis(pair.west) & old
    assert len(pair.west.kernel.installed_policies()) == 3
    assert len(pair.east.kernel.installed_policies()) == 3


def test_both_ends_restart_with_auto_start_and_initiate_at_the_same_moment():
    pair = Pair(east_options={"uniqueids": True}, west_options={"uniqueids": True})
    pair.add()
    pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    for host in (pair.west, pair.east):
        _crash_and_restart(pair, host)
        host.core.options.uniqueids = True
        _sweep(host)
        assert host.whack({"action": "add", "connection": connection()}).finished == 0
    # both auto=start: the two IKE_SA_INIT requests cross on the wire
    pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.east.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    pair.advance(60)
    # the crossing gives two IKE SAs, each with its Child SA (each side initiated one and
    # answered the other; uniqueids replaces only older SAs, and these are simultaneous).
    # The duplicate is harmless: both kernels hold the same four SAs under one set of
    # policies (XFRM sends with the newest SA of their reqid).
    west, east = pair.west.kernel.installed_sas(), pair.east.kernel.installed_sas()
    assert {sa.id for sa in west} == {sa.id for sa in east} and len(west) == 4
    for direction in ((pair.west.address, pair.east.address),
                      (pair.east.address, pair.west.address)):
        assert any((sa.src, sa.id.dst) == direction for sa in west)
    assert len(pair.west.kernel.installed_policies()) == 3
    assert len(pair.east.kernel.installed_policies()) == 3


def _road(pair: Pair, address: str) -> Host:
    host = Host(f"road-{address}", address, pair.wire, pair.clock, f'@west @east : PSK "{PSK}"\n')
    desc = connection("road", west=address, east=EAST, west_client=None,
                      dpddelay=10, dpdtimeout=25)
    assert host.whack({"action": "add", "connection": desc}).finished == 0
    host.whack({"action": "initiate", "name": "road"})
    pair.pump()
    assert host.lines_with("initiator established Child SA")
    return host


def _moving_pair(uniqueids: bool) -> tuple[Pair, Host]:
    pair = Pair(west=ROAD, east=EAST, east_options={"uniqueids": uniqueids})
    template = connection("road", west="%any", east=EAST, west_client=None,
                          dpddelay=10, dpdtimeout=25, dpdaction="clear")
    assert pair.east.whack({"action": "add", "connection": template}).finished == 0
    road = _road(pair, ROAD)
    return pair, road


def _east_tunnel_ends(pair: Pair) -> set[str]:
    return {str(sa.src) for sa in pair.east.kernel.installed_sas()
            if sa.id.dst == ipaddress.ip_address(EAST)}


def test_moved_peer_without_uniqueids_old_sa_dies_by_liveness():
    pair, road = _moving_pair(uniqueids=False)
    # road gets a new address: the old one is gone from the wire, road comes back from the
    # new one (no MOBIKE: a new IKE SA)
    del pair.wire.owners[road.endpoint]
    moved = _road(pair, ROAD_MOVED)
    assert _east_tunnel_ends(pair) == {ROAD, ROAD_MOVED}  # both, for now
    pair.advance(10 + 25 + 1)
    assert pair.east.lines_with(f'"road"[1] {ROAD} #1: peer is not responding; deleting IKE '
                                "SA and its Child SAs")
    assert _east_tunnel_ends(pair) == {ROAD_MOVED}
    assert _spis(pair.east) == _spis(moved)
    assert [str(p.tunnel_dst) for p in pair.east.kernel.installed_policies()
            if p.direction == "out"] == [ROAD_MOVED]


def test_moved_peer_with_uniqueids_replaces_the_old_sa_at_once():
    pair, road = _moving_pair(uniqueids=True)
    del pair.wire.owners[road.endpoint]
    moved = _road(pair, ROAD_MOVED)
    assert pair.east.lines_with("uniqueids: IKE SA #1 of \"road\"[1] " + ROAD)
    assert _east_tunnel_ends(pair) == {ROAD_MOVED}
    assert _spis(pair.east) == _spis(moved)
