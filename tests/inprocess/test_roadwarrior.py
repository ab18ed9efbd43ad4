"""A responder template with a %any peer: each peer gets an instance ``"conn"[N] ADDR``.

The instance is made when the IKE_SA_INIT request arrives, logs under its own label, shows in
status, and goes away with its last IKE SA.
"""

from __future__ import annotations

import ipaddress

from pluto.connections.connection import Kind
from tests.inprocess.harness import PSK, Host, Pair, connection

ROAD = "203.0.113.209"
EAST = "198.51.100.23"


def _road_pair() -> Pair:
    pair = Pair(west=ROAD, east=EAST)
    pair.add(connection("road", west=ROAD, east=EAST, west_client=None),
             connection("road", west="%any", east=EAST, west_client=None))
    return pair


def _instances(host) -> list:
    return [c for c in host.core.connections if c.kind is Kind.INSTANCE]


def test_template_is_instantiated_for_the_peer():
    pair = _road_pair()
    template = pair.east.core.connections.get("road")
    assert template.kind is Kind.TEMPLATE
    reply = pair.west.whack({"action": "initiate", "name": "road"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    (instance,) = _instances(pair.east)
    assert instance.label == f'"road"[1] {ROAD}'
    assert instance.that.host == ipaddress.ip_address(ROAD) and instance.template is template
    label = f'"road"[1] {ROAD} #'
    assert pair.east.lines_with(f"{label}1: sent IKE_SA_INIT response to {ROAD}:UDP/500")
    assert pair.east.lines_with(f"{label}1: responder established IKE SA; authenticated peer "
                                "using authby=secret and ID_FQDN '@west'")
    assert pair.east.lines_with(f"{label}2: responder established Child SA using #1; IPsec "
                                f"tunnel [198.18.2.0/24==={ROAD}/32]")
    assert all(s.conn is instance for s in pair.east.core.states)
    # status shows the instance with the peer's port, as libreswan does
    states = pair.east.whack({"action": "showstates"}).texts
    assert states[0].startswith(f'#1: "road"[1] {ROAD}:500 STATE_V2_ESTABLISHED_IKE_SA ')
    assert states[2].startswith(f'#2: "road"[1] {ROAD} esp.')
    traffic = pair.east.whack({"action": "trafficstatus"}).texts
    assert traffic[0].startswith(f'#2: "road"[1] {ROAD}, type=ESP, ')
    status = pair.east.whack({"action": "status"}).texts
    assert "Total IPsec connections: loaded 2, active 1" in status
    assert any(t.startswith('"road"[1]: ') for t in status)
    assert any(t.startswith('"road": ') and "%any" in t for t in status)


def test_instance_is_deleted_with_its_ike_sa():
    pair = _road_pair()
    pair.west.whack({"action": "initiate", "name": "road"})
    pair.pump()
    assert len(_instances(pair.east)) == 1
    reply = pair.west.whack({"action": "terminate", "name": "road"})
    assert reply.finished == 0
    pair.pump()
    assert len(pair.east.core.states) == 0
    assert _instances(pair.east) == []
    assert pair.east.core.connections.get("road").kind is Kind.TEMPLATE  # the template stays
    assert pair.east.kernel.installed_sas() == [] and pair.east.kernel.installed_policies() == []


def test_instance_is_deleted_when_the_responder_deletes():
    pair = _road_pair()
    pair.west.whack({"action": "initiate", "name": "road"})
    pair.pump()
    assert pair.east.whack({"action": "deletestate", "serial": 1}).finished == 0
    pair.pump()
    assert _instances(pair.east) == [] and len(pair.west.core.states) == 0


def test_two_road_warriors_get_two_instances():
    pair = _road_pair()
    second = "203.0.113.33"
    north = Host("north", second, pair.wire, pair.clock, f'@west @east : PSK "{PSK}"\n')
    reply = north.whack({"action": "add", "connection": connection(
        "road", west=second, east=EAST, west_client="198.18.3.0/24")})
    assert reply.finished == 0, reply.texts
    for host in (pair.west, north):
        assert host.whack({"action": "initiate", "name": "road"}).finished is None
        pair.pump()
    labels = sorted(c.label for c in _instances(pair.east))
    assert labels == [f'"road"[1] {ROAD}', f'"road"[2] {second}']
    assert pair.east.lines_with(f'"road"[2] {second} #3: responder established IKE SA')
    # deleting the template takes its instances and their SAs
    assert pair.east.whack({"action": "delete", "name": "road"}).finished == 0
    pair.pump()
    assert len(pair.east.core.states) == 0 and _instances(pair.east) == []
    assert pair.east.kernel.installed_sas() == []


def test_instance_numbers_are_not_reused():
    pair = _road_pair()
    for expected in (1, 2):
        pair.west.whack({"action": "initiate", "name": "road"})
        pair.pump()
        (instance,) = _instances(pair.east)
        assert instance.instance_number == expected
        pair.west.whack({"action": "terminate", "name": "road"})
        pair.pump()
        assert _instances(pair.east) == []


def test_permanent_connection_is_preferred_to_the_template():
    pair = Pair(west=ROAD, east=EAST)
    pair.add(connection("road", west=ROAD, east=EAST, west_client=None),
             connection("road", west="%any", east=EAST, west_client=None))
    pair.east.whack({"action": "add", "connection": connection(
        "fixed", west=ROAD, east=EAST, west_client=None)})
    pair.west.whack({"action": "initiate", "name": "road"})
    pair.pump()
    assert _instances(pair.east) == []
    assert {s.conn.name for s in pair.east.core.states} == {"fixed"}
