"""StateTable iteration order (serial order), which it keeps without sorting while states
arrive in serial order, and the proposal-string cache of the per-message path."""

from __future__ import annotations

from pluto.crypto.proposals import format_proposal, parse_esp, parse_ike
from pluto.engine.states import ChildSa, StateKind, StateTable


def _child(serial: int, conn: object) -> ChildSa:
    kind = next(iter(StateKind))
    return ChildSa(serial=serial, conn=conn, kind=kind, logger=None)  # type: ignore[arg-type]


def test_iteration_is_by_serial_even_when_added_out_of_order():
    table, a, b = StateTable(), object(), object()
    for serial, conn in ((1, a), (2, b), (3, a)):
        table.add(_child(serial, conn))
    assert [s.serial for s in table] == [1, 2, 3]
    table.add(_child(0, b))   # late arrival with a lower serial
    table.add(_child(5, a))
    assert [s.serial for s in table] == [0, 1, 2, 3, 5]
    assert [s.serial for s in table.for_connection(b)] == [0, 2]
    assert [s.serial for s in table.for_connection(a)] == [1, 3, 5]


def test_remove_keeps_the_order_of_the_rest():
    table, conn = StateTable(), object()
    states = [_child(serial, conn) for serial in range(1, 6)]
    for state in states:
        table.add(state)
    table.remove(states[1])
    table.remove(states[3])
    assert [s.serial for s in table] == [1, 3, 5]
    assert len(table) == 3


class _QuietLogger:
    def debug(self, cls: str, text: str) -> None:
        pass


def test_cached_proposals_are_fresh_lists_with_equal_values():
    first = parse_ike("aes_gcm128-sha2_256;x25519")
    first.clear()   # a caller changing its list must not change what the next caller gets
    again = parse_ike("aes_gcm128-sha2_256;x25519")
    # a logger bypasses the cache: the cached answer equals a fresh parse
    fresh = parse_ike("aes_gcm128-sha2_256;x25519", logger=_QuietLogger())  # type: ignore[arg-type]
    assert again == fresh and len(again) == 1
    assert [format_proposal(p) for p in again] == [format_proposal(p) for p in fresh]
    assert parse_esp("aes128-sha2_256", pfs=False) == parse_esp("aes128-sha2_256", pfs=False)
    # pfs is part of the key: without it esp= key exchanges are dropped
    assert parse_esp("aes128-sha2_256-modp2048", pfs=False)[0].ke == ()
    assert parse_esp("aes128-sha2_256-modp2048", pfs=True)[0].ke != ()
