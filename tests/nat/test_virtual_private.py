"""virtual-private and vhost:/vnet: subnets (pluto/connections/virtual_private.py), with the
examples of ipsec.conf(5) rewritten into the lab's ranges."""

from __future__ import annotations

import ipaddress
import re

import pytest

from pluto.connections.virtual_private import (
    VirtualPrivateError,
    choose_client,
    parse_virtual_private,
    parse_virtual_subnet,
)

net = ipaddress.ip_network
ROAD = ipaddress.ip_address("198.51.100.254")  # road's public (NAT) address
VP = parse_virtual_private("%v4:198.18.0.0/15, %v4:!198.18.2.0/24 %v6:2001:db8::/32,"
                           "%v6:!2001:db8:0:2::/64")


def test_parsed_ranges_and_their_text():
    assert VP.allowed == (net("198.18.0.0/15"), net("2001:db8::/32"))
    assert VP.excluded == (net("198.18.2.0/24"), net("2001:db8:0:2::/64"))
    assert str(VP) == ("%v4:198.18.0.0/15,%v6:2001:db8::/32,%v4:!198.18.2.0/24,"
                       "%v6:!2001:db8:0:2::/64")


@pytest.mark.parametrize(("network", "allowed"), [
    ("198.18.3.0/24", True),
    ("198.18.3.7/32", True),
    ("198.18.2.0/24", False),  # excluded: east's own subnet
    ("198.18.2.9/32", False),
    ("198.18.0.0/15", False),  # covers the excluded subnet
    ("198.16.0.0/14", False),  # larger than allowed
    ("203.0.113.0/24", False),
    ("2001:db8:0:3::/64", True),
    ("2001:db8:0:2::1/128", False),
])
def test_allows(network, allowed):
    assert VP.allows(net(network)) is allowed


@pytest.mark.parametrize(("text", "bad"), [
    ("10.0.0.0/8", "'10.0.0.0/8'"),
    ("%v4:2001:db8::/32", "'%v4:2001:db8::/32'"),
    ("%v6:198.18.0.0/15", "'%v6:198.18.0.0/15'"),
    ("%v4:198.18.0.1/15", "'%v4:198.18.0.1/15'"),  # host bits set
    ("%v4:198.18.0.0/15,%v4:!", "'%v4:!'"),
    ("%v5:198.18.0.0/15", "'%v5:198.18.0.0/15'"),
])
def test_bad_virtual_private_names_the_item(text, bad):
    with pytest.raises(VirtualPrivateError, match=f"^{bad} is not %v4:NET, %v6:NET or %vN:!NET"):
        parse_virtual_private(text)


def test_vhost_accepts_single_hosts_only():
    vhost = parse_virtual_subnet("vhost:%no,%priv")
    assert vhost.accepts(net("198.18.3.7/32"), ROAD, VP)
    assert vhost.accepts(net(f"{ROAD}/32"), ROAD, VP)  # %no: its own public address
    assert not vhost.accepts(net("198.18.3.0/24"), ROAD, VP)  # a network: vnet only
    assert not vhost.accepts(net("198.18.2.1/32"), ROAD, VP)  # excluded
    assert not vhost.accepts(net("198.51.100.1/32"), ROAD, VP)  # not its address


def test_vnet_items():
    vnet = parse_virtual_subnet("vnet:%priv,203.0.113.0/24")
    assert vnet.accepts(net("198.18.3.0/24"), ROAD, VP)
    assert vnet.accepts(net("203.0.113.128/25"), ROAD, VP)  # inside the explicit network
    assert not vnet.accepts(net(f"{ROAD}/32"), ROAD, VP)  # no %no
    assert not vnet.accepts(net("198.18.2.0/24"), ROAD, VP)
    assert parse_virtual_subnet("vnet:%all").accepts(net("198.18.2.0/24"), ROAD, VP)
    # without virtual-private, %priv allows nothing
    assert not vnet.accepts(net("198.18.3.0/24"), ROAD, parse_virtual_private(""))


@pytest.mark.parametrize(("text", "message"), [
    ("vhost:", "names nothing after 'vhost:'"),
    ("vnet:%priv,%nope", "'%nope' in 'vnet:%priv,%nope' is not %no, %priv, %all or a subnet"),
    ("vnet:198.18.3.1/24", "'198.18.3.1/24' in 'vnet:198.18.3.1/24' is not"),
    ("vsubnet:%priv", "'vsubnet:%priv' is not vhost:ITEMS or vnet:ITEMS"),
])
def test_bad_virtual_subnets(text, message):
    with pytest.raises(VirtualPrivateError, match=re.escape(message)):
        parse_virtual_subnet(text)


def test_responder_takes_the_first_acceptable_claim():
    vnet = parse_virtual_subnet("vnet:%no,%priv")
    proposed = [net("198.18.2.0/24"), net("198.18.3.0/24"), net(f"{ROAD}/32")]
    assert choose_client(vnet, proposed, ROAD, VP) == net("198.18.3.0/24")
    assert choose_client(vnet, proposed[:1], ROAD, VP) is None
