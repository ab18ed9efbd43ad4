"""The nostack kernel back end: SPI allocation, SAs and policies in memory, kernel-like errors."""

import errno
import inspect
import ipaddress

import pytest

from pluto.crypto.rand import RandomSource
from pluto.engine.host import FakeClock
from pluto.kernel.nostack import NoStack, format_sa_id
from pluto.kernel.ops import MIN_AUTO_SPI, KernelError, KernelOps, PolicySpec, SaId, SaSpec

WEST = ipaddress.ip_address("198.51.100.45")
EAST = ipaddress.ip_address("198.51.100.23")
WESTNET = ipaddress.ip_network("198.18.1.0/24")
EASTNET = ipaddress.ip_network("198.18.2.0/24")


def kernel(seed="nostack", clock=None):
    return NoStack(RandomSource(seed), clock or FakeClock())


def sa_spec(spi, dst=EAST, src=WEST, proto="esp"):
    return SaSpec(id=SaId(dst, spi, proto), src=src, mode="tunnel", src_selector=WESTNET,
                  dst_selector=EASTNET, encrypt="AES_GCM_16", encrypt_key=bytes(36),
                  encrypt_key_bits=256, integ=None, integ_key=b"", reqid=16389)


def policy(direction="out", src=WESTNET, dst=EASTNET, reqid=16389):
    return PolicySpec(direction=direction, src_selector=src, dst_selector=dst, tunnel_src=WEST,
                      tunnel_dst=EAST, mode="tunnel", proto="esp", reqid=reqid)


class ScriptedRandom:
    """randint answers from a script, to force collisions."""

    def __init__(self, values):
        self.values = list(values)
        self.calls = []

    def randint(self, low, high):
        self.calls.append((low, high))
        return self.values.pop(0)


def test_implements_every_kernelops_method_with_its_signature():
    for name, member in inspect.getmembers(KernelOps, inspect.isfunction):
        if name.startswith("_"):
            continue
        ours = getattr(NoStack, name)
        assert list(inspect.signature(ours).parameters) == \
            list(inspect.signature(member).parameters), name
    assert NoStack.name == "nostack"


def test_spis_are_in_range_unique_and_reproducible():
    first, second = kernel("seed"), kernel("seed")
    spis = [first.allocate_spi("esp", EAST, WEST) for _ in range(500)]
    assert spis == [second.allocate_spi("esp", EAST, WEST) for _ in range(500)]
    assert len(set(spis)) == 500
    assert all(MIN_AUTO_SPI <= spi <= 0xFFFFFFFF for spi in spis)
    assert spis != [kernel("other seed").allocate_spi("esp", EAST, WEST) for _ in range(500)]


def test_an_spi_in_use_is_drawn_again():
    rand = ScriptedRandom([0x1234, 0x1234, 0x5678])
    k = NoStack(rand, FakeClock())
    assert k.allocate_spi("esp", EAST, WEST) == 0x1234
    assert k.allocate_spi("esp", EAST, WEST) == 0x5678
    # The manual: 0-0xFF reserved, 0x100-0xFFF left for manual keying.
    assert rand.calls[0] == (0x1000, 0xFFFFFFFF)


def test_ipcomp_cpis_stay_below_the_private_range():
    rand = ScriptedRandom([0x2000])
    k = NoStack(rand, FakeClock())
    assert k.allocate_spi("comp", EAST, WEST) == 0x2000
    assert rand.calls == [(0x1000, 61439)]  # RFC 3173: 61440-65535 are private


def test_unknown_protocol_is_refused_like_the_kernel():
    with pytest.raises(KernelError) as info:
        kernel().allocate_spi("gre", EAST, WEST)
    assert info.value.errno == errno.EPROTONOSUPPORT


def test_allocated_spi_becomes_the_sa_and_can_be_released_unused():
    k = kernel()
    spi = k.allocate_spi("esp", EAST, WEST)
    assert k.larval_spis() == [SaId(WEST, spi, "esp")]
    k.add_sa(sa_spec(spi, dst=WEST, src=EAST))
    assert k.larval_spis() == []
    unused = k.allocate_spi("esp", EAST, WEST)
    k.delete_sa(SaId(WEST, unused, "esp"))  # a failed negotiation gives its SPI back
    assert k.larval_spis() == []
    with pytest.raises(KernelError):
        k.delete_sa(SaId(WEST, unused, "esp"))


def test_sas_are_recorded_and_duplicates_and_missing_ones_fail_with_kernel_errnos():
    clock = FakeClock(start=50.0, wall_start=1_700_000_000.0)
    k = kernel(clock=clock)
    out, back = sa_spec(0x12345678), sa_spec(0x9ABCDEF0, dst=WEST, src=EAST)
    k.add_sa(out)
    clock.advance(5)
    k.add_sa(back)
    assert k.installed_sas() == [out, back]
    assert k.sa(out.id) is out
    with pytest.raises(KernelError) as dup:
        k.add_sa(out)
    assert dup.value.errno == errno.EEXIST == 17
    assert "esp.12345678@198.51.100.23" in str(dup.value)
    counters = k.sa_counters(back.id)
    assert (counters.bytes, counters.packets, counters.add_time) == (0, 0, 1_700_000_005.0)
    k.delete_sa(out.id)
    assert k.installed_sas() == [back] and k.sa(out.id) is None
    with pytest.raises(KernelError) as missing:
        k.delete_sa(out.id)
    assert missing.value.errno == errno.ESRCH == 3
    with pytest.raises(KernelError) as gone:
        k.sa_counters(out.id)
    assert gone.value.errno == errno.ESRCH


def test_same_spi_to_different_destinations_are_different_sas():
    k = kernel()
    k.add_sa(sa_spec(0x1000, dst=EAST))
    k.add_sa(sa_spec(0x1000, dst=WEST, src=EAST))
    k.add_sa(sa_spec(0x1000, dst=EAST, proto="ah"))
    assert len(k.installed_sas()) == 3


def test_policies_are_keyed_by_direction_and_selectors():
    k = kernel()
    out, inbound = policy("out"), policy("in", src=EASTNET, dst=WESTNET)
    k.add_policy(out)
    k.add_policy(inbound)
    with pytest.raises(KernelError) as dup:
        k.add_policy(policy("out", reqid=99))  # same selector and direction
    assert dup.value.errno == errno.EEXIST
    assert k.installed_policies() == [out, inbound]
    k.delete_policy(policy("out", reqid=99))
    assert k.installed_policies() == [inbound]
    with pytest.raises(KernelError) as missing:
        k.delete_policy(out)
    assert missing.value.errno == errno.ENOENT == 2


def test_describe_lists_what_is_installed():
    k = kernel()
    k.add_sa(sa_spec(0xABCD))
    k.add_policy(policy())
    lines = k.describe()
    assert lines[0].startswith("SA esp.abcd@198.51.100.23 198.51.100.45->198.51.100.23 tunnel")
    assert lines[1].startswith("policy 198.18.1.0/24->198.18.2.0/24 dir out")
    assert format_sa_id(SaId(ipaddress.ip_address("2001:db8::1"), 0x1000, "ah")) == \
        "ah.1000@2001:db8::1"
