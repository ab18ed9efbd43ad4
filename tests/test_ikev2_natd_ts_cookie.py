"""NAT detection hashes (§2.23), traffic selectors and narrowing (§2.9), cookies (§2.6)."""

from __future__ import annotations

import hashlib
import ipaddress
from ipaddress import ip_address, ip_network

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pluto.crypto.rand import RandomSource
from pluto.engine.host import FakeClock
from pluto.ikev2.cookie import COOKIE_SIZE, Cookies
from pluto.ikev2.natd import detect_nat, natd_hash, natd_notifies
from pluto.ikev2.ts import intersect, is_whole, narrow, network_of, selectors_for, within
from pluto.packet.ikev2 import RawTrafficSelector, TrafficSelector, emit_payloads, parse_payloads
from pluto.packet.ikev2_ts import TSiPayload

SPI_I, SPI_R = bytes.fromhex("0011223344556677"), bytes.fromhex("8899aabbccddeeff")
ZERO = bytes(8)

# --- NAT detection ---------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "packed"), [
    ("198.51.100.45", bytes([198, 51, 100, 45])),
    ("2001:db8:1:2::45", bytes.fromhex("20010db8000100020000000000000045")),
])
@pytest.mark.parametrize("spi_r", [ZERO, SPI_R])
def test_natd_hash_by_hand(address, packed, spi_r):
    expected = hashlib.sha1(SPI_I + spi_r + packed + bytes([0x01, 0xF4])).digest()
    assert natd_hash(SPI_I, spi_r, address, 500) == expected
    assert natd_hash(SPI_I, spi_r, ip_address(address), 500) == expected
    assert natd_hash(SPI_I, spi_r, address, 4500) != expected


def test_natd_notifies_and_detection():
    west = (ip_address("198.51.100.45"), 500)
    east = (ip_address("198.51.100.23"), 500)
    sent = natd_notifies(SPI_I, ZERO, west, east)
    assert [n.notify_type for n in sent] == [16388, 16389]
    assert sent[0].data == hashlib.sha1(SPI_I + ZERO + bytes([198, 51, 100, 45, 1, 244])).digest()
    # East receives them unchanged: no NAT anywhere.
    result = detect_nat(sent, SPI_I, ZERO, local=east, remote=west)
    assert (result.us_behind_nat, result.peer_behind_nat, result.nat) == (False, False, False)
    # West's packet reached east from the NAT's outside address and port.
    nat = (ip_address("203.0.113.254"), 61000)
    result = detect_nat(sent, SPI_I, ZERO, local=east, remote=nat)
    assert (result.us_behind_nat, result.peer_behind_nat) == (False, True)
    # Seen from west: east's answer names an address that is not west's own.
    answer = natd_notifies(SPI_I, SPI_R, east, nat)
    result = detect_nat(answer, SPI_I, SPI_R, local=west, remote=east)
    assert (result.us_behind_nat, result.peer_behind_nat) == (True, False)
    assert detect_nat([], SPI_I, ZERO, local=east, remote=west) is None


# --- traffic selectors -----------------------------------------------------------------------


def test_selectors_for_networks():
    ts = selectors_for(ip_network("198.18.1.0/24"))
    assert ts == TrafficSelector.ipv4("198.18.1.0", "198.18.1.255")
    assert (ts.ts_type, ts.ip_protocol, ts.start_port, ts.end_port) == (7, 0, 0, 65535)
    host6 = selectors_for("2001:db8:0:1::254/128")
    assert host6 == TrafficSelector.ipv6("2001:db8:0:1::254", "2001:db8:0:1::254")
    assert host6.ts_type == 8
    # On the wire: type 7, protocol 0, length 16, ports 0-65535, the two addresses.
    first, data = emit_payloads([TSiPayload(selectors=[ts])])
    assert data[8:] == bytes([7, 0, 0, 16, 0, 0, 0xFF, 0xFF, 198, 18, 1, 0, 198, 18, 1, 255])
    assert parse_payloads(data, first)[0].selectors == [ts]


def test_network_of():
    for text in ("198.18.1.0/24", "0.0.0.0/0", "198.51.100.45/32", "2001:db8:0:2::/64"):
        assert network_of(selectors_for(text)) == ip_network(text)
    assert network_of(TrafficSelector.ipv4("198.18.1.1", "198.18.1.2")) is None
    assert network_of(TrafficSelector.ipv4("198.18.1.9", "198.18.1.2")) is None
    assert network_of(RawTrafficSelector(10, b"label")) is None
    assert network_of(TrafficSelector.ipv4("198.18.1.0", "198.18.1.255", 6, (80, 80))) == \
        ip_network("198.18.1.0/24")
    assert not is_whole(TrafficSelector.ipv4("198.18.1.0", "198.18.1.255", 6, (80, 80)))
    assert is_whole(selectors_for("198.18.1.0/24"))


def test_within():
    net = ip_network("198.18.0.0/16")
    assert within(selectors_for("198.18.1.0/24"), net)
    assert within(selectors_for("198.18.0.0/16"), net)
    assert not within(selectors_for("198.18.0.0/15"), net)
    assert not within(selectors_for("2001:db8::/32"), net)
    assert not within(RawTrafficSelector(10, b""), net)


EASTNET = ip_network("198.18.2.0/24")


