"""Byte and packet lifetimes of Child SAs (ipsec-max-bytes=, ipsec-max-packets=): parsing in
whack and ipsec.conf, the soft limits derived from them, what reaches the kernel, the status
line, and what the kernel's soft and hard EXPIREs then do."""

from __future__ import annotations

import pytest

from pluto.config.conn_to_description import checked_descriptions, descriptions
from pluto.config.ipsec_conf import from_text
from pluto.config.lexer import ConfigError
from pluto.connections.builder import ConnectionError as BadConnection
from pluto.connections.builder import build_connection
from pluto.connections.status import connection_status_lines
from pluto.crypto.rand import RandomSource
from pluto.engine.states import ChildSa
from pluto.kernel.volume_limits import LimitError, parse_count, soft_limit
from tests.inprocess.harness import Host, Pair
from whack.options import WhackUsageError, parse_command_line

BASE = "conn c\n  left=198.51.100.45\n  right=198.51.100.23\n  authby=secret\n"


# --- counts ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [("1000", 1000), ("64KiB", 65536), ("2 MiB", 2 << 20),
                                         ("1gib", 1 << 30), ("8EiB", 2**63)])
def test_byte_counts_take_binary_units(text, value):
    assert parse_count(text, bytes_=True) == value


@pytest.mark.parametrize("text, why", [("0", "more than 0"), ("9EiB", r"maximum 2\^63"),
                                       ("10KB", "KiB, MiB"), ("-5", "KiB, MiB"),
                                       ("", "KiB, MiB")])
def test_bad_byte_counts_say_why(text, why):
    with pytest.raises(LimitError, match=why):
        parse_count(text, bytes_=True)


def test_packet_counts_have_no_units():
    assert parse_count("40", bytes_=False) == 40
    with pytest.raises(LimitError, match="a number of packets"):
        parse_count("4KiB", bytes_=False)


# --- soft limits -------------------------------------------------------------------------

def test_soft_limits_follow_libreswans_documented_rule():
    rand = RandomSource("soft")
    initiator = {soft_limit(10_000, True, True, rand) for _ in range(200)}
    responder = {soft_limit(10_000, False, True, rand) for _ in range(200)}
    # 25% (initiator) or 50% (responder) of the hard limit, less up to 12% of that
    assert min(initiator) >= 2200 and max(initiator) <= 2500 and len(initiator) > 50
    assert min(responder) >= 4400 and max(responder) <= 5000 and len(responder) > 50


def test_no_rekey_puts_the_soft_limit_at_the_hard_one_and_none_stays_none():
    rand = RandomSource("soft")
    assert soft_limit(777, True, False, rand) == 777
    assert soft_limit(0, True, True, rand) == 0
    assert soft_limit(1, True, True, rand) == 1  # never 0, which would mean "none"


# --- whack and ipsec.conf ----------------------------------------------------------------

WHACK_CONN = ["--name", "c", "--host", "198.51.100.45", "--to", "--host", "198.51.100.23"]


def test_whack_options_fill_the_description():
    actions = parse_command_line(WHACK_CONN + ["--ipsec-max-bytes", "1MiB",
                                               "--ipsec-max-packets", "5000"]).actions
    [add] = [a for a in actions if a["action"] == "add"]
    assert add["connection"]["ipsec_max_bytes"] == 1 << 20
    assert add["connection"]["ipsec_max_packets"] == 5000


def test_whack_names_the_bad_option():
    with pytest.raises(WhackUsageError, match=r"--ipsec-max-packets '1KiB' is not a number"):
        parse_command_line(WHACK_CONN + ["--ipsec-max-packets", "1KiB"])


def test_ipsec_conf_keywords_reach_the_connection():
    conf = from_text(BASE + "  ipsec-max-bytes=2GiB\n  ipsec-max-packets=100\n", "t.conf")
    [desc] = descriptions(conf.conn("c"))
    conn = build_connection(desc)
    assert (conn.lifetimes.ipsec_max_bytes, conn.lifetimes.ipsec_max_packets) == (2 << 30, 100)


def test_ipsec_conf_error_names_file_line_and_keyword():
    conf = from_text(BASE + "  ipsec-max-packets=lots\n", "t.conf")
    with pytest.raises(ConfigError) as err:
        checked_descriptions(conf, "c")
    assert "t.conf:5" in str(err.value) and "ipsec-max-packets" in str(err.value)


def test_builder_refuses_out_of_range_values():
    desc = {"name": "c", "left": {"host": "198.51.100.45"}, "right": {"host": "198.51.100.23"},
            "ipsec_max_bytes": 2**64}
    with pytest.raises(BadConnection, match="--ipsec-max-bytes: .* between 1 and 2"):
        build_connection(desc)


def test_status_shows_the_limits_when_set():
    desc = {"name": "c", "left": {"host": "198.51.100.45"}, "right": {"host": "198.51.100.23"},
            "ipsec_max_packets": 40}
    lines = connection_status_lines(build_connection(desc), newest_ike=None, newest_child=None)
    assert any("ipsec_life: 28800s; ipsec_max_bytes: 2^63B; ipsec_max_packets: 40; "
               "rekey_margin" in line for line in lines), lines
    plain = dict(desc)
    del plain["ipsec_max_packets"]
    lines = connection_status_lines(build_connection(plain), newest_ike=None, newest_child=None)
    assert not any("ipsec_max" in line for line in lines)


