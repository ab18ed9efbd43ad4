"""build_connection: whack's connection description to a checked Connection."""

from __future__ import annotations

import ipaddress
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pluto.connections.builder import ConnectionError, build_connection
from pluto.connections.connection import AuthBy, Connection, Kind
from pluto.packet.ikev2_types import IdType

WEST = {"host": "198.51.100.45", "id": "@west", "client": "198.18.1.0/24"}
EAST = {"host": "198.51.100.23", "id": "@east", "client": "198.18.2.0/24"}


def desc(**changes) -> dict:
    base = {"name": "westnet-eastnet", "left": dict(WEST), "right": dict(EAST)}
    base.update(changes)
    return base


def build(**changes) -> Connection:
    return build_connection(desc(**changes))


def error(**changes) -> str:
    with pytest.raises(ConnectionError) as info:
        build(**changes)
    return str(info.value)


# --- what a good description becomes ------------------------------------------------------

def test_full_description_maps_every_field():
    conn = build_connection({
        "name": "west-east",
        "left": {"host": "198.51.100.45", "id": "@west", "ikeport": 4500,
                 "nexthop": "198.51.100.254", "client": "198.18.1.0/24",
                 "updown": "/usr/local/bin/updown"},
        "right": {"host": "198.51.100.23", "id": "east@example.org"},
        "auth": "psk", "encrypt": True, "tunnel": True, "pfs": False, "compress": True,
        "disablearrivalcheck": True, "ikev2": True,
        "ike": "aes_gcm256-sha2_512;dh19", "esp": "aes_gcm128,aes256-sha2_512",
        "ikelifetime": 1800, "ipseclifetime": 7200, "rekeymargin": 300, "rekeyfuzz": 50,
        "keyingtries": 3, "rekey": False, "host_family": 4, "client_family": 4,
    })
    assert conn.name == "west-east"
    assert conn.kind is Kind.PERMANENT and not conn.oriented
    left, right = conn.left, conn.right
    assert left.host == ipaddress.IPv4Address("198.51.100.45")
    assert (left.id.type, left.id.data) == (IdType.ID_FQDN, b"west")
    assert left.ikeport == 4500
    assert left.nexthop == ipaddress.IPv4Address("198.51.100.254")
    assert left.client == ipaddress.IPv4Network("198.18.1.0/24")
    assert left.updown == "/usr/local/bin/updown"
    assert (right.id.type, right.id.data) == (IdType.ID_RFC822_ADDR, b"east@example.org")
    assert right.client is None and right.ikeport == 500
    policy = conn.policy
    assert policy.auth is AuthBy.PSK and policy.encrypt and not policy.authenticate
    assert policy.tunnel and not policy.pfs and policy.compress
    assert policy.disablearrivalcheck and policy.ikev2
    assert conn.ike == "aes_gcm256-sha2_512;dh19"  # stored as written
    assert conn.esp == "aes_gcm128,aes256-sha2_512"
    life = conn.lifetimes
    assert (life.ike, life.ipsec, life.rekeymargin, life.rekeyfuzz, life.keyingtries,
            life.rekey) == (1800, 7200, 300, 50, 3, False)


def test_defaults_are_plutos():
    conn = build_connection({"name": "a", "left": {"host": "192.0.2.1"},
                             "right": {"host": "192.0.2.2"}})
    assert conn.left.id is None and conn.left.identity().data == bytes([192, 0, 2, 1])
    assert conn.ike is None and conn.esp is None
    assert conn.policy.encrypt and conn.policy.tunnel and conn.policy.pfs
    assert conn.policy.auth is AuthBy.PSK and conn.policy.ikev2
    life = conn.lifetimes
    assert (life.ike, life.ipsec, life.rekeymargin, life.rekeyfuzz, life.keyingtries) == \
        (3600, 28800, 540, 100, 0)


def test_null_values_take_the_defaults():
    conn = build_connection({
        "name": "a", "left": {"host": "192.0.2.1", "ikeport": None, "id": None,
                              "client": None, "nexthop": None, "updown": None},
        "right": {"host": "192.0.2.2"}, "auth": None, "pfs": None, "ike": None,
        "ikelifetime": None, "rekeyfuzz": None, "host_family": None})
    assert conn == build_connection({"name": "a", "left": {"host": "192.0.2.1"},
                                     "right": {"host": "192.0.2.2"}})


def test_description_survives_json():
    # whack sends the description as JSON: a round trip must give the same connection.
    assert build_connection(json.loads(json.dumps(desc()))) == build()


