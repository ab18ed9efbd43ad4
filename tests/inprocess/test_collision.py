"""Simultaneous rekeys (RFC 7296 §2.8.1, §2.8.2): both ends rekey the same SA at once; the SA
made by the exchange holding the lowest of the four nonces is redundant and is deleted by the
end that initiated that exchange; the other end deletes the old SA. Each side wins once."""

from __future__ import annotations

import pytest

from tests.inprocess.harness import Pair


def _kinds(host) -> list[tuple[int, str]]:
    return [(s.serial, s.kind.name) for s in host.core.states]


def _kernels_agree(pair: Pair, count: int) -> None:
    west = {sa.id.spi: sa.encrypt_key for sa in pair.west.kernel.installed_sas()}
    east = {sa.id.spi: sa.encrypt_key for sa in pair.east.kernel.installed_sas()}
    assert len(west) == count and west == east, (pair.west.kernel.describe(),
                                                 pair.east.kernel.describe())
    assert len(pair.west.kernel.installed_policies()) == 3
    assert len(pair.east.kernel.installed_policies()) == 3


def _both_rekey(pair: Pair, action: str, low: str) -> None:
    """west and east start ``action`` before either request arrives; ``low`` (west or east)
    sends the all-zero nonce, the lowest possible, in its own request only."""
    for host in (pair.west, pair.east):
        if host.name == low:
            host.impairs.apply("nonce:0")
        reply = host.whack({"action": action, "name": "west-east", "async": True})
        assert reply.finished == 0, reply.texts
        host.impairs.apply("no-nonce")
    assert len(pair.wire.queue) == 2
    pair.pump()


@pytest.mark.parametrize("low", ["west", "east"])
def test_simultaneous_child_rekey(low: str):
    pair = Pair()
    pair.establish()
    _both_rekey(pair, "rekey-child", low)
    # serial 3 is each side's own rekey, 4 the one it answered
    loser, winner = (pair.west, pair.east) if low == "west" else (pair.east, pair.west)
    assert loser.lines_with('"west-east" #3: simultaneous rekey of Child SA #2: this exchange '
                            "has the lowest nonce; deleting the redundant Child SA")
    assert winner.lines_with('"west-east" #3: simultaneous rekey of Child SA #2: the peer\'s '
                             "Child SA #4 is redundant and the peer deletes it")
    assert _kinds(loser) == [(1, "STATE_V2_ESTABLISHED_IKE_SA"),
                             (4, "STATE_V2_ESTABLISHED_CHILD_SA")]
    assert _kinds(winner) == [(1, "STATE_V2_ESTABLISHED_IKE_SA"),
                              (3, "STATE_V2_ESTABLISHED_CHILD_SA")]
    survivor = winner.core.states.get(3)
    assert survivor.inbound_spi == loser.core.states.get(4).outbound_spi
    _kernels_agree(pair, 2)
    assert not pair.wire.queue


@pytest.mark.parametrize("low", ["west", "east"])
def test_simultaneous_ike_rekey(low: str):
    pair = Pair()
    pair.establish()
    _both_rekey(pair, "rekey-ike", low)
    loser, winner = (pair.west, pair.east) if low == "west" else (pair.east, pair.west)
    assert loser.lines_with('"west-east" #3: simultaneous rekey of IKE SA #1: this exchange '
                            "has the lowest nonce; deleting the redundant IKE SA")
    assert winner.lines_with('"west-east" #3: simultaneous rekey of IKE SA #1: the peer\'s '
                             "IKE SA #4 is redundant and the peer deletes it")
    assert _kinds(loser) == [(2, "STATE_V2_ESTABLISHED_CHILD_SA"),
                             (4, "STATE_V2_ESTABLISHED_IKE_SA")]
    assert _kinds(winner) == [(2, "STATE_V2_ESTABLISHED_CHILD_SA"),
                              (3, "STATE_V2_ESTABLISHED_IKE_SA")]
    survivor, twin = winner.core.states.get(3), loser.core.states.get(4)
    assert (survivor.spi_i, survivor.spi_r) == (twin.spi_i, twin.spi_r)
    assert survivor.initiator and not twin.initiator
    assert winner.core.states.get(2).ike_serial == 3 and loser.core.states.get(2).ike_serial == 4
    _kernels_agree(pair, 2)
    # the surviving IKE SA carries the next exchange
    reply = winner.whack({"action": "rekey-child", "name": "west-east"})
    pair.pump()
    assert reply.finished == 0, reply.texts
    _kernels_agree(pair, 2)