def test_narrow_to_what_is_configured():
    # The initiator asks for more than we have: we answer with our subnet.
    assert narrow(EASTNET, [selectors_for("198.18.0.0/16")]) == selectors_for(EASTNET)
    # It asks for less: it gets what it asked for.
    asked = TrafficSelector.ipv4("198.18.2.10", "198.18.2.20", 17, (500, 500))
    assert narrow(EASTNET, [asked]) == asked
    # Overlapping ranges are cut to the overlap, keeping protocol and ports.
    overlap = TrafficSelector.ipv4("198.18.1.128", "198.18.2.63", 6, (1, 1024))
    assert narrow(EASTNET, [overlap]) == TrafficSelector.ipv4("198.18.2.0", "198.18.2.63", 6,
                                                              (1, 1024))


def test_narrow_prefers_the_widest_overlap():
    packet = selectors_for("198.18.2.7/32")  # the packet that triggered the exchange
    assert narrow(EASTNET, [packet, selectors_for("198.18.2.0/24")]) == selectors_for(EASTNET)
    assert narrow(EASTNET, [packet, selectors_for("198.18.2.0/25"),
                            selectors_for("198.18.2.128/25")]) == selectors_for("198.18.2.0/25")


def test_narrow_finds_nothing():
    assert narrow(EASTNET, [selectors_for("198.18.1.0/24")]) is None
    assert narrow(EASTNET, [selectors_for("2001:db8:0:2::/64")]) is None
    assert narrow(EASTNET, [RawTrafficSelector(10, b"system_u:object_r")]) is None
    assert narrow(EASTNET, []) is None
    six = ip_network("2001:db8:0:2::/64")
    assert narrow(six, [selectors_for("198.18.2.0/24"), selectors_for("2001:db8::/32")]) == \
        selectors_for(six)


addresses = st.integers(0, 2**32 - 1)


@settings(max_examples=300, deadline=None)
@given(prefix=st.integers(0, 32), base=addresses,
       ranges=st.lists(st.tuples(addresses, addresses), max_size=4))
def test_narrow_is_the_widest_intersection(prefix, base, ranges):
    ours = ipaddress.IPv4Network((base, prefix), strict=False)
    proposed = [TrafficSelector.ipv4(str(ip_address(min(a, b))), str(ip_address(max(a, b))))
                for a, b in ranges]
    lo, hi = int(ours.network_address), int(ours.broadcast_address)
    overlaps = [(max(int(ts.start_address), lo), min(int(ts.end_address), hi))
                for ts in proposed]
    overlaps = [(a, b) for a, b in overlaps if a <= b]
    result = narrow(ours, proposed)
    if not overlaps:
        assert result is None
        return
    widest = max(b - a for a, b in overlaps)
    assert int(result.end_address) - int(result.start_address) == widest
    assert (int(result.start_address), int(result.end_address)) in overlaps
    assert within(result, ours)
    assert intersect(ours, result) == result


# --- cookies ---------------------------------------------------------------------------------

NI = bytes(range(32))
IP = ip_address("203.0.113.209")


def test_cookie_by_hand():
    clock = FakeClock()
    cookies = Cookies(RandomSource("cookie secret"), clock)
    secret = RandomSource("cookie secret").bytes(32)  # the first bytes it drew
    cookie = cookies.make(NI, IP, SPI_I)
    assert len(cookie) == COOKIE_SIZE == 36
    version = cookie[:4]
    assert cookie[4:] == hashlib.sha256(NI + IP.packed + SPI_I + secret).digest()
    assert cookies.make(NI, "203.0.113.209", SPI_I) == cookie
    assert cookies.check(cookie, NI, IP, SPI_I)
    assert version == cookies.make(NI, IP, SPI_R)[:4]


def test_cookie_binds_nonce_address_and_spi():
    cookies = Cookies(RandomSource(1), FakeClock())
    cookie = cookies.make(NI, IP, SPI_I)
    assert not cookies.check(cookie, NI[::-1], IP, SPI_I)
    assert not cookies.check(cookie, NI, ip_address("203.0.113.210"), SPI_I)
    assert not cookies.check(cookie, NI, IP, SPI_R)
    assert not cookies.check(cookie[:-1] + bytes([cookie[-1] ^ 1]), NI, IP, SPI_I)
    assert not cookies.check(cookie[:-1], NI, IP, SPI_I)
    assert not cookies.check(b"", NI, IP, SPI_I)
    # Another responder (another secret) does not take it.
    assert not Cookies(RandomSource(2), FakeClock()).check(cookie, NI, IP, SPI_I)


def test_cookie_secret_rotation():
    clock = FakeClock()
    cookies = Cookies(RandomSource(3), clock, rotation=60)
    old = cookies.make(NI, IP, SPI_I)
    clock.advance(59)
    assert cookies.make(NI, IP, SPI_I) == old
    clock.advance(1)  # a new secret: new cookies differ, the old one still passes
    new = cookies.make(NI, IP, SPI_I)
    assert new != old and new[:4] != old[:4]
    assert cookies.check(old, NI, IP, SPI_I) and cookies.check(new, NI, IP, SPI_I)
    clock.advance(60)  # one more rotation: the first secret is gone
    assert not cookies.check(old, NI, IP, SPI_I)
    assert cookies.check(new, NI, IP, SPI_I)
    clock.advance(600)  # a long idle time drops both
    assert not cookies.check(new, NI, IP, SPI_I)
    assert cookies.check(cookies.make(NI, IP, SPI_I), NI, IP, SPI_I)
