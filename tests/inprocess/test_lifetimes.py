"""The end of a lifetime (REPLACE): an SA that was not rekeyed is negotiated again when its
connection wants to stay up (rekey=yes), and simply expires with --dontrekey. A fake clock
runs the hours in no time."""

from __future__ import annotations

from pluto.engine.states import ChildSa, IkeSa
from tests.inprocess.harness import Pair, connection


def _kinds(host) -> list[tuple[int, str]]:
    return [(s.serial, s.kind.name) for s in host.core.states]


def _kernels_agree(pair: Pair, count: int) -> None:
    west = {sa.id.spi: sa.encrypt_key for sa in pair.west.kernel.installed_sas()}
    east = {sa.id.spi: sa.encrypt_key for sa in pair.east.kernel.installed_sas()}
    assert len(west) == count and west == east, (pair.west.kernel.describe(),
                                                 pair.east.kernel.describe())


def _pair(west_extra: dict, east_extra: dict) -> Pair:
    """west and east with their own lifetimes (west's end first), west initiating."""
    pair = Pair()
    pair.west.impairs.apply("revival")
    pair.add(connection(**west_extra), connection(**east_extra))
    reply = pair.west.whack({"action": "initiate", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    return pair


def _no_rekey(host, serial: int) -> None:
    """As if the rekey of state #serial had failed: its rekey time passes without one."""
    host.core.cancel(host.core.states.get(serial), "rekey")


def test_child_sa_not_rekeyed_is_replaced_at_the_end_of_its_lifetime():
    pair = _pair({"ipseclifetime": 600, "rekeymargin": 60, "rekeyfuzz": 0},
                 {"ipseclifetime": 900, "rekeymargin": 60, "rekeyfuzz": 0})
    _no_rekey(pair.west, 2)
    old_spis = {sa.id.spi for sa in pair.west.kernel.installed_sas()}
    pair.advance(599)
    assert _kinds(pair.west)[1] == (2, "STATE_V2_ESTABLISHED_CHILD_SA")
    pair.advance(1)
    assert pair.west.lines_with('"west-east" #2: STATE_V2_ESTABLISHED_CHILD_SA: lifetime '
                                "expired before the SA was rekeyed; replacing it")
    assert pair.west.lines_with('"west-east" #3: sent CREATE_CHILD_SA request for new IPsec SA '
                                "using IKE SA #1")
    for host in (pair.west, pair.east):
        assert _kinds(host) == [(1, "STATE_V2_ESTABLISHED_IKE_SA"),
                                (3, "STATE_V2_ESTABLISHED_CHILD_SA")]
    assert pair.east.lines_with('"west-east" #2: received Delete SA payload: deleting Child SA')
    _kernels_agree(pair, 2)
    assert not old_spis & {sa.id.spi for sa in pair.west.kernel.installed_sas()}
    assert len(pair.east.kernel.installed_policies()) == 3


def test_child_sa_with_dontrekey_expires():
    pair = _pair({"ipseclifetime": 600, "rekeymargin": 60, "rekey": False},
                 {"ipseclifetime": 900, "rekeymargin": 60, "rekey": False})
    assert "rekey" not in pair.west.core.states.get(2).timers
    pair.advance(600)
    assert pair.west.lines_with('"west-east" #2: STATE_V2_ESTABLISHED_CHILD_SA: lifetime '
                                "expired; deleting")
    for host in (pair.west, pair.east):
        assert _kinds(host) == [(1, "STATE_V2_ESTABLISHED_IKE_SA")]
        assert host.kernel.installed_sas() == [] and host.kernel.installed_policies() == []
    assert not pair.west.lines_with("replacing")


def test_ike_sa_not_rekeyed_is_replaced_with_its_child():
    pair = _pair({"ikelifetime": 900, "rekeymargin": 60, "rekeyfuzz": 0},
                 {"ikelifetime": 1800, "rekeymargin": 60, "rekeyfuzz": 0})
    _no_rekey(pair.west, 1)
    pair.advance(900)
    assert pair.west.lines_with('"west-east" #1: STATE_V2_ESTABLISHED_IKE_SA: lifetime expired '
                                "before the SA was rekeyed; replacing it")
    for host in (pair.west, pair.east):
        assert _kinds(host) == [(3, "STATE_V2_ESTABLISHED_IKE_SA"),
                                (4, "STATE_V2_ESTABLISHED_CHILD_SA")]
    old, new = pair.east.core.states.get(1), pair.east.core.states.get(3)
    assert old is None and isinstance(new, IkeSa) and new.peer_id is not None
    _kernels_agree(pair, 2)


def test_ike_sa_with_dontrekey_expires_with_its_children_and_is_not_revived():
    pair = _pair({"ikelifetime": 900, "rekeymargin": 60, "rekey": False},
                 {"ikelifetime": 1800, "rekeymargin": 60, "rekey": False})
    pair.advance(900)
    assert pair.west.lines_with('"west-east" #1: STATE_V2_ESTABLISHED_IKE_SA: lifetime expired; '
                                "deleting")
    assert len(pair.west.core.states) == len(pair.east.core.states) == 0
    pair.advance(3600)
    assert len(pair.west.core.states) == 0


def test_rekeyed_child_sa_is_not_replaced_again():
    """The usual case: the rekey happened, the old SA is gone before its lifetime ends and
    its successor carries on; nothing is replaced."""
    pair = _pair({"ipseclifetime": 600, "rekeymargin": 60, "rekeyfuzz": 0},
                 {"ipseclifetime": 600, "rekeymargin": 60, "rekeyfuzz": 0})
    pair.advance(601)
    assert [s.serial for s in pair.west.core.states if isinstance(s, ChildSa)] == [3]
    assert not pair.west.lines_with("replacing it") and not pair.east.lines_with("replacing it")
    _kernels_agree(pair, 2)


def test_responder_instance_expires_instead_of_being_replaced():
    """An instance of a %any template cannot initiate: at the end of its lifetime it goes."""
    road, east = "203.0.113.209", "198.51.100.23"
    pair = Pair(west=road, east=east)
    pair.west.impairs.apply("revival")
    pair.add(connection("road", west=road, east=east, west_client=None, ikelifetime=1800),
             connection("road", west="%any", east=east, west_client=None, ikelifetime=900,
                        rekeymargin=60, rekeyfuzz=0))
    reply = pair.west.whack({"action": "initiate", "name": "road"})
    pair.pump()
    assert reply.finished == 0
    _no_rekey(pair.east, 1)
    pair.advance(900)
    assert pair.east.lines_with(f'"road"[1] {road} #1: STATE_V2_ESTABLISHED_IKE_SA: lifetime '
                                "expired; deleting")
    assert len(pair.east.core.states) == 0 and len(pair.west.core.states) == 0
