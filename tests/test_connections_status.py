"""whack --status lines of one connection, compared exactly with libreswan's shapes."""

from __future__ import annotations

import ipaddress

from pluto.connections.builder import build_connection
from pluto.connections.connection import Connection
from pluto.connections.orient import orient
from pluto.connections.status import connection_status_lines, connection_topology
from pluto.connections.table import ConnectionTable


def ep(address: str, port: int = 500):
    return (ipaddress.ip_address(address), port)


WEST = ep("198.51.100.45")
EAST = ep("198.51.100.23")


def make(listening=None, **desc) -> Connection:
    conn = build_connection(desc)
    if listening is not None:
        orient(conn, listening)
    return conn


def westnet_eastnet(listening=(WEST,), **changes) -> Connection:
    desc = {"name": "westnet-eastnet",
            "left": {"host": "198.51.100.45", "id": "@west", "client": "198.18.1.0/24"},
            "right": {"host": "198.51.100.23", "id": "@east", "client": "198.18.2.0/24"},
            "ike": "aes_gcm256-sha2_512;dh19", "esp": "aes_gcm256"}
    desc.update(changes)
    return make(listening, **desc)


def test_established_on_west():
    lines = connection_status_lines(westnet_eastnet(), newest_ike=1, newest_child=2)
    assert lines == [
        '"westnet-eastnet": 198.18.1.0/24===198.51.100.45[@west]...198.51.100.23[@east]'
        '===198.18.2.0/24; erouted; eroute owner: #2',
        '"westnet-eastnet":     oriented; my_ip=unset; their_ip=unset;',
        '"westnet-eastnet":   our auth:secret, their auth:secret;',
        '"westnet-eastnet":   ike_life: 3600s; ipsec_life: 28800s; rekey_margin: 540s; '
        'rekey_fuzz: 100%; keyingtries: 0;',
        '"westnet-eastnet":   policy: IKEv2+PSK+ENCRYPT+TUNNEL+PFS;',
        '"westnet-eastnet":   our idtype: ID_FQDN; our id=@west; their idtype: ID_FQDN; '
        'their id=@east',
        '"westnet-eastnet":   newest IKE SA: #1; newest Child SA: #2;',
        '"westnet-eastnet":   IKE algorithms: AES_GCM_16_256-HMAC_SHA2_512-DH19',
        '"westnet-eastnet":   ESP algorithms: AES_GCM_16_256-NONE',
    ]


def test_east_sees_itself_first_and_unrouted_before_negotiation():
    lines = connection_status_lines(westnet_eastnet((EAST,)), newest_ike=None,
                                    newest_child=None)
    assert lines[0] == ('"westnet-eastnet": 198.18.2.0/24===198.51.100.23[@east]...'
                        '198.51.100.45[@west]===198.18.1.0/24; unrouted; eroute owner: #0')
    assert lines[5] == ('"westnet-eastnet":   our idtype: ID_FQDN; our id=@east; '
                        'their idtype: ID_FQDN; their id=@west')
    assert lines[6] == '"westnet-eastnet":   newest IKE SA: #0; newest Child SA: #0;'


def test_routing_can_be_given():
    lines = connection_status_lines(westnet_eastnet(), newest_ike=1, newest_child=None,
                                    routing="prospective erouted", eroute_owner=0)
    assert lines[0].endswith("; prospective erouted; eroute owner: #0")


def test_unoriented_shows_left_first_and_both_next_hops():
    conn = westnet_eastnet(listening=None,
                           left={"host": "198.51.100.45", "nexthop": "198.51.100.254"},
                           right={"host": "198.51.100.23", "nexthop": "198.51.100.253"})
    assert connection_topology(conn) == ("198.51.100.45---198.51.100.254..."
                                         "198.51.100.253---198.51.100.23")
    lines = connection_status_lines(conn, newest_ike=None, newest_child=None)
    assert lines[1] == '"westnet-eastnet":     unoriented; my_ip=unset; their_ip=unset;'
    assert lines[5] == ('"westnet-eastnet":   our idtype: ID_IPV4_ADDR; our id=198.51.100.45; '
                        'their idtype: ID_IPV4_ADDR; their id=198.51.100.23')


def test_oriented_hides_the_peers_next_hop_and_a_next_hop_that_is_the_peer():
    conn = westnet_eastnet(left={"host": "198.51.100.45", "nexthop": "198.51.100.254"},
                           right={"host": "198.51.100.23", "nexthop": "198.51.100.253"})
    assert connection_topology(conn) == "198.51.100.45---198.51.100.254...198.51.100.23"
    conn = westnet_eastnet(left={"host": "198.51.100.45", "nexthop": "198.51.100.23"})
    assert connection_topology(conn) == "198.51.100.45...198.51.100.23[@east]===198.18.2.0/24"


def test_default_parts_are_left_out():
    # An address ID equal to the host, a client that is the host itself, port 500.
    conn = make((WEST,), name="host-host",
                left={"host": "198.51.100.45", "id": "198.51.100.45",
                      "client": "198.51.100.45/32", "ikeport": 500},
                right={"host": "198.51.100.23", "id": "198.51.100.99"})
    assert connection_topology(conn) == "198.51.100.45...198.51.100.23[198.51.100.99]"


