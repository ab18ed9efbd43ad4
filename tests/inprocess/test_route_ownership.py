"""Who owns a route or an eroute when connections compete for it: the rules of pluto(8)'s
"Pluto's Internal State" and --route/--unroute (pluto/engine/routes.py states them).

west (127.0.0.1) talks to east (127.0.0.2) and north (127.0.0.3) on one memory wire, through
the nostack kernel. A route is for the peer's client subnet through a gateway (the peer here);
an eroute is the out policy of one pair of clients.
"""

from __future__ import annotations

import ipaddress
import stat

from pluto.engine.states import ChildSa
from pluto.whack_protocol import RC_ROUTE
from tests.inprocess.harness import PSK, Host, Pair, connection

ip = ipaddress.ip_address
net = ipaddress.ip_network
SECRETS = f'@west @east : PSK "{PSK}"\n@west @north : PSK "{PSK}"\n'


def _three() -> tuple[Pair, Host]:
    pair = Pair(west_secrets=SECRETS)
    north = Host("north", "127.0.0.3", pair.wire, pair.clock, SECRETS)
    return pair, north


def _north_conn(name: str = "west-north", west_client: str = "198.18.1.0/24",
                north_client: str = "198.18.2.0/24", **extra) -> dict:
    desc = connection(name, west="127.0.0.1", east="127.0.0.3", west_client=west_client,
                      east_client=north_client, **extra)
    desc["right"]["id"] = "@north"
    return desc


def _add(host: Host, desc: dict) -> None:
    assert host.whack({"action": "add", "connection": desc}).finished == 0


def _children(host: Host, name: str | None = None) -> list[ChildSa]:
    return [s for s in host.core.states if isinstance(s, ChildSa)
            and (name is None or s.conn.name == name)]


def _out_policies(host: Host) -> list:
    return [p for p in host.kernel.installed_policies() if p.direction == "out"]


def test_a_conflicting_route_without_an_ipsec_sa_is_taken_down():
    pair, _north = _three()
    pair.add()
    # same peer client subnet, another gateway (north), another local client
    _add(pair.west, _north_conn(west_client="198.18.5.0/24"))
    assert pair.west.whack({"action": "route", "name": "west-north"}).finished == 0
    reply = pair.west.whack({"action": "route", "name": "west-east"})
    assert reply.finished == 0, reply.lines
    assert list(pair.west.core.routes) == ["west-east"]
    [trap] = _out_policies(pair.west)
    assert (trap.src_selector, trap.tunnel_dst) == (net("198.18.1.0/24"), ip("127.0.0.2"))
    assert ('"west-east": route to 198.18.2.0/24 owned by "west-north" (no IPsec SA, different '
            'gateway); unrouting "west-north"') in pair.west.log


def test_a_conflicting_route_in_use_by_an_ipsec_sa_refuses_the_route():
    pair, _north = _three()
    assert pair.establish().finished == 0
    assert pair.west.whack({"action": "route", "name": "west-east"}).finished == 0
    _add(pair.west, _north_conn(west_client="198.18.5.0/24"))
    reply = pair.west.whack({"action": "route", "name": "west-north"})
    assert reply.finished == RC_ROUTE
    assert reply.texts == ['"west-north": cannot route: route to 198.18.2.0/24 is owned by '
                           '"west-east", in use by "west-east" #2']
    assert list(pair.west.core.routes) == ["west-east"] and len(_out_policies(pair.west)) == 1


def _recording_updown(tmp_path) -> tuple[str, object]:
    record = tmp_path / "verbs.txt"
    script = tmp_path / "updown.sh"
    script.write_text(f'#!/bin/sh\necho "$PLUTO_VERB $PLUTO_CONNECTION" >> {record}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script), record


def test_a_shared_route_runs_route_once_and_is_left_in_place_for_the_other(tmp_path):
    pair, _north = _three()
    updown, record = _recording_updown(tmp_path)
    first = connection("west-east", west="127.0.0.1", east="127.0.0.2")
    second = connection("west5-east", west="127.0.0.1", east="127.0.0.2",
                        west_client="198.18.5.0/24")
    for desc in (first, second):
        desc["left"]["updown"] = updown
        _add(pair.west, desc)
    for name in ("west-east", "west5-east"):
        assert pair.west.whack({"action": "route", "name": name}).finished == 0
    assert len(_out_policies(pair.west)) == 2  # two traps: their local clients differ
    assert pair.west.whack({"action": "unroute", "name": "west-east"}).finished == 0
    assert ('"west-east": route to 198.18.2.0/24 is shared with "west5-east"; left in place'
            in pair.west.log)
    assert pair.west.whack({"action": "unroute", "name": "west5-east"}).finished == 0
    assert record.read_text().split("\n") == [
        "prepare-client west-east", "route-client west-east",
        "unroute-client west5-east", ""]
    assert pair.west.kernel.installed_policies() == []


def test_two_traps_for_the_same_clients_conflict_even_through_one_gateway():
    pair, _north = _three()
    pair.add()
    _add(pair.west, connection("second", west="127.0.0.1", east="127.0.0.2"))
    assert pair.west.whack({"action": "route", "name": "west-east"}).finished == 0
    reply = pair.west.whack({"action": "route", "name": "second"})
    assert reply.finished == RC_ROUTE
    assert reply.texts == ['"second": cannot route: 198.18.1.0/24===198.18.2.0/24 is already '
                           'routed for "west-east"']


def test_an_eroute_in_use_by_another_connections_sa_refuses_our_child_sa():
    pair, north = _three()
    assert pair.establish().finished == 0
    _add(pair.west, _north_conn())
    _add(north, _north_conn())
    reply = pair.west.whack({"action": "initiate", "name": "west-north"})
    pair.pump()
    assert reply.finished != 0
    assert pair.west.lines_with('policies for [198.18.1.0/24===198.18.2.0/24] belong to '
                                '"west-east" #2')
    [kept] = _children(pair.west)
    assert kept.conn.name == "west-east" and kept.kind.established
    [out] = _out_policies(pair.west)
    assert out.tunnel_dst == ip("127.0.0.2") and out.reqid == kept.reqid
    assert _children(north) == [] and north.kernel.installed_sas() == []


def test_a_child_sa_takes_over_another_connections_trap_which_comes_back_after():
    pair, _north = _three()
    pair.add()
    _add(pair.west, _north_conn())
    assert pair.west.whack({"action": "route", "name": "west-north"}).finished == 0
    [trap] = _out_policies(pair.west)
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.lines
    [child] = _children(pair.west)
    assert child.reqid != trap.reqid
    [out] = _out_policies(pair.west)
    assert (out.tunnel_dst, out.reqid) == (ip("127.0.0.2"), child.reqid)
    assert pair.west.lines_with('eroute [198.18.1.0/24===198.18.2.0/24] owned by the trap of '
                                '"west-north" (no IPsec SA); taken over by this Child SA')
    assert list(pair.west.core.routes) == ["west-north"]  # still routed
    assert pair.west.whack({"action": "terminate", "name": "west-east"}).finished == 0
    pair.pump()
    assert _out_policies(pair.west) == [trap] and pair.west.kernel.installed_sas() == []
    acquire = pair.west.kernel.outbound_packet(ip("198.18.1.254"), ip("198.18.2.254"))
    assert acquire is not None and acquire.reqid == trap.reqid  # the trap works again
