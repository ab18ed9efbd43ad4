"""nic's NAT in the lab (labs/nat.py): the iptables-legacy rules, and the port marking that
scenario transcripts use to show which NAT range a port came from."""

from __future__ import annotations

import pytest

from labs.nat import encap_lines, mark_all, mark_nat_ports, nat_commands, nat_port_range

XFRM_STATE = """\
src 198.51.100.23 dst 198.51.100.254
\tproto esp spi 0x0000abcd reqid 16384 mode tunnel
\treplay-window 32 flag af-unspec
\taead rfc4106(gcm(aes)) 0x00 128
\tencap type espinudp sport 4500 dport 20362 addr 0.0.0.0
src 198.51.100.254 dst 198.51.100.23
\tproto esp spi 0x0000dcba reqid 16384 mode tunnel
\tencap type espinudp sport 21007 dport 4500 addr 0.0.0.0
src 198.51.100.23 dst 198.51.100.45
\tproto esp spi 0x00001234 reqid 16388 mode tunnel
"""


def test_masquerade_keeps_ports():
    assert nat_commands("masquerade") == [
        ["iptables-legacy", "-t", "nat", "-A", "POSTROUTING", "-s", "203.0.113.0/24", "-o",
         "eth1", "-j", "MASQUERADE"]]


def test_port_rewriting_for_udp_and_tcp_before_the_catch_all():
    commands = nat_commands("masquerade-ports", "21000-21999")
    assert [c[c.index("-p") + 1] for c in commands[:2]] == ["udp", "tcp"]
    assert all(c[-2:] == ["--to-ports", "21000-21999"] for c in commands[:2])
    assert commands[2][-2:] == ["-j", "MASQUERADE"] and "-p" not in commands[2]


def test_unknown_mode_and_bad_ranges_are_refused():
    assert nat_commands("none") == []
    with pytest.raises(ValueError, match="unknown NAT mode 'snat'"):
        nat_commands("snat")
    for bad in ("20000", "x-y", "2000-1000", "0-10", "1-70000"):
        with pytest.raises(ValueError, match="LOW-HIGH"):
            nat_port_range(bad)


def test_encap_lines_from_ip_xfrm_state():
    assert encap_lines(XFRM_STATE) == [
        "198.51.100.23 -> 198.51.100.254 espinudp sport 4500 dport 20362",
        "198.51.100.254 -> 198.51.100.23 espinudp sport 21007 dport 4500"]


def test_ports_in_a_range_are_marked_others_kept():
    text = ('#1: "road"[1] 198.51.100.254:20999 STATE; was 198.51.100.254:UDP/20000, '
            "now 198.51.100.254:UDP/21000; 198.51.100.23:4500; sport 20500 dport 19999")
    assert mark_nat_ports(text) == (
        '#1: "road"[1] 198.51.100.254:NICPORT STATE; was 198.51.100.254:UDP/NICPORT, '
        "now 198.51.100.254:UDP/21000; 198.51.100.23:4500; sport NICPORT dport 19999")
    both = mark_all(text, [("20000-20999", "OLDPORT"), ("21000-21999", "NEWPORT")])
    assert "UDP/OLDPORT, now 198.51.100.254:UDP/NEWPORT" in both
