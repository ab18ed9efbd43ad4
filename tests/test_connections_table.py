"""Orientation, the connection table, responder matching and instances."""

from __future__ import annotations

import ipaddress

import pytest

from pluto.connections.builder import ConnectionError, build_connection
from pluto.connections.connection import Connection, Kind
from pluto.connections.ids import parse_identity
from pluto.connections.orient import orient
from pluto.connections.table import ConnectionTable


def ep(address: str, port: int = 500):
    return (ipaddress.ip_address(address), port)


EAST = ep("198.51.100.23")
WEST = ep("198.51.100.45")
ROAD = ep("203.0.113.209")


def conn(name: str, left: dict, right: dict, listening=(EAST,)) -> Connection:
    made = build_connection({"name": name, "left": left, "right": right})
    orient(made, listening)
    return made


def west_east(name="west-east", **right) -> Connection:
    return conn(name, {"host": "198.51.100.45", "id": "@west"},
                {"host": "198.51.100.23", "id": "@east", **right})


def road_template(name="rw", peer_id: str | None = "@road") -> Connection:
    right = {"host": "%any"} if peer_id is None else {"host": "%any", "id": peer_id}
    return conn(name, {"host": "198.51.100.23", "id": "@east"}, right)


# --- orientation ---------------------------------------------------------------------------

def test_orient_picks_the_end_we_listen_on():
    made = build_connection({"name": "a", "left": {"host": "198.51.100.45"},
                             "right": {"host": "198.51.100.23"}})
    orient(made, [WEST, ep("127.0.0.1")])
    assert made.this_is_left is True and made.this.host == WEST[0]
    orient(made, [EAST])
    assert made.this_is_left is False and made.that.host == WEST[0]


def test_orient_compares_the_ike_port():
    made = build_connection({"name": "a", "left": {"host": "127.0.0.1", "ikeport": 500},
                             "right": {"host": "127.0.0.1", "ikeport": 501}})
    orient(made, [ep("127.0.0.1", 501)])
    assert made.this_is_left is False
    orient(made, [ep("127.0.0.1", 500)])
    assert made.this_is_left is True


def test_orient_fails_when_no_end_is_ours():
    made = build_connection({"name": "a", "left": {"host": "198.51.100.45"},
                             "right": {"host": "198.51.100.23"}})
    with pytest.raises(ConnectionError, match=r'"a": cannot tell which end is ours: neither '
                       r"198\.51\.100\.45:UDP/500 nor 198\.51\.100\.23:UDP/500"):
        orient(made, [ep("127.0.0.1"), ep("198.51.100.45", 4500)])
    assert made.this_is_left is None and not made.oriented


def test_orient_fails_when_both_ends_are_ours_and_unorients():
    made = build_connection({"name": "a", "left": {"host": "198.51.100.45"},
                             "right": {"host": "198.51.100.23"}})
    orient(made, [WEST])
    with pytest.raises(ConnectionError, match="both ends"):
        orient(made, [WEST, EAST])
    assert not made.oriented


def test_any_end_is_never_ours():
    made = road_template()
    assert made.this.host == EAST[0] and made.that.host is None
    with pytest.raises(ConnectionError, match="neither"):
        orient(made, [ep("203.0.113.1")])


def test_orient_ipv6_endpoint():
    made = build_connection({"name": "v6", "left": {"host": "2001:db8:1:2::45"},
                             "right": {"host": "2001:db8:1:2::23"}})
    orient(made, [ep("2001:db8:1:2::23")])
    assert made.this_is_left is False


# --- the table -----------------------------------------------------------------------------

def test_add_get_delete():
    table = ConnectionTable()
    first = west_east("b")
    second = west_east("a")
    table.add(first)
    table.add(second)
    assert table.get("b") is first and "a" in table and len(table) == 2
    assert table.get("c") is None
    with pytest.raises(ConnectionError, match='attempt to redefine connection "b"'):
        table.add(west_east("b"))
    assert table.delete("b") is first
    assert table.get("b") is None and len(table) == 1
    with pytest.raises(ConnectionError, match='no connection named "b"'):
        table.delete("b")


def test_iteration_is_sorted_with_instances_after_their_template():
    table = ConnectionTable()
    rw = road_template("rw")
    for made in (west_east("zeta"), rw, west_east("alpha")):
        table.add(made)
    second_peer = ep("203.0.113.210")
    first = table.instantiate(rw, ROAD)
    second = table.instantiate(rw, second_peer)
    assert [c.label for c in table] == ['"alpha"', '"rw"', '"rw"[1] 203.0.113.209',
                                        '"rw"[2] 203.0.113.210', '"zeta"']
    assert list(table)[2:4] == [first, second]
    assert len(table) == 5


def test_instances_cannot_be_added_directly():
    table = ConnectionTable()
    rw = road_template()
    table.add(rw)
    instance = table.instantiate(rw, ROAD)
    with pytest.raises(ConnectionError, match="instances are made by instantiate"):
        ConnectionTable().add(instance)


