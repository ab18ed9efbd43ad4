"""--route / --unroute and on-demand keying: trap policies, ACQUIRE, conflicts, auto=route.

The nostack kernel plays XFRM's part: ``outbound_packet`` answers what a packet leaving
through the out policy would cause (an ACQUIRE when no SA carries the policy's reqid).
"""

from __future__ import annotations

import ipaddress

from pluto.config.ipsec_conf import from_text
from pluto.config.startup import load_connections
from pluto.engine.states import ChildSa
from pluto.whack_protocol import RC_ROUTE, RC_RTBUSY
from tests.inprocess.harness import Pair, connection

ip = ipaddress.ip_address
net = ipaddress.ip_network
WEST_CLIENT, EAST_CLIENT = ip("198.18.1.254"), ip("198.18.2.254")


def _routed_pair() -> Pair:
    pair = Pair()
    pair.add()
    reply = pair.west.whack({"action": "route", "name": "west-east"})
    assert reply.finished == 0, reply.lines
    return pair


def _policies(host) -> set[tuple]:
    return {(p.direction, str(p.src_selector), str(p.dst_selector), p.reqid)
            for p in host.kernel.installed_policies()}


def _children(host) -> list[ChildSa]:
    return [s for s in host.core.states if isinstance(s, ChildSa)]


def test_route_installs_a_trap_whose_acquire_brings_the_connection_up():
    pair = _routed_pair()
    kernel = pair.west.kernel
    [trap] = kernel.installed_policies()
    assert (trap.direction, trap.src_selector, trap.dst_selector) == (
        "out", net("198.18.1.0/24"), net("198.18.2.0/24"))
    assert (trap.tunnel_src, trap.tunnel_dst) == (ip("127.0.0.1"), ip("127.0.0.2"))
    assert kernel.installed_sas() == [] and not pair.wire.queue
    # traffic for the peer's subnet that the trap does not cover raises nothing
    assert kernel.outbound_packet(WEST_CLIENT, ip("198.18.3.1")) is None
    acquire = kernel.outbound_packet(WEST_CLIENT, EAST_CLIENT, ip_proto=1)
    assert acquire is not None and acquire.reqid == trap.reqid
    pair.west.core.kernel_acquire(acquire)
    assert ('"west-east": initiating on demand: ACQUIRE for 198.18.1.254->198.18.2.254 '
            '(protocol 1)') in pair.west.log
    pair.pump()
    [child] = _children(pair.west)
    assert child.kind.established and child.reqid == trap.reqid
    # the trap is the Child SA's out policy now: same reqid, so packets take the SA
    assert _policies(pair.west) == {
        ("out", "198.18.1.0/24", "198.18.2.0/24", trap.reqid),
        ("in", "198.18.2.0/24", "198.18.1.0/24", trap.reqid),
        ("fwd", "198.18.2.0/24", "198.18.1.0/24", trap.reqid)}
    assert kernel.outbound_packet(WEST_CLIENT, EAST_CLIENT) is None
    # a second ACQUIRE (packets queued before the SA existed) starts nothing new
    states = len(pair.west.core.states)
    pair.west.core.kernel_acquire(acquire)
    pair.pump()
    assert len(pair.west.core.states) == states


def test_terminate_leaves_the_trap_and_unroute_removes_it():
    pair = _routed_pair()
    trap = pair.west.kernel.installed_policies()[0]
    pair.west.core.kernel_acquire(pair.west.kernel.outbound_packet(WEST_CLIENT, EAST_CLIENT))
    pair.pump()
    assert pair.west.whack({"action": "terminate", "name": "west-east"}).finished == 0
    pair.pump()
    assert pair.west.kernel.installed_sas() == []
    assert pair.west.kernel.installed_policies() == [trap]
    assert pair.east.kernel.installed_policies() == []  # east never routed
    # still routed: the next packet asks again
    assert pair.west.kernel.outbound_packet(WEST_CLIENT, EAST_CLIENT) is not None
    assert pair.west.whack({"action": "unroute", "name": "west-east"}).finished == 0
    assert pair.west.kernel.installed_policies() == []
    assert pair.west.kernel.outbound_packet(WEST_CLIENT, EAST_CLIENT) is None


def test_routing_an_established_connection_keeps_its_policy_as_the_trap():
    pair = Pair()
    assert pair.establish().finished == 0
    before = _policies(pair.west)
    assert pair.west.whack({"action": "route", "name": "west-east"}).finished == 0
    assert _policies(pair.west) == before  # nothing added: the Child SA's policy serves
    assert pair.west.whack({"action": "terminate", "name": "west-east"}).finished == 0
    pair.pump()
    [(direction, src, dst, _reqid)] = _policies(pair.west)
    assert (direction, src, dst) == ("out", "198.18.1.0/24", "198.18.2.0/24")
    assert pair.west.whack({"action": "unroute", "name": "west-east"}).finished == 0
    assert pair.west.kernel.installed_policies() == []


def test_route_of_selectors_another_connection_owns_is_refused():
    pair = _routed_pair()
    other = connection("other", west=str(pair.west.address), east="127.0.0.3")
    assert pair.west.whack({"action": "add", "connection": other}).finished == 0
    reply = pair.west.whack({"action": "route", "name": "other"})
    assert reply.finished == RC_ROUTE
    assert reply.texts == ['"other": cannot route: 198.18.1.0/24===198.18.2.0/24 is already '
                           'routed for "west-east"']
    assert len(pair.west.kernel.installed_policies()) == 1
    reply = pair.west.whack({"action": "unroute", "name": "west-east"})
    assert reply.finished == 0 and pair.west.kernel.installed_policies() == []


