"""The kernel's EXPIRE messages (soft rekeys, hard deletes) and the kernel impairs: ignoring
expires, and failing one step of a Child SA install (nothing may stay half installed)."""

from __future__ import annotations

import dataclasses

import pytest

from pluto.engine.states import ChildSa
from pluto.kernel.ops import SaId
from pluto.packet.ikev2_types import NotifyType
from pluto.whack_protocol import RC_NOTIFICATION
from tests.inprocess.harness import Host, Pair


def _children(host: Host) -> list[ChildSa]:
    return [s for s in host.core.states if isinstance(s, ChildSa)]


def _outbound(child: ChildSa) -> SaId:
    return next(sa.id for sa in child.sas if sa.id.spi == child.outbound_spi)


def _nothing_left(host: Host) -> None:
    assert host.kernel.installed_sas() == [], host.kernel.describe()
    assert host.kernel.installed_policies() == [], host.kernel.describe()
    assert host.kernel.larval_spis() == []


def test_soft_expire_rekeys_the_child_sa_once():
    pair = Pair()
    assert pair.establish().finished == 0
    [old] = _children(pair.west)
    pair.west.core.kernel_expire(pair.west.kernel.expire(_outbound(old), hard=False))
    # the inbound SA's soft expire follows; the rekey is already under way
    inbound = next(sa.id for sa in old.sas if sa.id.spi == old.inbound_spi)
    pair.west.core.kernel_expire(pair.west.kernel.expire(inbound, hard=False))
    pair.pump()
    [new] = _children(pair.west)
    assert new.replacing == old.serial and new.kind.established
    assert pair.west.lines_with(f"soft EXPIRE of esp.{old.outbound_spi:x}@127.0.0.2: "
                                "rekeying the Child SA")
    assert len(pair.west.lines_with("rekeying the Child SA")) == 1
    assert {sa.id.spi for sa in pair.east.kernel.installed_sas()} == {new.inbound_spi,
                                                                      new.outbound_spi}


def test_hard_expire_deletes_the_child_sa_and_tells_the_peer():
    pair = Pair()
    assert pair.establish(rekey=False).finished == 0  # rekey=yes replaces it instead
    [child] = _children(pair.west)
    sa = _outbound(child)
    pair.west.core.kernel_expire(pair.west.kernel.expire(sa, hard=True))
    pair.pump()
    assert _children(pair.west) == [] and _children(pair.east) == []
    _nothing_left(pair.west)
    _nothing_left(pair.east)
    assert pair.west.lines_with(f"hard EXPIRE of esp.{sa.spi:x}@127.0.0.2 (0 bytes, 0 "
                                "packets): deleting the Child SA")
    assert not pair.west.lines_with("kernel: delete SA")  # the expired SA was not deleted twice


@pytest.mark.parametrize("hard", [False, True])
def test_ignore_expire_impairs(hard):
    pair = Pair()
    assert pair.establish().finished == 0
    kind = "hard" if hard else "soft"
    pair.west.impairs.apply(f"ignore-{kind}-expire")
    [child] = _children(pair.west)
    sa = _outbound(child)
    pair.west.core.kernel_expire(pair.west.kernel.expire(sa, hard=hard))
    pair.pump()
    assert _children(pair.west) == [child] and not pair.wire.sent[4:]
    assert f'IMPAIR: ignoring the {kind} EXPIRE of esp.{sa.spi:x}@127.0.0.2 ("west-east" #2)' \
        in pair.west.log


def test_expire_of_an_sa_that_is_not_ours_is_ignored():
    pair = Pair()
    assert pair.establish().finished == 0
    stranger = SaId(pair.east.address, 0x4242, "esp")  # e.g. added with ip xfrm
    pair.west.kernel.add_sa(dataclasses.replace(pair.west.kernel.installed_sas()[0],
                                                id=stranger))
    before = len(pair.wire.sent)
    pair.west.core.kernel_expire(pair.west.kernel.expire(stranger, hard=True))
    pair.pump()
    assert len(pair.wire.sent) == before and len(_children(pair.west)) == 1


STEPS = ["inbound-state", "outbound-state", "inbound-policy", "outbound-policy"]


@pytest.mark.parametrize("step", STEPS)
def test_a_failed_install_step_on_the_responder_answers_and_leaves_nothing(step):
    pair = Pair()
    pair.east.impairs.apply(f"install-ipsec-sa-{step}")
    reply = pair.establish()
    assert reply.finished == RC_NOTIFICATION + NotifyType.TS_UNACCEPTABLE, reply.lines
    assert (f"IMPAIR: install-ipsec-sa-{step}: failing the {step.replace('-', ' ')} "
            'install of "west-east" #2') in pair.east.log
    assert _children(pair.east) == [] and _children(pair.west) == []
    _nothing_left(pair.east)
    _nothing_left(pair.west)


@pytest.mark.parametrize("step", STEPS)
def test_a_failed_install_step_on_the_initiator_deletes_the_peers_half(step):
    pair = Pair()
    pair.west.impairs.apply(f"install-ipsec-sa-{step}")
    reply = pair.establish()
    assert reply.finished != 0
    assert pair.west.lines_with(f"install-ipsec-sa-{step}: failing")
    assert _children(pair.east) == [] and _children(pair.west) == []
    _nothing_left(pair.east)
    _nothing_left(pair.west)
