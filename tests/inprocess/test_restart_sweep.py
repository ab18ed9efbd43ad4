"""A pluto killed with SIGKILL and started again, in process: the new core meets the old
core's SAs and policies in the (NoStack) kernel, the start-up sweep removes them, and the
tunnel comes back: at once when the restarted side initiates (auto=start), or through the
peer's liveness checks when it does not."""

from __future__ import annotations

from pluto.connections.secrets import Secrets
from pluto.crypto.rand import RandomSource
from pluto.engine.core import CoreOptions, Pluto
from pluto.kernel import sweep
from pluto.kernel.ops import KernelError, PolicySpec
from pluto.log import Logger
from tests.inprocess.harness import PSK, Host, Pair, connection


def _crash_and_restart(pair: Pair, host: Host, generation: int = 2) -> None:
    """``kill -9``: the old core vanishes without a word (no Delete, no flush); a new core,
    with fresh randomness, takes over the same addresses and the same kernel."""
    host.log.append("--- restart ---")
    host.core = Pluto(clock=pair.clock, rand=RandomSource(f"seed-{host.name}-{generation}"),
                      kernel=host.kernel, transport=pair.wire.endpoint(host.name),
                      logger=Logger(host.log.append, host.flags), impairs=host.impairs,
                      secrets=Secrets.from_text(f'@west @east : PSK "{PSK}"\n'),
                      options=CoreOptions(listen=[host.endpoint]))
    pair.wire.owners[host.endpoint] = host.core


def _sweep(host: Host) -> sweep.SweepResult:
    return sweep.sweep(sweep.nostack_leftovers(host.kernel), host.log.append)


def _established(pair: Pair, **dpd) -> Pair:
    pair.add(connection(**dpd), connection(**dpd))
    assert pair.west.whack({"action": "initiate", "name": "west-east"}).finished is None
    pair.pump()
    assert len(pair.west.kernel.installed_sas()) == 2
    return pair


def test_sweep_removes_what_the_killed_pluto_left_and_logs_each_item():
    pair = _established(Pair())
    before = pair.west.kernel.installed_sas()
    policies = pair.west.kernel.installed_policies()
    assert {sa.reqid for sa in before} == {16384} and len(policies) == 3
    _crash_and_restart(pair, pair.west)
    result = _sweep(pair.west)
    assert pair.west.kernel.installed_sas() == []
    assert pair.west.kernel.installed_policies() == []
    assert (result.count("SA"), result.count("policy")) == (2, 3)
    removed = pair.west.lines_with("start-up sweep: removed SA esp.")
    assert sorted(removed) == sorted(
        f"start-up sweep: removed SA esp.{sa.id.spi:x}@{sa.id.dst} {sa.src}->{sa.id.dst} "
        f"reqid=16384 left by an earlier pluto" for sa in before)
    assert pair.west.lines_with("start-up sweep: removed policy 198.18.1.0/24->198.18.2.0/24 "
                                "dir out reqid=16384 left by an earlier pluto")
    assert pair.west.log[-1] == ("start-up sweep: removed 2 SA(s) and 3 policy(ies) with "
                                 "reqids from 16384 up")


def test_sweep_leaves_manual_and_foreign_reqids_alone():
    pair = Pair()
    kernel = pair.west.kernel
    import ipaddress

    net = ipaddress.ip_network
    addr = ipaddress.ip_address
    manual = PolicySpec("out", net("198.18.5.0/24"), net("198.18.6.0/24"), addr("127.0.0.1"),
                        addr("127.0.0.2"), "tunnel", "esp", reqid=100)
    strongswan = PolicySpec("out", net("198.18.7.0/24"), net("198.18.8.0/24"),
                            addr("127.0.0.1"), addr("127.0.0.2"), "tunnel", "esp", reqid=1)
    ours = PolicySpec("out", net("198.18.1.0/24"), net("198.18.2.0/24"), addr("127.0.0.1"),
                      addr("127.0.0.2"), "tunnel", "esp", reqid=16388)
    for policy in (manual, strongswan, ours):
        kernel.add_policy(policy)
    result = _sweep(pair.west)
    assert kernel.installed_policies() == [manual, strongswan]
    assert [item.reqid for item in result.removed] == [16388]


def test_without_the_sweep_the_new_pluto_collides_with_the_old_policies():
    pair = _established(Pair())
    _crash_and_restart(pair, pair.west)
    pair.west.whack({"action": "add", "connection": connection()})
    pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    # the new core hands out reqid 16384 again; the old policies are still there
    assert pair.west.lines_with("already exists")
    assert len(pair.west.kernel.installed_sas()) == 2  # only the old, unmanaged pair


