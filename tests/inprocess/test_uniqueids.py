"""``--uniqueids``: a newer IKE SA for the same peer ID replaces the older one.

The usual story is a peer that rebooted (and perhaps moved): it brings up a fresh IKE SA while
the responder still holds the old one. With uniqueids the old IKE SA and its Child SAs are
deleted, the peer told; without it both stay.
"""

from __future__ import annotations

from pluto.connections.connection import Kind
from pluto.engine.states import IkeSa
from tests.inprocess.harness import PSK, Host, Pair, connection

EAST = "198.51.100.23"


def _reboot(pair: Pair, name: str, address: str, desc: dict, secrets: str | None = None) -> Host:
    """A new pluto on ``address`` (new seeds: new SPIs and nonces) that initiates ``desc``."""
    host = Host(name, address, pair.wire, pair.clock,
                secrets or f'@west @east : PSK "{PSK}"\n')
    assert host.whack({"action": "add", "connection": desc}).finished == 0
    reply = host.whack({"action": "initiate", "name": desc["name"]})
    pair.pump()
    assert reply.finished == 0, reply.texts
    return host


def _established(host) -> list[tuple[int, str]]:
    return [(s.serial, s.kind.name) for s in host.core.states if s.kind.established]


def test_rebooted_peer_replaces_its_old_ike_sa():
    pair = Pair()
    pair.east.core.options.uniqueids = True
    assert pair.establish().finished == 0
    old_spis = {sa.id.spi for sa in pair.east.kernel.installed_sas()}
    _reboot(pair, "west-rebooted", "127.0.0.1", connection())
    assert _established(pair.east) == [(3, "STATE_V2_ESTABLISHED_IKE_SA"),
                                       (4, "STATE_V2_ESTABLISHED_CHILD_SA")]
    assert pair.east.lines_with('"west-east" #3: uniqueids: IKE SA #1 of "west-east" is for the '
                                "same peer ID '@west'; deleting it")
    assert pair.east.lines_with('"west-east" #1: deleting state (STATE_V2_ESTABLISHED_IKE_SA)')
    new_spis = {sa.id.spi for sa in pair.east.kernel.installed_sas()}
    assert len(new_spis) == 2 and not new_spis & old_spis
    # the Delete went to the peer's address; the rebooted pluto does not know that IKE SA
    assert pair.east.core.states.get(1) is None


def test_without_uniqueids_both_ike_sas_stay():
    pair = Pair()
    assert pair.establish().finished == 0
    _reboot(pair, "west-rebooted", "127.0.0.1", connection())
    ikes = [s.serial for s in pair.east.core.states if isinstance(s, IkeSa)]
    assert ikes == [1, 3]
    assert all(pair.east.core.states.get(n).kind.established for n in ikes)
    assert not pair.east.lines_with("uniqueids")


def test_without_uniqueids_the_second_child_sa_is_installed():
    pair = Pair()
    assert pair.establish().finished == 0
    _reboot(pair, "west-rebooted", "127.0.0.1", connection())
    assert [serial for serial, _ in _established(pair.east)] == [1, 2, 3, 4]


def _road_pair() -> tuple[Pair, dict]:
    road = "203.0.113.209"
    pair = Pair(west=road, east=EAST)
    template = connection("road", west="%any", east=EAST, west_client=None)
    pair.add(connection("road", west=road, east=EAST, west_client=None), template)
    return pair, template


def test_road_warrior_that_moved_replaces_its_old_instance():
    pair, _template = _road_pair()
    pair.east.core.options.uniqueids = True
    reply = pair.west.whack({"action": "initiate", "name": "road"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    moved = "203.0.113.210"
    _reboot(pair, "road-moved", moved,
            connection("road", west=moved, east=EAST, west_client=None))
    instances = [c for c in pair.east.core.connections if c.kind is Kind.INSTANCE]
    assert [c.label for c in instances] == [f'"road"[2] {moved}']
    assert pair.east.lines_with(f'"road"[2] {moved} #3: uniqueids: IKE SA #1 of "road"[1] '
                                "203.0.113.209 is for the same peer ID '@west'; deleting it")
    # the old road warrior (still at its old address) was told and cleaned up too
    assert len(pair.west.core.states) == 0
    assert pair.west.kernel.installed_sas() == []


def test_other_peer_ids_are_left_alone():
    pair, template = _road_pair()
    pair.east.core.options.uniqueids = True
    pair.east.whack({"action": "delete", "name": "road"})
    anyone = dict(template, left={"host": "%any"})
    secrets = f'@west @east : PSK "{PSK}"\n@north @east : PSK "{PSK}"\n'
    east = Host("east-2", EAST, pair.wire, pair.clock, secrets)
    pair.east = east
    assert east.whack({"action": "add", "connection": anyone}).finished == 0
    east.core.options.uniqueids = True
    pair.west.whack({"action": "initiate", "name": "road"})
    pair.pump()
    north_desc = connection("road", west="203.0.113.33", east=EAST, west_client=None)
    north_desc["left"]["id"] = "@north"
    _reboot(pair, "north", "203.0.113.33", north_desc,
            secrets=f'@north @east : PSK "{PSK}"\n')
    ikes = [s for s in east.core.states if isinstance(s, IkeSa)]
    assert sorted(str(s.peer_id) for s in ikes) == ["@north", "@west"]
    assert not east.lines_with("uniqueids")
