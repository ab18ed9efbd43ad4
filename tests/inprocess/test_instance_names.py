"""A road warrior's instance by name (``"road"[1]``, ``road[1]``), as libreswan's whack takes
it, and its status line showing the client it narrowed to rather than the template's."""

from __future__ import annotations

import ipaddress

from pluto.engine.states import ChildSa, IkeSa
from pluto.whack_protocol import RC_UNKNOWN_NAME
from tests.inprocess.harness import Host, Nat, Pair, connection

ROAD, NORTH = "203.0.113.209", "203.0.113.33"
NIC = "198.51.100.254"
EAST = "198.51.100.23"
NORTHNET = "198.18.3.0/24"


def _two_roads():
    """road (host only) and north (northnet) behind one NAT, both on east's template that
    accepts any client (rightsubnet=0.0.0.0/0)."""
    pair = Pair(west=ROAD, east=EAST, east_secrets='@east %any : PSK "road-secret-0123"\n',
                west_secrets='@road @east : PSK "road-secret-0123"\n')
    pair.wire.nat = Nat([ROAD, NORTH], NIC)
    north = Host("north", NORTH, pair.wire, pair.clock,
                 '@north @east : PSK "road-secret-0123"\n')
    road_desc = connection("road", west=ROAD, east=EAST, west_client=None)
    road_desc["left"]["id"] = "@road"
    north_desc = connection("road", west=NORTH, east=EAST, west_client=NORTHNET)
    north_desc["left"]["id"] = "@north"
    template = connection("road", west="%any", east=EAST, west_client="0.0.0.0/0")
    template["left"]["id"] = "%any"
    pair.add(road_desc, template)
    assert north.whack({"action": "add", "connection": north_desc}).finished == 0
    for host in (pair.west, north):
        reply = host.whack({"action": "initiate", "name": "road"})
        pair.pump()
        assert reply.finished == 0, reply.texts
    return pair, north


def _status(pair: Pair) -> list[str]:
    reply = pair.east.whack({"action": "status"})
    return [t for t in reply.texts if t.startswith('"road"[') and "===" in t]


def _east_states(pair: Pair, label: str) -> list[int]:
    return sorted(s.serial for s in pair.east.core.states if s.conn.label.startswith(label))


def test_status_of_instances_shows_their_narrowed_clients():
    pair, _north = _two_roads()
    assert [line.split(";")[0] for line in _status(pair)] == [
        f'"road"[1]: 198.18.2.0/24===198.51.100.23[@east]...{NIC}:40000==={ROAD}/32',
        f'"road"[2]: 198.18.2.0/24===198.51.100.23[@east]...{NIC}:40002==={NORTHNET}']
    # the template still takes any client
    template = pair.east.core.connections.get("road")
    assert template.that.client == ipaddress.ip_network("0.0.0.0/0")


def test_rekey_of_a_narrowed_instance_keeps_its_client():
    pair, north = _two_roads()
    reply = north.whack({"action": "rekey-child", "name": "road"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    children = [s for s in pair.east.core.states if isinstance(s, ChildSa) and s.sas
                and s.conn.instance_number == 2]
    assert [str(c.remote_ts) for c in children] == [NORTHNET]


def test_terminate_names_one_instance_quoted_or_bare():
    pair, _north = _two_roads()
    assert _east_states(pair, '"road"[1]') and _east_states(pair, '"road"[2]')
    reply = pair.east.whack({"action": "terminate", "name": '"road"[2]'})
    pair.pump()
    assert reply.finished == 0, reply.texts
    assert f'"road"[2] {NIC}: terminating SAs using this connection' in reply.texts
    assert _east_states(pair, '"road"[2]') == []
    assert _east_states(pair, '"road"[1]') != []  # the other road warrior stays
    reply = pair.east.whack({"action": "terminate", "name": "road[1]"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    assert _east_states(pair, '"road"[1]') == []


def test_rekey_ike_by_instance_name():
    pair, _north = _two_roads()
    before = [s.serial for s in pair.east.core.states if isinstance(s, IkeSa)
              and s.conn.instance_number == 1]
    reply = pair.east.whack({"action": "rekey-ike", "name": f'"road"[1] {NIC}'})
    pair.pump()
    assert reply.finished == 0, reply.texts
    after = [s.serial for s in pair.east.core.states if isinstance(s, IkeSa)
             and s.conn.instance_number == 1 and s.kind.established]
    assert after and after != before


def test_delete_of_an_instance_keeps_the_template():
    pair, _north = _two_roads()
    reply = pair.east.whack({"action": "delete", "name": '"road"[1]'})
    pair.pump()
    assert reply.finished == 0, reply.texts
    table = pair.east.core.connections
    assert table.get("road") is not None
    assert table.get_instance("road", 1) is None
    assert table.get_instance("road", 2) is not None
    assert _east_states(pair, '"road"[1]') == []


def test_unknown_instances_are_refused():
    pair, _north = _two_roads()
    for name in ('"road"[7]', "nosuch[1]", f'"road"[1] {NORTH}', "road[x]"):
        reply = pair.east.whack({"action": "terminate", "name": name})
        assert reply.finished == RC_UNKNOWN_NAME, (name, reply.texts)
        assert f'no connection named "{name}"' in reply.texts
    assert _east_states(pair, '"road"[1]') and _east_states(pair, '"road"[2]')