@pytest.mark.parametrize("side", ["left", "right"])
def test_peer_any_makes_a_template(side):
    ends = {"left": dict(WEST), "right": dict(EAST)}
    ends[side]["host"] = "%any"
    conn = build(**ends)
    assert conn.kind is Kind.TEMPLATE
    assert getattr(conn, side).host is None


def test_unspecified_address_means_any():
    assert build(right={"host": "0.0.0.0"}).right.host is None
    assert build(left={"host": "::"},
                 right={"host": "2001:db8:1:2::23"}).kind is Kind.TEMPLATE


def test_ipv6_everywhere():
    conn = build(left={"host": "2001:db8:1:2::45", "client": "2001:db8:0:1::/64",
                       "nexthop": "2001:db8:1:2::1"},
                 right={"host": "2001:db8:1:2::23", "client": "2001:db8:0:2::/64"},
                 host_family=6, client_family=6)
    assert conn.left.host == ipaddress.IPv6Address("2001:db8:1:2::45")
    assert conn.right.client == ipaddress.IPv6Network("2001:db8:0:2::/64")


def test_ipv6_clients_over_ipv4_hosts():
    conn = build(left={"host": "198.51.100.45", "client": "2001:db8:0:1::/64"},
                 right={"host": "198.51.100.23", "client": "2001:db8:0:2::/64"},
                 host_family=4, client_family=6)
    assert conn.left.client.version == 6 and conn.left.host.version == 4


def test_client_that_is_a_single_host():
    conn = build(left={"host": "198.51.100.45", "client": "198.18.1.7"})
    assert conn.left.client == ipaddress.IPv4Network("198.18.1.7/32")


def test_authenticate_alone_means_ah():
    conn = build(authenticate=True, esp="sha2_512")
    assert conn.policy.authenticate and not conn.policy.encrypt


def test_rsasig_auth():
    assert build(auth="rsasig").policy.auth is AuthBy.RSASIG


def test_nexthop_direct():
    assert build(left=dict(WEST, nexthop="%direct")).left.nexthop is None


def test_fractional_durations_and_integral_float_counts():
    conn = build(ikelifetime=90.5, rekeymargin=0, rekeyfuzz=0.0, keyingtries=2.0)
    assert conn.lifetimes.ike == 90.5 and conn.lifetimes.rekeymargin == 0
    assert conn.lifetimes.rekeyfuzz == 0 and conn.lifetimes.keyingtries == 2


# --- limits that adjust, with a warning --------------------------------------------------

def test_lifetimes_above_a_day_are_clamped_with_libreswans_warning():
    warnings: list[str] = []
    conn = build_connection(desc(ikelifetime=100000, ipseclifetime=200000),
                            warn=warnings.append)
    assert conn.lifetimes.ike == 86400 and conn.lifetimes.ipsec == 86400
    assert warnings == ["IKE lifetime limited to the maximum allowed 86400s",
                        "IPsec lifetime limited to the maximum allowed 86400s"]


def test_one_day_exactly_is_allowed():
    warnings: list[str] = []
    conn = build_connection(desc(ikelifetime=86400, ipseclifetime=86400),
                            warn=warnings.append)
    assert conn.lifetimes.ike == 86400 and not warnings


def test_rekeymargin_not_below_lifetime_is_halved():
    warnings: list[str] = []
    conn = build_connection(desc(ipseclifetime=600, rekeymargin=600), warn=warnings.append)
    assert conn.lifetimes.rekeymargin == 300
    assert warnings == ["rekeymargin (600s) >= ipseclifetime (600s); reducing rekeymargin "
                        "to 300 seconds"]


def test_rekeymargin_checked_against_the_ike_lifetime_too():
    warnings: list[str] = []
    conn = build_connection(desc(ikelifetime=120, rekeymargin=540), warn=warnings.append)
    assert conn.lifetimes.rekeymargin == 60
    assert warnings == ["rekeymargin (540s) >= ikelifetime (120s); reducing rekeymargin "
                        "to 60 seconds"]


def test_large_fuzz_is_allowed():
    assert build(rekeyfuzz=1000).lifetimes.rekeyfuzz == 1000


# --- errors name the option ---------------------------------------------------------------

