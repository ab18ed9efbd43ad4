"""StateTable's connection and rekey indexes follow ``state.conn``/``ike.rekey_of`` wherever
they are assigned, and deleting states does not scan the whole table."""

from __future__ import annotations

from pluto.engine import outcome
from pluto.engine.states import ChildSa, IkeSa, StateKind, StateTable
from tests.inprocess.harness import Pair


def _ike(serial: int, conn: object, rekey_of: int | None = None) -> IkeSa:
    return IkeSa(serial=serial, conn=conn, kind=StateKind.STATE_V2_IKE_SA_INIT_R,  # type: ignore[arg-type]
                 logger=None, rekey_of=rekey_of)  # type: ignore[arg-type]


def _child(serial: int, conn: object) -> ChildSa:
    return ChildSa(serial=serial, conn=conn, kind=StateKind.STATE_V2_ESTABLISHED_CHILD_SA,  # type: ignore[arg-type]
                   logger=None)  # type: ignore[arg-type]


def test_for_connection_follows_a_connection_switch():
    table, a, b = StateTable(), object(), object()
    ike, child = _ike(1, a), _child(2, a)
    table.add(ike)
    table.add(child)
    assert table.for_connection(a) == [ike, child]
    ike.conn = b  # as IKE_AUTH does when the peer's ID picks another connection
    assert table.for_connection(a) == [child] and table.for_connection(b) == [ike]
    table.remove(ike)
    assert table.for_connection(b) == [] and ike.conn is b
    ike.conn = a  # no longer in the table: nothing is indexed
    assert table.for_connection(a) == [child]


def test_rekeys_of_follows_assignments_and_removal():
    table, conn = StateTable(), object()
    old, new, other = _ike(1, conn), _ike(3, conn), _ike(2, conn, rekey_of=7)
    for ike in (old, new, other):
        table.add(ike)
    assert table.rekeys_of(1) == [] and table.rekeys_of(7) == [other]
    new.rekey_of = 1  # rekey_ike sets it after the new IKE SA is in the table
    other.rekey_of = 1
    assert table.rekeys_of(1) == [other, new] and table.rekeys_of(7) == []
    table.remove(other)
    assert table.rekeys_of(1) == [new]
    new.rekey_of = None
    assert table.rekeys_of(1) == []


def test_a_state_replaced_under_its_serial_leaves_no_stale_entry():
    table, a, b = StateTable(), object(), object()
    first = _ike(1, a, rekey_of=5)
    table.add(first)
    second = _ike(1, b)
    table.add(second)
    assert table.for_connection(a) == [] and table.rekeys_of(5) == []
    assert table.for_connection(b) == [second] and list(table) == [second]
    first.conn = b  # the replaced state is out of the table
    assert table.for_connection(b) == [second]


def test_deleting_an_ike_sa_deletes_its_rekey_under_way():
    pair = Pair()
    pair.establish()
    west = pair.west.core
    pair.west.whack({"action": "rekey-ike", "name": "west-east"})  # request still queued
    (new,) = west.states.rekeys_of(1)
    assert new.serial == 3 and not new.kind.established
    outcome.delete_state(west, west.states.get(1))
    assert west.states.get(3) is None and west.states.rekeys_of(1) == []


def test_in_process_rekey_and_delete_keep_the_indexes_right():
    pair = Pair()
    pair.establish()
    east = pair.east.core
    reply = pair.west.whack({"action": "rekey-ike", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    for host in (pair.west, pair.east):
        states = host.core.states
        assert any(isinstance(s, IkeSa) and s.rekey_of for s in states)
        for state in states:
            assert state in states.for_connection(state.conn)
            if isinstance(state, IkeSa) and state.rekey_of is not None:
                assert state in states.rekeys_of(state.rekey_of)
    reply = pair.west.whack({"action": "terminate", "name": "west-east"})
    pair.pump()
    assert len(east.states) == 0
    assert east.states._by_conn == {} and east.states._by_rekey_of == {}
