"""Child SAs reach the kernel before the responder claims success, and kernel policies are
shared, taken over or refused when two Child SAs want the same traffic selectors.

The responder installs the SAs and policies first and answers success only when that worked;
otherwise it answers TS_UNACCEPTABLE and keeps nothing. The initiator, which learns of a
kernel failure only after the peer installed its half, deletes the Child SA on both ends.
"""

from __future__ import annotations

import errno

from pluto.engine.states import ChildSa, IkeSa
from pluto.kernel.ops import KernelError
from pluto.packet.ikev2_types import NotifyType
from pluto.whack_protocol import RC_NOTIFICATION
from tests.inprocess.harness import PSK, Host, Pair, connection

EAST = "198.51.100.23"


def _up(host: Host, desc: dict) -> Host:
    assert host.whack({"action": "add", "connection": desc}).finished == 0
    return host


def _initiate(pair: Pair, host: Host, name: str):
    reply = host.whack({"action": "initiate", "name": name})
    pair.pump()
    return reply


def _children(host: Host) -> list[ChildSa]:
    return [s for s in host.core.states if isinstance(s, ChildSa)]


def _fail_add_sa(host: Host, nth: int) -> list[int]:
    """Make the kernel refuse the ``nth`` add_sa from now on (counting from 1)."""
    calls: list[int] = []
    real = host.kernel.add_sa

    def add_sa(sa):
        calls.append(sa.id.spi)
        if len(calls) == nth:
            raise KernelError("add SA", errno.ENOMEM, "impaired by the test")
        real(sa)

    host.kernel.add_sa = add_sa
    return calls


def _nothing_left(host: Host) -> None:
    assert host.kernel.installed_sas() == [], host.kernel.describe()
    assert host.kernel.installed_policies() == [], host.kernel.describe()
    assert host.kernel.larval_spis() == []


def test_second_child_of_a_connection_shares_the_policies_and_outlives_the_first():
    """A peer that came back (no --uniqueids): its new Child SA takes the old one's reqid
    and policies; deleting the old IKE SA leaves the policies to the new Child SA."""
    pair = Pair()
    assert pair.establish().finished == 0
    rebooted = _up(Host("west-rebooted", "127.0.0.1", pair.wire, pair.clock,
                        f'@west @east : PSK "{PSK}"\n'), connection())
    assert _initiate(pair, rebooted, "west-east").finished == 0
    old, new = _children(pair.east)
    assert (old.serial, new.serial) == (2, 4) and new.kind.established
    assert new.reqid == old.reqid and new.policies == old.policies
    policies = pair.east.kernel.installed_policies()
    assert len(policies) == 3 and len(pair.east.kernel.installed_sas()) == 4
    assert pair.east.whack({"action": "deletestate", "serial": 1}).finished == 0
    pair.pump()
    assert pair.east.kernel.installed_policies() == policies
    assert {sa.id.spi for sa in pair.east.kernel.installed_sas()} == {
        new.inbound_spi, new.outbound_spi}
    assert pair.east.whack({"action": "deletestate", "serial": 3}).finished == 0
    pair.pump()
    _nothing_left(pair.east)


def test_peer_at_another_address_takes_the_policies_over():
    """Two instances of one %any template for the same client subnet: the newer Child SA's
    tunnel endpoint wins, and the older one's deletion leaves the newer policies alone."""
    road, moved = "203.0.113.209", "203.0.113.210"
    pair = Pair(west=road, east=EAST)
    pair.add(connection("road", west=road, east=EAST),
             connection("road", west="%any", east=EAST))
    assert _initiate(pair, pair.west, "road").finished == 0
    other = _up(Host("road-moved", moved, pair.wire, pair.clock, f'@west @east : PSK "{PSK}"\n'),
                connection("road", west=moved, east=EAST))
    assert _initiate(pair, other, "road").finished == 0
    old, new = _children(pair.east)
    assert new.kind.established and old.policies == []
    assert pair.east.lines_with(f'"road"[2] {moved} #4: Child SA #2 had the same traffic '
                                "selectors; its policies now lead to this Child SA")
    out = [p for p in pair.east.kernel.installed_policies() if p.direction == "out"]
    assert [str(p.tunnel_dst) for p in out] == [moved]
    assert pair.west.whack({"action": "terminate", "name": "road"}).finished == 0
    pair.pump()
    assert pair.east.core.states.get(2) is None
    assert len(pair.east.kernel.installed_policies()) == 3
    assert [str(p.tunnel_dst) for p in pair.east.kernel.installed_policies()
            if p.direction == "out"] == [moved]