@pytest.mark.parametrize(("changes", "expected"), [
    ({"name": None}, "--name: a connection needs a name"),
    ({"name": ""}, "--name: the name is empty"),
    ({"name": 'a"b'}, "--name: 'a\"b' is not a usable connection name"),
    ({"name": "a b"}, "--name: 'a b' is not a usable connection name"),
    ({"name": "rw[1]"}, "--name: 'rw[1]' is not a usable connection name"),
    ({"name": "%default"}, "--name: '%default' is not a usable connection name"),
    ({"name": "-x"}, "--name: '-x' is not a usable connection name"),
    ({"name": "x" * 129}, "--name: the name is longer than 128 characters"),
    ({"name": 7}, "--name: the name must be a string"),
    ({"left": None}, "--host: the left end is missing"),
    ({"right": "east"}, "--host: the right end is not an object"),
    ({"left": {"id": "@west"}}, "--host: the left end has no host"),
    ({"left": {"host": "west.example"}}, "--host: 'west.example' is not an IP address"),
    ({"left": {"host": "198.51.100.300"}}, "--host: '198.51.100.300' is not an IP address"),
    ({"left": {"host": "fe80::1%eth0"}}, "--host: 'fe80::1%eth0' is not an IP address"),
    ({"left": {"host": "224.0.0.5"}}, "--host: '224.0.0.5' is a multicast address"),
    ({"left": {"host": 3325256749}}, "--host: expected a string, not 3325256749"),
    ({"left": {"host": "%any"}, "right": {"host": "%any"}}, "--host: both ends are %any"),
    ({"left": {"host": "2001:db8::1"}},
     "--host: 2001:db8::1 and 198.51.100.23 are not of the same address family"),
    ({"left": {"host": "%any6"}}, "--host: %any6 and 198.51.100.23 are not of the same"),
    ({"host_family": 6}, "--host: IPv4 address given with --ipv6"),
    ({"host_family": 5}, "--ipv4/--ipv6: address family must be 4 or 6, not 5"),
    ({"right": {"host": "198.51.100.45"}}, "--host: both ends are 198.51.100.45 port 500"),
    ({"left": dict(WEST, ikeport=0)}, "--ikeport: 0 is not a port number (1..65535)"),
    ({"left": dict(WEST, ikeport=65536)}, "--ikeport: 65536 is not a port number"),
    ({"left": dict(WEST, ikeport="500")}, "--ikeport: '500' is not a port number"),
    ({"left": dict(WEST, ikeport=True)}, "--ikeport: True is not a port number"),
    ({"left": dict(WEST, nexthop="gw")}, "--nexthop: 'gw' is not an IP address or %direct"),
    ({"left": dict(WEST, nexthop="2001:db8::1")},
     "--nexthop: 2001:db8::1 is not of the family of --host 198.51.100.45"),
    ({"left": dict(WEST, client="198.18.1.0/33")}, "--client: '198.18.1.0/33' is not a subnet"),
    ({"left": dict(WEST, client="westnet")}, "--client: 'westnet' is not a subnet"),
    ({"left": dict(WEST, client="198.18.1.5/24")},
     "--client: '198.18.1.5/24' has host bits set; did you mean 198.18.1.0/24?"),
    ({"left": dict(WEST, client="2001:db8:0:1::1/64"), "client_family": 6},
     "--client: '2001:db8:0:1::1/64' has host bits set; did you mean 2001:db8:0:1::/64?"),
    ({"left": dict(WEST, client="2001:db8:0:1::/64")},
     "--client: the ends protect '2001:db8:0:1::/64' and '198.18.2.0/24', which are not of "
     "the same address family"),
    ({"left": dict(WEST, client="2001:db8:0:1::/64"), "right": {"host": "198.51.100.23"}},
     "--client: the ends protect '2001:db8:0:1::/64' and host 198.51.100.23"),
    ({"client_family": 6}, "--client: '198.18.1.0/24' is not IPv6 as --tunnelipv6 says"),
    ({"left": dict(WEST, id="west")}, "--id: identity 'west': write a name as @west"),
    ({"left": dict(WEST, id="@")}, "--id: identity '@' has no name after @"),
    ({"left": dict(WEST, id="@#xyz")}, "--id: identity '@#xyz': @# must be followed by hex"),
    ({"left": dict(WEST, updown="")}, "--updown: the command is empty"),
    ({"left": dict(WEST, colour="blue")}, "unknown option 'colour' for the left end"),
    ({"colour": "blue"}, "unknown connection option 'colour'"),
    ({"auth": "eap"}, "--psk/--rsasig: unknown authentication 'eap' (psk or rsasig)"),
    ({"pfs": "yes"}, "--pfs: expected true or false, not 'yes'"),
    ({"encrypt": True, "authenticate": True}, "--encrypt/--authenticate: choose ESP"),
    ({"encrypt": False}, "--encrypt/--authenticate: the connection needs ESP"),
    ({"tunnel": False}, "--client: '198.18.1.0/24' needs --tunnel"),
    ({"ike": "aes256-sha2_999"}, "--ike: unknown integrity/PRF algorithm 'sha2_999'"),
    ({"ike": "aes_gcm256-sha2_512;dh99"}, "--ike: unknown key exchange algorithm 'dh99'"),
    ({"ike": ""}, "--ike: IKE proposal is empty"),
    ({"ike": 5}, "--ike: the proposal list must be a string"),
    ({"esp": "aes_gcm128-sha1"}, "--esp: AEAD ESP encryption algorithm AES_GCM_16 must have "
                                 "'none' as the integrity algorithm"),
    ({"esp": "twofish"}, "--esp: unknown encryption algorithm 'twofish'"),
    ({"authenticate": True, "esp": "aes128"}, "--esp: unknown integrity algorithm 'aes128'"),
    ({"ikelifetime": 0}, "--ikelifetime: 0s is not more than 0 seconds"),
    ({"ipseclifetime": -5}, "--ipseclifetime: -5s is not more than 0 seconds"),
    ({"ikelifetime": "1h"}, "--ikelifetime: expected a number of seconds, not '1h'"),
    ({"ikelifetime": float("nan")}, "--ikelifetime: expected a number of seconds, not nan"),
    ({"rekeymargin": -1}, "--rekeymargin: -1s is not 0 or more seconds"),
    ({"rekeyfuzz": -10}, "--rekeyfuzz: -10 is negative"),
    ({"rekeyfuzz": 2.5}, "--rekeyfuzz: expected a whole number, not 2.5"),
    ({"keyingtries": -1}, "--keyingtries: -1 is negative"),
    ({"keyingtries": True}, "--keyingtries: expected a whole number, not True"),
    ({"rekeymargin": 2**31}, "--rekeymargin/--rekeyfuzz: values so large that they overflow"),
    ({"rekeyfuzz": 2**31}, "--rekeymargin/--rekeyfuzz: values so large that they overflow"),
    ({"rekey": 1}, "--dontrekey: expected true or false, not 1"),
])
def test_errors_name_the_option(changes, expected):
    assert error(**changes).startswith(expected)


