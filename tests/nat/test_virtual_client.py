"""A road warrior behind a NAT claims its inside address as its client; east's template says
``leftsubnet=vhost:%priv`` and accepts the claim only inside virtual-private and outside its
excluded networks (pluto/ikev2/ts.py narrow_peer, pluto/connections/virtual_private.py)."""

from __future__ import annotations

import ipaddress

import pytest

from pluto.config.conn_to_description import checked_descriptions
from pluto.config.ipsec_conf import from_text
from pluto.config.lexer import ConfigError
from pluto.connections.builder import ConnectionError as BadConnection
from pluto.connections.builder import build_connection
from pluto.connections.connection import Kind
from pluto.connections.virtual_private import parse_virtual_private
from pluto.engine.states import ChildSa
from pluto.packet.ikev2_types import NotifyType
from pluto.whack_protocol import RC_NOTIFICATION
from tests.inprocess.harness import Nat, Pair, connection

ROAD = "203.0.113.209"  # road's inside address, behind the NAT
NIC = "198.51.100.254"  # the NAT's outside address
EAST = "198.51.100.23"
EASTNET = "198.18.2.0/24"
VIRTUAL_PRIVATE = "%v4:203.0.113.0/24,%v4:198.18.0.0/15,%v4:!198.18.2.0/24"


def net(text: str):
    return ipaddress.ip_network(text)


def _road_to_east(claim: str, east_client: str = "vhost:%priv",
                  virtual_private: str = VIRTUAL_PRIVATE):
    pair = Pair(west=ROAD, east=EAST,
                east_options={"virtual_private": parse_virtual_private(virtual_private)})
    pair.wire.nat = Nat([ROAD], NIC)
    pair.add(connection("road", west=ROAD, east=EAST, west_client=claim,
                        east_client=EASTNET),
             connection("road", west="%any", east=EAST, west_client=east_client,
                        east_client=EASTNET))
    reply = pair.west.whack({"action": "initiate", "name": "road"})
    pair.pump()
    return pair, reply


def _east_policies(pair: Pair) -> set[tuple[str, str, str, str]]:
    return {(p.direction, str(p.src_selector), str(p.dst_selector), str(p.tunnel_dst))
            for p in pair.east.kernel.installed_policies()}


def test_claim_inside_virtual_private_is_accepted():
    pair, reply = _road_to_east(f"{ROAD}/32")
    assert reply.finished == 0, reply.texts
    # east's policies protect road's inside address, tunnelled to the NAT's address
    assert ("out", EASTNET, f"{ROAD}/32", NIC) in _east_policies(pair)
    assert ("in", f"{ROAD}/32", EASTNET, EAST) in _east_policies(pair)
    child = next(s for s in pair.east.core.states if isinstance(s, ChildSa))
    assert child.remote_ts == net(f"{ROAD}/32")
    # the instance now protects the accepted claim; the template still accepts any
    instance = child.conn
    assert instance.kind is Kind.INSTANCE
    assert instance.that.client == net(f"{ROAD}/32")
    assert instance.template.that.client is None


@pytest.mark.parametrize(("claim", "why"), [
    (EASTNET, "excluded by virtual-private (east's own subnet)"),
    ("192.0.2.0/24", "outside virtual-private"),
    ("198.18.3.0/24", "a network, but vhost: takes single hosts"),
])
def test_claim_refused_with_ts_unacceptable(claim, why):
    pair, reply = _road_to_east(claim)
    assert reply.finished == RC_NOTIFICATION + NotifyType.TS_UNACCEPTABLE, (why, reply.texts)
    assert pair.east.lines_with("responding with TS_UNACCEPTABLE")
    assert pair.east.kernel.installed_sas() == []
    assert not [p for p in pair.east.kernel.installed_policies() if p.mode == "tunnel"
                and str(p.src_selector) == claim]


def test_vnet_accepts_a_network_inside_virtual_private():
    pair, reply = _road_to_east("198.18.3.0/24", east_client="vnet:%priv")
    assert reply.finished == 0, reply.texts
    assert ("out", EASTNET, "198.18.3.0/24", NIC) in _east_policies(pair)


def test_without_virtual_private_priv_accepts_nothing():
    pair, reply = _road_to_east(f"{ROAD}/32", virtual_private="")
    assert reply.finished == RC_NOTIFICATION + NotifyType.TS_UNACCEPTABLE, reply.texts


def test_explicit_network_needs_no_virtual_private():
    pair, reply = _road_to_east(f"{ROAD}/32", east_client="vhost:203.0.113.0/24",
                                virtual_private="")
    assert reply.finished == 0, reply.texts


def test_child_sa_rekey_keeps_the_accepted_claim():
    pair, reply = _road_to_east(f"{ROAD}/32")
    assert reply.finished == 0, reply.texts
    rekey = pair.west.whack({"action": "rekey-child", "name": "road"})
    pair.pump()
    assert rekey.finished == 0, rekey.texts
    children = [s for s in pair.east.core.states if isinstance(s, ChildSa) and s.sas]
    assert [c.remote_ts for c in children] == [net(f"{ROAD}/32")]
    assert children[0].replacing is not None