def test_instantiate_numbers_and_never_reuses():
    table = ConnectionTable()
    rw = road_template()
    table.add(rw)
    first = table.instantiate(rw, ep("203.0.113.209", 4500))
    assert first.kind is Kind.INSTANCE and first.template is rw
    assert first.instance_number == 1 and first.label == '"rw"[1] 203.0.113.209'
    assert first.that.host == ROAD[0] and first.that.ikeport == 4500
    assert first.this == rw.this and first.that.id == rw.that.id
    assert rw.kind is Kind.TEMPLATE and rw.that.host is None  # the template is untouched
    table.remove_instance(first)
    assert table.instances_of(rw) == []
    second = table.instantiate(rw, ROAD)
    assert second.instance_number == 2
    assert table.get_instance("rw", 2) is second and table.get_instance("rw", 1) is None
    with pytest.raises(ConnectionError, match="no such instance"):
        table.remove_instance(first)


def test_instantiate_refuses_what_is_not_a_template_in_the_table():
    table = ConnectionTable()
    permanent = west_east()
    table.add(permanent)
    with pytest.raises(ConnectionError, match="is not a template"):
        table.instantiate(permanent, ROAD)
    with pytest.raises(ConnectionError, match="is not in the table"):
        table.instantiate(road_template(), ROAD)


def test_instantiate_refuses_a_peer_of_another_family():
    table = ConnectionTable()
    rw = road_template()
    table.add(rw)
    with pytest.raises(ConnectionError, match="not of the family"):
        table.instantiate(rw, ep("2001:db8:1:3::209"))


def test_deleting_a_template_drops_its_instances():
    table = ConnectionTable()
    rw = road_template()
    table.add(rw)
    table.instantiate(rw, ROAD)
    table.delete("rw")
    assert list(table) == [] and len(table) == 0


# --- matching ------------------------------------------------------------------------------

def test_candidates_order_permanent_then_templates():
    table = ConnectionTable()
    rw = road_template("rw")
    table.add(rw)
    road_fixed = conn("road-fixed", {"host": "198.51.100.23"}, {"host": "203.0.113.209"})
    table.add(road_fixed)
    other_peer = conn("other", {"host": "198.51.100.23"}, {"host": "203.0.113.33"})
    table.add(other_peer)
    rw2 = road_template("rw2")
    table.add(rw2)
    table.instantiate(rw, ROAD)  # instances are not candidates
    assert table.candidates_for(EAST, ROAD) == [road_fixed, rw, rw2]
    # The peer's port is not compared (NAT), ours is.
    assert table.candidates_for(EAST, ep("203.0.113.209", 4500)) == [road_fixed, rw, rw2]
    assert table.candidates_for(ep("198.51.100.23", 4500), ROAD) == []
    assert table.candidates_for(ep("198.51.100.24"), ROAD) == []
    assert table.candidates_for(EAST, ep("203.0.113.7")) == [rw, rw2]


def test_candidates_skip_unoriented_connections():
    table = ConnectionTable()
    lost = build_connection({"name": "lost", "left": {"host": "198.51.100.23"},
                             "right": {"host": "203.0.113.209"}})
    table.add(lost)
    assert table.candidates_for(EAST, ROAD) == []


def test_refine_prefers_exact_id_then_permanent():
    table = ConnectionTable()
    any_permanent = conn("any-id", {"host": "198.51.100.23"},
                         {"host": "203.0.113.209", "id": "%any"})
    exact_template = road_template("rw-road", "@road")
    any_template = road_template("rw-any", None)
    other_template = road_template("rw-north", "@north")
    for made in (any_permanent, exact_template, any_template, other_template):
        table.add(made)
    candidates = table.candidates_for(EAST, ROAD)
    assert candidates == [any_permanent, exact_template, any_template, other_template]
    road = parse_identity("@ROAD")  # FQDNs compare without case
    assert table.refine_by_id(candidates, road) is exact_template
    assert table.refine_by_id(candidates, parse_identity("@north")) is other_template
    assert table.refine_by_id(candidates, parse_identity("@sun")) is any_permanent
    assert table.refine_by_id([any_template, other_template],
                              parse_identity("@sun")) is any_template
    assert table.refine_by_id([other_template], parse_identity("@sun")) is None
    assert table.refine_by_id([], road) is None


def test_refine_exact_permanent_beats_exact_template():
    table = ConnectionTable()
    template = road_template("rw", "@road")
    permanent = conn("fixed", {"host": "198.51.100.23"},
                     {"host": "203.0.113.209", "id": "@road"})
    table.add(template)
    table.add(permanent)
    assert table.refine_by_id([template, permanent], parse_identity("@road")) is permanent


def test_refine_address_id_of_a_permanent_connection():
    table = ConnectionTable()
    plain = conn("plain", {"host": "198.51.100.23"}, {"host": "203.0.113.209"})
    table.add(plain)
    candidates = table.candidates_for(EAST, ROAD)
    assert table.refine_by_id(candidates, parse_identity("203.0.113.209")) is plain
    assert table.refine_by_id(candidates, parse_identity("@road")) is None


def test_instance_of_id_less_template_accepts_the_peers_id():
    table = ConnectionTable()
    rw = road_template("rw", None)
    table.add(rw)
    instance = table.instantiate(rw, ROAD)
    assert table.refine_by_id([instance, rw], parse_identity("@road")) is instance