# --- the kernel SAs, and what their EXPIREs do --------------------------------------------

def _children(host: Host) -> list[ChildSa]:
    return [s for s in host.core.states if isinstance(s, ChildSa)]


def test_installed_sas_carry_hard_and_soft_limits():
    pair = Pair()
    assert pair.establish(ipsec_max_bytes=100_000, ipsec_max_packets=1000).finished == 0
    for host, percent in ((pair.west, 25), (pair.east, 50)):
        sas = host.kernel.installed_sas()
        assert len(sas) == 2
        for sa in sas:
            assert (sa.lifetime_bytes, sa.lifetime_packets) == (100_000, 1000)
            assert 100_000 * percent * 88 // 10_000 <= sa.soft_lifetime_bytes \
                <= 100_000 * percent // 100
            assert 1000 * percent * 88 // 10_000 <= sa.soft_lifetime_packets \
                <= 1000 * percent // 100
            assert sa.soft_lifetime_seconds == 0 and sa.lifetime_seconds == 28800


def test_without_limits_the_kernel_gets_none():
    pair = Pair()
    assert pair.establish().finished == 0
    for sa in pair.west.kernel.installed_sas():
        assert (sa.lifetime_bytes, sa.soft_lifetime_bytes, sa.lifetime_packets,
                sa.soft_lifetime_packets) == (0, 0, 0, 0)


def test_dontrekey_soft_limit_is_the_hard_limit_and_soft_expire_does_not_rekey():
    pair = Pair()
    assert pair.establish(ipsec_max_packets=50, rekey=False).finished == 0
    [child] = _children(pair.west)
    assert {sa.soft_lifetime_packets for sa in child.sas} == {50}
    outbound = next(sa.id for sa in child.sas if sa.id.spi == child.outbound_spi)
    sent = len(pair.wire.sent)
    pair.west.core.kernel_expire(pair.west.kernel.expire(outbound, hard=False))
    pair.pump()
    assert _children(pair.west) == [child] and len(pair.wire.sent) == sent
    assert pair.west.lines_with("not rekeying (rekey=no)")


def test_hard_expire_of_the_newest_child_sa_replaces_it():
    pair = Pair()
    assert pair.establish(ipsec_max_packets=50).finished == 0
    [old] = _children(pair.west)
    [old_east] = _children(pair.east)
    outbound = next(sa.id for sa in old.sas if sa.id.spi == old.outbound_spi)
    pair.west.core.kernel_expire(pair.west.kernel.expire(outbound, hard=True))
    pair.pump()
    [new] = _children(pair.west)
    [new_east] = _children(pair.east)
    assert new is not old and new.kind.established and new_east is not old_east
    assert pair.west.lines_with(f"hard EXPIRE of esp.{outbound.spi:x}@127.0.0.2 (0 bytes, 0 "
                                "packets): deleting the Child SA; replacing it")
    spis = {sa.id.spi for sa in pair.west.kernel.installed_sas()}
    assert spis == {new.inbound_spi, new.outbound_spi}  # nothing of the old one is left
    assert {sa.id.spi for sa in pair.east.kernel.installed_sas()} == {new.inbound_spi,
                                                                      new.outbound_spi}
    assert pair.west.kernel.larval_spis() == []


def test_hard_expire_with_dontrekey_only_deletes():
    pair = Pair()
    assert pair.establish(ipsec_max_packets=50, rekey=False).finished == 0
    [child] = _children(pair.west)
    inbound = next(sa.id for sa in child.sas if sa.id.spi == child.inbound_spi)
    pair.west.core.kernel_expire(pair.west.kernel.expire(inbound, hard=True))
    pair.pump()
    assert _children(pair.west) == [] and _children(pair.east) == []
    assert pair.west.kernel.installed_sas() == [] and pair.east.kernel.installed_sas() == []
    assert pair.west.lines_with("packets): deleting the Child SA")
    assert not pair.west.lines_with("replacing it")


def test_ikev1_soft_expire_rekeys_with_quick_mode_and_sas_carry_limits():
    pair = Pair()
    for host in (pair.west, pair.east):
        host.core.options.ikev1_policy = "accept"
    assert pair.establish(ikev2=False, ipsec_max_packets=100).finished == 0
    [old] = _children(pair.west)
    assert {sa.lifetime_packets for sa in old.sas} == {100}
    outbound = next(sa.id for sa in old.sas if sa.id.spi == old.outbound_spi)
    pair.west.core.kernel_expire(pair.west.kernel.expire(outbound, hard=False))
    pair.pump()
    new = [c for c in _children(pair.west) if c.replacing == old.serial]
    assert len(new) == 1 and new[0].kind.established
    assert type(new[0]).__name__ == "QuickSa"
    assert pair.west.lines_with("soft EXPIRE of esp.")