def test_restarted_initiator_with_auto_start_brings_the_tunnel_back():
    pair = Pair()
    pair.east.core.options.uniqueids = True  # ipsec.conf's default (config setup)
    _established(pair)
    old_spis = {sa.id.spi for sa in pair.east.kernel.installed_sas()}
    _crash_and_restart(pair, pair.west)
    _sweep(pair.west)
    # auto=start: add, then initiate (what load_connections does for the conn)
    assert pair.west.whack({"action": "add", "connection": connection()}).finished == 0
    pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert pair.west.lines_with("initiator established Child SA")
    west_sas = pair.west.kernel.installed_sas()
    east_sas = pair.east.kernel.installed_sas()
    assert len(west_sas) == 2
    # east dropped the SAs of the old IKE SA (uniqueids): only the new pair is left, and
    # both kernels hold the same two SPIs
    assert {sa.id.spi for sa in east_sas} == {sa.id.spi for sa in west_sas}
    assert not old_spis & {sa.id.spi for sa in east_sas}


def test_without_uniqueids_the_stale_ike_sa_dies_by_liveness_and_spares_the_new_tunnel():
    pair = Pair()
    _established(pair, dpddelay=10, dpdtimeout=25)
    old_spis = {sa.id.spi for sa in pair.east.kernel.installed_sas()}
    _crash_and_restart(pair, pair.west)
    _sweep(pair.west)
    pair.west.whack({"action": "add", "connection": connection(dpddelay=10, dpdtimeout=25)})
    pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert len(pair.east.kernel.installed_sas()) == 4  # old and new side by side
    # east probes the old IKE SA; the new west knows nothing of it and stays silent
    pair.advance(10 + 25 + 1)
    assert pair.east.lines_with('"west-east" #1: STATE_V2_ESTABLISHED_IKE_SA: 25 second '
                                "timeout exceeded after")
    east_spis = {sa.id.spi for sa in pair.east.kernel.installed_sas()}
    west_spis = {sa.id.spi for sa in pair.west.kernel.installed_sas()}
    assert len(east_spis) == 2 and east_spis == west_spis and not east_spis & old_spis
    # the new Child SA still has its policies (the old one shared them)
    assert len(pair.east.kernel.installed_policies()) == 3


def test_peer_notices_a_restarted_responder_through_liveness_and_revives():
    # dpdaction=restart: what an operator sets on the side that must bring the tunnel back
    pair = _established(Pair(), dpddelay=10, dpdtimeout=25, dpdaction="restart")
    old_spis = {sa.id.spi for sa in pair.west.kernel.installed_sas()}
    _crash_and_restart(pair, pair.east)
    _sweep(pair.east)
    # the restarted east only adds the conn (auto=add): it waits for west
    assert pair.east.whack({"action": "add", "connection": connection()}).finished == 0
    pair.advance(10 + 25 + 1)
    assert pair.west.lines_with("peer is not responding; deleting IKE SA and its Child SAs")
    assert pair.west.lines_with("reviving connection")
    pair.advance(5)  # the revival's delay, then the new exchange
    west_sas = {sa.id.spi for sa in pair.west.kernel.installed_sas()}
    east_sas = {sa.id.spi for sa in pair.east.kernel.installed_sas()}
    assert len(west_sas) == 2 and west_sas == east_sas
    assert not west_sas & old_spis


def test_sweep_carries_on_past_an_item_already_gone():
    pair = _established(Pair())
    _crash_and_restart(pair, pair.west)
    leftovers = sweep.nostack_leftovers(pair.west.kernel)
    first_sa = next(item for item in leftovers if item.kind == "SA")
    first_sa.remove()  # it expired between the listing and the sweep
    result = sweep.sweep(leftovers, pair.west.log.append)
    assert len(result.failed) == 1 and result.failed[0][0] is first_sa
    assert pair.west.lines_with("start-up sweep: could not remove SA esp.")
    assert pair.west.kernel.installed_sas() == []
    assert pair.west.kernel.installed_policies() == []


def test_kernel_error_type_is_what_the_sweep_reports():
    # the sweep catches only KernelError: anything else is a bug and must be seen
    item = sweep.Leftover("SA", "x", 16384, lambda: (_ for _ in ()).throw(
        KernelError("delete SA", 3, "No such process")))
    result = sweep.sweep([item], lambda _line: None)
    assert result.failed and "errno 3" in result.failed[0][1]


def test_kill_during_negotiation_leaves_a_larval_spi_that_the_sweep_releases():
    pair = Pair()
    pair.add()
    pair.west.whack({"action": "initiate", "name": "west-east"})
    # IKE_SA_INIT both ways, then west's IKE_AUTH request is lost with west itself
    pair.wire.deliver(pair.drop_next())
    pair.wire.deliver(pair.drop_next())
    assert pair.west.core.states.get(1).kind.name == "STATE_V2_IKE_AUTH_I"
    [larval] = pair.west.kernel.larval_spis()
    pair.wire.queue.clear()
    _crash_and_restart(pair, pair.west)
    result = _sweep(pair.west)
    assert pair.west.kernel.larval_spis() == []
    assert pair.west.lines_with(f"start-up sweep: removed SA esp.{larval.spi:x}@{larval.dst} "
                                "(larval SPI) left by an earlier pluto")
    assert result.count("SA") == 1
    # the new west negotiates from scratch; east's half-open IKE SA is left to time out
    assert pair.west.whack({"action": "add", "connection": connection()}).finished == 0
    pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert pair.west.lines_with("initiator established Child SA")
    assert len(pair.west.kernel.installed_sas()) == 2
