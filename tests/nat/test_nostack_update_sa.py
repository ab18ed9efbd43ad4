"""NoStack.update_sa: the in-memory back end changes an SA in place as XFRM's UPDSA does
(a NAT port change), so negotiation tests see the same calls as with a kernel."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest

from pluto.crypto.rand import RandomSource
from pluto.engine.host import FakeClock
from pluto.kernel.nostack import NoStack
from pluto.kernel.ops import KernelError, KernelOps, SaId, SaSpec

EAST, NIC = ipaddress.ip_address("198.51.100.23"), ipaddress.ip_address("198.51.100.254")


def _sa(spi: int, ports: tuple[int, int]) -> SaSpec:
    return SaSpec(id=SaId(NIC, spi, "esp"), src=EAST, mode="tunnel",
                  src_selector=ipaddress.ip_network("198.18.2.0/24"),
                  dst_selector=ipaddress.ip_network("203.0.113.209/32"),
                  encrypt="AES_GCM_16", encrypt_key=bytes(36), encrypt_key_bits=256,
                  integ=None, integ_key=b"", reqid=16384,
                  encap_sport=ports[0], encap_dport=ports[1])


def test_update_sa_changes_ports_in_place_keeping_order_and_add_time():
    clock = FakeClock()
    kernel = NoStack(RandomSource("k"), clock)
    first, second = _sa(0x1000, (4500, 40000)), _sa(0x2000, (4500, 40000))
    kernel.add_sa(first)
    kernel.add_sa(second)
    added = kernel.sa_counters(first.id).add_time
    clock.advance(30)
    moved = replace(first, encap_dport=40007)
    kernel.update_sa(moved)
    assert kernel.installed_sas() == [moved, second]
    assert kernel.sa_counters(first.id).add_time == added
    assert kernel.updated_sas() == [first.id]


def test_update_of_an_unknown_sa_fails_like_the_kernel():
    kernel = NoStack(RandomSource("k"), FakeClock())
    with pytest.raises(KernelError, match="no SA"):
        kernel.update_sa(_sa(0x3000, (4500, 40000)))
    assert kernel.installed_sas() == [] and kernel.updated_sas() == []


def test_update_sa_is_part_of_the_kernel_interface():
    assert "update_sa" in KernelOps.__dict__
    nostack: KernelOps = NoStack(RandomSource("k"), FakeClock())
    assert callable(nostack.update_sa)