def test_selectors_of_another_connection_are_refused_before_answering():
    pair = Pair()
    assert pair.establish().finished == 0
    before_sas = pair.east.kernel.installed_sas()
    before_policies = pair.east.kernel.installed_policies()
    north_addr = "127.0.0.3"
    north_desc = connection("north-east", west=north_addr, east="127.0.0.2")
    north_desc["left"]["id"] = "@north"
    secrets = f'@north @east : PSK "{PSK}"\n'
    north = _up(Host("north", north_addr, pair.wire, pair.clock, secrets), north_desc)
    pair.east.core.secrets = type(pair.east.core.secrets).from_text(
        f'@west @east : PSK "{PSK}"\n@north @east : PSK "{PSK}"\n')
    assert pair.east.whack({"action": "add", "connection": north_desc}).finished == 0
    reply = _initiate(pair, north, "north-east")
    assert reply.finished == RC_NOTIFICATION + NotifyType.TS_UNACCEPTABLE, reply.texts
    assert pair.east.lines_with('"north-east" #4: kernel refused the Child SA (add policy '
                                'failed: policies for [198.18.2.0/24===198.18.1.0/24] belong '
                                'to "west-east" #2')
    assert pair.east.kernel.installed_sas() == before_sas
    assert pair.east.kernel.installed_policies() == before_policies
    assert pair.east.kernel.larval_spis() == []
    # the IKE SA stays up on both ends (the error is about the Child SA only)
    for host in (north, pair.east):
        ikes = [s for s in host.core.states if isinstance(s, IkeSa) and s.conn.name ==
                "north-east"]
        assert [s.kind.name for s in ikes] == ["STATE_V2_ESTABLISHED_IKE_SA"]
    assert _children(north) == [] and north.kernel.installed_sas() == []


def test_responder_kernel_failure_in_ike_auth_is_answered_with_an_error():
    pair = Pair()
    pair.add()
    calls = _fail_add_sa(pair.east, 2)  # the outbound SA, after the inbound one went in
    reply = _initiate(pair, pair.west, "west-east")
    assert len(calls) == 2
    assert reply.finished == RC_NOTIFICATION + NotifyType.TS_UNACCEPTABLE, reply.texts
    assert pair.east.lines_with("kernel refused the Child SA (add SA failed: impaired by the "
                                "test (errno 12)); responding with TS_UNACCEPTABLE")
    assert not pair.east.lines_with("established Child SA")
    _nothing_left(pair.east)
    _nothing_left(pair.west)
    assert [s.kind.name for s in pair.east.core.states] == ["STATE_V2_ESTABLISHED_IKE_SA"]


def test_responder_kernel_failure_in_create_child_sa_is_answered_with_an_error():
    pair = Pair()
    pair.west.impairs.apply("omit-v2-ike-auth-child")
    assert pair.establish().finished == 0
    _fail_add_sa(pair.east, 1)
    reply = _initiate(pair, pair.west, "west-east")
    assert reply.finished == RC_NOTIFICATION + NotifyType.TS_UNACCEPTABLE, reply.texts
    assert pair.east.lines_with("kernel refused the Child SA (add SA failed: impaired by the "
                                "test (errno 12)); responding with TS_UNACCEPTABLE")
    _nothing_left(pair.east)
    _nothing_left(pair.west)


def test_initiator_kernel_failure_deletes_the_peers_half():
    pair = Pair()
    pair.add()
    _fail_add_sa(pair.west, 2)
    reply = _initiate(pair, pair.west, "west-east")
    assert reply.finished == RC_NOTIFICATION, reply.texts
    assert reply.texts[-1].startswith('"west-east" #2: kernel refused the Child SA: add SA '
                                      "failed: impaired by the test")
    assert pair.east.lines_with('"west-east" #2: received Delete SA payload: deleting Child SA')
    _nothing_left(pair.east)
    _nothing_left(pair.west)
    assert [s.kind.name for s in pair.west.core.states] == ["STATE_V2_ESTABLISHED_IKE_SA"]