IPSEC_CONF = """\
conn road
    left=198.51.100.23
    leftsubnet=198.18.2.0/24
    right=%any
    rightsubnet={value}
    authby=secret
"""


def test_ipsec_conf_rightsubnet_vhost():
    conf = from_text(IPSEC_CONF.format(value="vhost:%no,%priv"))
    [desc] = checked_descriptions(conf, "road")
    conn = build_connection(desc)
    assert conn.right.client is None
    assert conn.right.virtual is not None
    assert (conn.right.virtual.host_only, conn.right.virtual.own_address,
            conn.right.virtual.private) == (True, True, True)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("rightsubnet", "vhost:%nope", "'%nope' in 'vhost:%nope' is not %no, %priv, %all"),
    ("rightsubnets", "vnet:%priv", "go in leftsubnet= or rightsubnet=, not in a list"),
])
def test_ipsec_conf_bad_virtual_subnet_names_the_line(key, value, message):
    text = IPSEC_CONF.format(value="198.18.3.0/24").replace("rightsubnet=198.18.3.0/24",
                                                           f"{key}={value}")
    conf = from_text(text)
    with pytest.raises(ConfigError, match=message) as err:
        checked_descriptions(conf, "road")
    assert key in str(err.value)


def test_whack_form_description_with_bad_vhost():
    desc = connection("road", west="%any", east=EAST, west_client="vhost:",
                      east_client=EASTNET)
    with pytest.raises(BadConnection, match="--client: 'vhost:' names nothing"):
        build_connection(desc)


def test_pluto_option_and_config_setup_reach_the_core(tmp_path):
    from pluto.engine.core import _core_options
    from pluto.server.options import OptionsError, parse_options

    conf = tmp_path / "ipsec.conf"
    conf.write_text("config setup\n    virtual-private=%v4:198.18.0.0/15,%v4:!198.18.2.0/24\n")
    opts = parse_options(["--config", str(conf)])
    assert opts.setup_notes == []
    core = _core_options(opts)
    assert core.virtual_private.allows(net("198.18.3.0/24"))
    assert not core.virtual_private.allows(net("198.18.2.7/32"))
    # the command line wins over config setup
    opts = parse_options(["--config", str(conf), "--virtual-private", "%v6:2001:db8::/32"])
    assert str(_core_options(opts).virtual_private) == "%v6:2001:db8::/32"
    with pytest.raises(OptionsError, match="--virtual-private: '%v4:nope' is not"):
        parse_options(["--virtual-private", "%v4:nope"])


def test_server_options_reach_the_engine_parsed():
    from pluto.engine.core import CoreOptions as EngineOptions
    from pluto.main import engine_options
    from pluto.server.options import CoreOptions as ServerOptions
    from pluto.server.options import parse_options

    opts = parse_options(["--virtual-private", "%v4:198.18.0.0/15,%v4:!198.18.2.0/24"])
    engine = engine_options(ServerOptions(virtual_private=opts.virtual_private), opts,
                            EngineOptions)
    assert engine.virtual_private.allows(net("198.18.3.0/24"))
    assert not engine.virtual_private.allows(net("198.18.2.0/24"))


def _ikev1_road_to_east(claim: str):
    pair = Pair(west=ROAD, east=EAST,
                east_options={"virtual_private": parse_virtual_private(VIRTUAL_PRIVATE)})
    for host in (pair.west, pair.east):
        host.core.options.ikev1_policy = "accept"
        host.impairs.apply("revival")
    pair.wire.nat = Nat([ROAD], NIC)
    pair.add(connection("road", west=ROAD, east=EAST, west_client=claim,
                        east_client=EASTNET, ikev2=False),
             connection("road", west="%any", east=EAST, west_client="vhost:%priv",
                        east_client=EASTNET, ikev2=False))
    reply = pair.west.whack({"action": "initiate", "name": "road"})
    pair.pump()
    return pair, reply


def test_ikev1_quick_mode_accepts_a_virtual_private_claim():
    pair, reply = _ikev1_road_to_east(f"{ROAD}/32")
    assert reply.finished == 0, reply.texts
    assert ("out", EASTNET, f"{ROAD}/32", NIC) in _east_policies(pair)
    child = next(s for s in pair.east.core.states if isinstance(s, ChildSa))
    assert child.remote_ts == net(f"{ROAD}/32")
    assert child.conn.kind is Kind.INSTANCE and child.conn.that.client == net(f"{ROAD}/32")


def test_ikev1_quick_mode_refuses_a_claim_outside_virtual_private():
    pair, reply = _ikev1_road_to_east("192.0.2.7/32")
    assert reply.finished != 0
    assert pair.east.lines_with("Quick Mode request's IDs do not match")
    assert not [s for s in pair.east.core.states if isinstance(s, ChildSa)]
