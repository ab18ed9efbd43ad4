"""PLUTO_NEXT_HOP without a configured next hop: the gateway the kernel would use to reach
the peer (``ip route get PEER``), or the peer itself when it is on the link, as libreswan's
%defaultroute; the default updown routes the peer's client through it, or on the interface
when the peer is on the link."""

from __future__ import annotations

import ipaddress
import os
import stat
from pathlib import Path

import pytest

from pluto.engine import updown_calls
from pluto.kernel import updown
from tests.inprocess.harness import Pair, connection

ip = ipaddress.ip_address
net = ipaddress.ip_network
ROAD, EAST, NIC_INSIDE = "203.0.113.209", "198.51.100.23", "203.0.113.254"


@pytest.mark.parametrize(("text", "gateway", "dev"), [
    ("198.51.100.23 via 203.0.113.254 dev eth0 src 203.0.113.209 uid 0 \\    cache ",
     "203.0.113.254", "eth0"),
    ("203.0.113.254 dev eth1 src 203.0.113.209 uid 0 \\    cache ", None, "eth1"),
    ("local 127.0.0.1 dev lo table local src 127.0.0.1 uid 0 \\    cache <local> ", None, "lo"),
    ("2001:db8::1 from :: via 2001:db8:1:3::254 dev eth0 src 2001:db8:1:3::209 metric 1024",
     "2001:db8:1:3::254", "eth0"),
])
def test_route_get_output_is_parsed(text, gateway, dev):
    route = updown.parse_route_get(text)
    assert route == updown.RouteToPeer(None if gateway is None else ip(gateway), dev)


@pytest.mark.parametrize("text", ["", "RTNETLINK answers: Network is unreachable",
                                  "198.51.100.23 via"])
def test_not_a_route(text):
    assert updown.parse_route_get(text) is None


def test_route_to_loopback_is_on_link():
    assert updown.route_to(ip("127.0.0.1")) == updown.RouteToPeer(None, "lo")


def _road_context(monkeypatch, route, **left) -> updown.UpdownContext:
    asked = []

    def fake_route_to(peer):
        asked.append(peer)
        return route

    monkeypatch.setattr(updown, "route_to", fake_route_to)
    pair = Pair(west=ROAD, east=EAST)
    desc = connection("road", west=ROAD, east=EAST, west_client=None)
    desc["left"].update(left)
    pair.add(desc)
    conn = pair.west.core.connections.get("road")
    ctx = updown_calls.context(pair.west.core, conn)
    ctx_asked = list(asked)
    return ctx, ctx_asked


def test_peer_behind_a_gateway_gets_the_gateway(monkeypatch):
    ctx, asked = _road_context(monkeypatch, updown.RouteToPeer(ip(NIC_INSIDE), "eth0"))
    assert asked == [ip(EAST)]
    env = updown.environment("route-client", ctx)
    assert (env["PLUTO_PEER"], env["PLUTO_NEXT_HOP"]) == (EAST, NIC_INSIDE)
    assert env["PLUTO_INTERFACE"] == "eth0"  # ROAD is no address of this host


def test_peer_on_the_link_is_its_own_next_hop(monkeypatch):
    ctx, _asked = _road_context(monkeypatch, updown.RouteToPeer(None, "eth1"))
    env = updown.environment("route-client", ctx)
    assert (env["PLUTO_NEXT_HOP"], env["PLUTO_INTERFACE"]) == (EAST, "eth1")


def test_no_route_known_falls_back_to_the_peer(monkeypatch):
    ctx, _asked = _road_context(monkeypatch, None)
    assert ctx.next_hop == ip(EAST) and ctx.interface == ""


def test_a_configured_next_hop_wins_and_nothing_is_asked(monkeypatch):
    ctx, asked = _road_context(monkeypatch, updown.RouteToPeer(ip("203.0.113.1"), "eth0"),
                               nexthop="203.0.113.254")
    assert asked == [] and ctx.next_hop == ip(NIC_INSIDE)


def test_defaultroute_next_hop_asks_the_kernel(monkeypatch):
    ctx, asked = _road_context(monkeypatch, updown.RouteToPeer(ip(NIC_INSIDE), "eth0"),
                               nexthop="%defaultroute")
    assert asked == [ip(EAST)] and ctx.next_hop == ip(NIC_INSIDE)


def _run_default(tmp_path: Path, ctx: updown.UpdownContext) -> list[str]:
    log = tmp_path / "ip.log"
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    script = fake / "ip"
    script.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    old = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{fake}:{old}"
    try:
        for verb in ("prepare-client", "route-client", "up-client", "down-client",
                     "unroute-client"):
            assert updown.run(updown.DEFAULT_UPDOWN, verb, ctx).ok
    finally:
        os.environ["PATH"] = old
    return log.read_text().splitlines()


def _ctx(next_hop: str, interface: str) -> updown.UpdownContext:
    return updown.UpdownContext(connection="road", me=ip(ROAD), peer=ip(EAST),
                                my_client=net(f"{ROAD}/32"), peer_client=net("198.18.2.0/24"),
                                next_hop=ip(next_hop), interface=interface)


def test_default_updown_routes_through_the_gateway(tmp_path):
    assert _run_default(tmp_path, _ctx(NIC_INSIDE, "eth0")) == [
        "route replace 198.18.2.0/24 via 203.0.113.254",
        "route del 198.18.2.0/24 via 203.0.113.254"]


def test_default_updown_routes_on_the_interface_when_on_link(tmp_path):
    assert _run_default(tmp_path, _ctx(EAST, "eth1")) == [
        "route replace 198.18.2.0/24 dev eth1",
        "route del 198.18.2.0/24 dev eth1"]