def test_description_must_be_an_object():
    with pytest.raises(ConnectionError, match="not an object"):
        build_connection(["west-east"])  # type: ignore[arg-type]


def test_transport_mode_with_host_only_client_is_fine():
    conn = build(tunnel=False, left={"host": "198.51.100.45", "client": "198.51.100.45/32"},
                 right={"host": "198.51.100.23"})
    assert not conn.policy.tunnel


def test_legacy_algorithms_are_refused():
    assert error(ike="3des-sha1;modp1024").startswith("--ike: '3des' is disabled (legacy)")


# --- nothing but ConnectionError escapes, whatever whack sends ---------------------------

_values = st.one_of(
    st.none(), st.booleans(), st.integers(-2**40, 2**40),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["%any", "%any6", "198.51.100.45", "2001:db8::1", "198.18.1.0/24",
                     "198.18.1.1/24", "2001:db8::/64", "@west", "aes_gcm256", "sha2_512",
                     "psk", "rsasig", "::", "0.0.0.0"]),
    st.lists(st.integers(), max_size=2),
)
_end_keys = st.sampled_from(["host", "id", "ikeport", "nexthop", "client", "updown", "x"])
_top_keys = st.sampled_from([
    "name", "auth", "encrypt", "authenticate", "tunnel", "pfs", "compress",
    "disablearrivalcheck", "ikev2", "ike", "esp", "ikelifetime", "ipseclifetime",
    "rekeymargin", "rekeyfuzz", "keyingtries", "rekey", "host_family", "client_family", "x",
])
_ends = st.one_of(_values, st.dictionaries(_end_keys, _values, max_size=6))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_top_keys, _values, max_size=8), _ends, _ends)
def test_arbitrary_descriptions_build_or_raise_connection_error(top, left, right):
    description = dict(top, left=left, right=right)
    try:
        conn = build_connection(description)
    except ConnectionError:
        return
    assert isinstance(conn, Connection)
    assert not (conn.left.host_is_any and conn.right.host_is_any)
    assert conn.kind is (Kind.TEMPLATE if conn.left.host_is_any or conn.right.host_is_any
                         else Kind.PERMANENT)