def test_a_child_sa_of_another_connection_blocks_the_route():
    pair = Pair()
    assert pair.establish().finished == 0
    other = connection("other", west=str(pair.west.address), east="127.0.0.3")
    assert pair.west.whack({"action": "add", "connection": other}).finished == 0
    reply = pair.west.whack({"action": "route", "name": "other"})
    assert reply.finished == RC_ROUTE
    assert reply.texts == ['"other": cannot route: 198.18.1.0/24===198.18.2.0/24 is in use by '
                           '"west-east" #2']


def test_acquire_for_nothing_routed_is_logged_and_ignored():
    pair = _routed_pair()
    acquire = pair.west.kernel.outbound_packet(WEST_CLIENT, EAST_CLIENT)
    assert pair.west.whack({"action": "unroute", "name": "west-east"}).finished == 0
    pair.west.core.kernel_acquire(acquire)
    assert not pair.wire.queue
    assert ("kernel: ACQUIRE for 198.18.1.254->198.18.2.254 (protocol 0) matches no routed "
            "connection; ignored") in pair.west.log


def test_deleting_a_routed_connection_removes_its_trap():
    pair = _routed_pair()
    assert pair.west.whack({"action": "delete", "name": "west-east"}).finished == 0
    assert pair.west.kernel.installed_policies() == [] and pair.west.core.routes == {}


def test_close_unroutes_everything():
    pair = _routed_pair()
    pair.west.core.close()
    assert pair.west.kernel.installed_policies() == []


def test_auto_route_in_ipsec_conf_routes_at_start_up():
    pair = Pair()
    conf = from_text(
        "conn westnet-eastnet\n  left=127.0.0.1\n  leftsubnet=198.18.1.0/24\n"
        "  right=127.0.0.2\n  rightsubnet=198.18.2.0/24\n  authby=secret\n"
        "  leftid=@west\n  rightid=@east\n  auto=route\n", "t.conf")
    log: list[str] = []
    assert load_connections(pair.west.core, conf, log.append) == ["westnet-eastnet"]
    assert list(pair.west.core.routes) == ["westnet-eastnet"]
    [trap] = pair.west.kernel.installed_policies()
    assert (str(trap.src_selector), str(trap.dst_selector)) == ("198.18.1.0/24",
                                                                 "198.18.2.0/24")


def test_rekey_installs_the_new_outbound_sa_before_the_old_goes():
    pair = Pair()
    assert pair.establish().finished == 0
    calls: list[tuple[str, int]] = []
    kernel = pair.west.kernel
    real_add, real_delete = kernel.add_sa, kernel.delete_sa

    def add_sa(sa):
        calls.append(("add", sa.id.spi))
        real_add(sa)

    def delete_sa(sa):
        calls.append(("delete", sa.spi))
        real_delete(sa)

    kernel.add_sa, kernel.delete_sa = add_sa, delete_sa
    [old] = _children(pair.west)
    assert pair.west.whack({"action": "rekey-child", "name": "west-east"}).finished is None
    pair.pump()
    new = pair.west.core.states.get(3)
    assert isinstance(new, ChildSa) and new.replacing == old.serial
    assert calls.index(("add", new.outbound_spi)) < calls.index(("delete", old.outbound_spi))
    # and the policies never left the kernel
    assert len(kernel.installed_policies()) == 3


def test_the_trap_template_names_the_protocols_the_child_sa_will_have():
    # IKEv1 AH alone and ESP+AH: the template must match the SAs the negotiation installs,
    # or the kernel would keep raising ACQUIREs for an ESP SA that never comes
    for flags, proto in (({"authenticate": True, "encrypt": False}, "ah"),
                         ({"authenticate": True, "encrypt": True}, "esp+ah"),
                         ({}, "esp")):
        pair = Pair()
        pair.west.core.options.ikev1_policy = "accept"
        pair.west.whack({"action": "add", "connection": connection(ikev2=not flags, **flags)})
        reply = pair.west.whack({"action": "route", "name": "west-east"})
        assert reply.finished == 0, reply.lines
        [trap] = pair.west.kernel.installed_policies()
        assert trap.proto == proto


def test_unroute_is_refused_while_an_ipsec_sa_uses_the_route():
    pair = _routed_pair()
    [trap] = pair.west.kernel.installed_policies()
    pair.west.core.kernel_acquire(pair.west.kernel.outbound_packet(WEST_CLIENT, EAST_CLIENT))
    pair.pump()
    [child] = _children(pair.west)
    reply = pair.west.whack({"action": "unroute", "name": "west-east"})
    assert reply.finished == RC_RTBUSY
    assert reply.lines[-1] == (RC_RTBUSY, f'"west-east": cannot unroute: route busy (IPsec SA '
                                          f"#{child.serial} uses it; --terminate it first)")
    assert "west-east" in pair.west.core.routes and len(_policies(pair.west)) == 3
    # once the IPsec SA is gone the trap comes back, and unrouting removes it
    assert pair.west.whack({"action": "terminate", "name": "west-east"}).finished == 0
    pair.pump()
    assert _policies(pair.west) == {("out", "198.18.1.0/24", "198.18.2.0/24", trap.reqid)}
    assert pair.west.whack({"action": "unroute", "name": "west-east"}).finished == 0
    assert pair.west.kernel.installed_policies() == []