def test_ports_and_ipv6():
    conn = make((ep("2001:db8:1:2::45", 4500),), name="v6",
                left={"host": "2001:db8:1:2::45", "ikeport": 4500, "id": "@west",
                      "client": "2001:db8:0:1::/64"},
                right={"host": "2001:db8:1:2::23", "ikeport": 501,
                       "client": "2001:db8:0:2::/64"})
    assert connection_topology(conn) == ("2001:db8:0:1::/64===[2001:db8:1:2::45]:4500[@west]"
                                         "...[2001:db8:1:2::23]:501===2001:db8:0:2::/64")
    conn = make((ep("127.0.0.1", 501),), name="lo",
                left={"host": "127.0.0.1"}, right={"host": "127.0.0.1", "ikeport": 501})
    assert connection_topology(conn) == "127.0.0.1:501...127.0.0.1"


def test_road_warrior_template_and_instance():
    template = make((EAST,), name="rw",
                    left={"host": "198.51.100.23", "id": "@east", "client": "198.18.2.0/24",
                          "updown": "ipsec _updown"},
                    right={"host": "%any"})
    lines = connection_status_lines(template, newest_ike=None, newest_child=None)
    assert lines[0] == ('"rw": 198.18.2.0/24===198.51.100.23[@east]...%any; unrouted; '
                        'eroute owner: #0')
    assert lines[1] == '"rw":     oriented; my_ip=unset; their_ip=unset; my_updown=ipsec _updown;'
    assert lines[5] == ('"rw":   our idtype: ID_FQDN; our id=@east; their idtype: %none; '
                        'their id=(none)')
    table = ConnectionTable()
    table.add(template)
    instance = table.instantiate(template, ep("203.0.113.209"))
    lines = connection_status_lines(instance, newest_ike=3, newest_child=4)
    assert lines[0] == ('"rw"[1]: 198.18.2.0/24===198.51.100.23[@east]...203.0.113.209; '
                        'erouted; eroute owner: #4')
    assert lines[5] == ('"rw"[1]:   our idtype: ID_FQDN; our id=@east; their idtype: '
                        'ID_IPV4_ADDR; their id=203.0.113.209')
    assert lines[6] == '"rw"[1]:   newest IKE SA: #3; newest Child SA: #4;'


def test_any_id_on_a_template_peer():
    conn = make((EAST,), name="rw", left={"host": "198.51.100.23"},
                right={"host": "%any", "id": "%any"})
    assert connection_topology(conn) == "198.51.100.23...%any"


def test_other_policies_lifetimes_and_ah():
    conn = make((WEST,), name="ah-transport",
                left={"host": "198.51.100.45"}, right={"host": "198.51.100.23"},
                authenticate=True, tunnel=False, pfs=False, compress=True, rekey=False,
                auth="rsasig", esp="sha2_512+sha2_256", ikelifetime=1800.5,
                ipseclifetime=3600, rekeymargin=60, rekeyfuzz=0, keyingtries=3)
    lines = connection_status_lines(conn, newest_ike=None, newest_child=None)
    assert lines[2:5] == [
        '"ah-transport":   our auth:rsasig, their auth:rsasig;',
        '"ah-transport":   ike_life: 1800.5s; ipsec_life: 3600s; rekey_margin: 60s; '
        'rekey_fuzz: 0%; keyingtries: 3;',
        '"ah-transport":   policy: IKEv2+RSASIG+AUTHENTICATE+COMPRESS+TRANSPORT+DONT_REKEY;',
    ]
    assert lines[-1] == '"ah-transport":   AH algorithms: HMAC_SHA2_512_256+HMAC_SHA2_256_128'
    assert len(lines) == 8  # no ike= given: no IKE algorithms line


def test_ikev1_names_its_sas_the_old_way():
    conn = westnet_eastnet(ikev2=False, disablearrivalcheck=True, ike=None, esp=None)
    lines = connection_status_lines(conn, newest_ike=5, newest_child=6)
    assert lines[4] == ('"westnet-eastnet":   policy: IKEv1+PSK+ENCRYPT+TUNNEL+PFS+'
                        'DISABLEARRIVALCHECK;')
    assert lines[6] == '"westnet-eastnet":   newest ISAKMP SA: #5; newest IPsec SA: #6;'
    assert len(lines) == 7


def test_proposals_are_printed_canonically():
    conn = westnet_eastnet(ike="AES256-SHA2;DH19+DH20, aes_gcm128-sha2_512-dh31",
                           esp="aes256-sha2_512,aes_gcm")
    lines = connection_status_lines(conn, newest_ike=None, newest_child=None)
    assert lines[-2] == ('"westnet-eastnet":   IKE algorithms: AES_CBC_256-HMAC_SHA2_256-'
                         'DH19+DH20, AES_GCM_16_128-HMAC_SHA2_512-DH31')
    assert lines[-1] == ('"westnet-eastnet":   ESP algorithms: AES_CBC_256-HMAC_SHA2_512_256, '
                         'AES_GCM_16-NONE')
