"""XFRM requests for IKEv1's AH and ESP+AH bundles against the bytes iproute2 6.1 sends.

Captured as in tests/test_xfrm_messages.py (``strace -f -e trace=sendmsg -xx -s 65536`` in a
scratch network namespace); each constant is the body after the 16-byte netlink header.
"""

from __future__ import annotations

import ipaddress
import struct

import pytest
from pyroute2.netlink import NLM_F_ACK, NLM_F_REQUEST

from pluto.kernel import xfrm_requests as requests
from pluto.kernel.ops import PolicySpec, SaId, SaSpec
from pluto.kernel.xfrm_messages import XFRM_MODE_TRANSPORT, XFRM_MODE_TUNNEL, encode_request

ip = ipaddress.ip_address
net = ipaddress.ip_network
WEST, EAST = ip("198.51.100.45"), ip("198.51.100.23")
WESTNET, EASTNET = net("198.18.1.0/24"), net("198.18.2.0/24")

# ip xfrm policy add src 198.18.1.0/24 dst 198.18.2.0/24 dir out tmpl src 198.51.100.45 dst
#   198.51.100.23 proto esp reqid 5 mode tunnel tmpl src 198.51.100.45 dst 198.51.100.23
#   proto ah reqid 5 mode transport
POLICY_ESP_AH_TUNNEL = bytes.fromhex(
    "c6120200000000000000000000000000c612010000000000000000000000000000000000000000000200181800000000"
    "0000000000000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff0000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000010000000000000084000500c633641700000000000000000000000000000000"
    "3200000002000000c633642d0000000000000000000000000500000001000000ffffffffffffffffffffffffc6336417"
    "000000000000000000000000000000003300000002000000c633642d0000000000000000000000000500000000000000"
    "ffffffffffffffffffffffff")

# ip xfrm state add src 198.51.100.45 dst 198.51.100.23 proto ah spi 0x3000 reqid 5 mode tunnel
#   auth-trunc 'hmac(sha1)' 0x000102030405060708090a0b0c0d0e0f10111213 96
#   sel src 198.18.1.0/24 dst 198.18.2.0/24 replay-window 32
NEWSA_AH_TUNNEL_SHA1 = bytes.fromhex(
    "c6120200000000000000000000000000c612010000000000000000000000000000000000000000000200181800000000"
    "0000000000000000c63364170000000000000000000000000000300033000000c633642d000000000000000000000000"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000500000002000120000000000000000060001400686d61632873686131290000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000a000000060000000000102030405060708090a0b0c0d0e0f10111213")

ESP_AH_POLICY = PolicySpec("out", WESTNET, EASTNET, WEST, EAST, "tunnel", "esp+ah", 5)
AH_SA = SaSpec(id=SaId(EAST, 0x3000, "ah"), src=WEST, mode="tunnel", src_selector=WESTNET,
               dst_selector=EASTNET, encrypt=None, encrypt_key=b"", encrypt_key_bits=0,
               integ="HMAC_SHA1_96", integ_key=bytes(range(20)), reqid=5, replay_window=32)

CASES = {
    "policy esp+ah tunnel": (POLICY_ESP_AH_TUNNEL, requests.add_policy(ESP_AH_POLICY)),
    "newsa ah tunnel sha1": (NEWSA_AH_TUNNEL_SHA1, requests.add_sa(AH_SA)),
}


@pytest.mark.parametrize("name", CASES)
def test_ah_request_bytes_match_iproute2(name):
    captured, request = CASES[name]
    flags = NLM_F_REQUEST | NLM_F_ACK
    data = encode_request(request.msg_type, request.fields, request.attrs, flags=flags,
                          seq=1, pid=0)
    assert struct.unpack_from("=I", data)[0] == 16 + len(captured)
    assert data[16:].hex() == captured.hex()


def test_esp_ah_bundle_tunnels_only_the_inner_esp():
    # RFC 2401 bundles as libreswan installs them: ESP builds the tunnel, AH covers the
    # outer header in transport mode between the same gateways.
    inner, outer = requests.templates(ESP_AH_POLICY)
    assert (inner["id"]["proto"], inner["mode"]) == (50, XFRM_MODE_TUNNEL)
    assert (outer["id"]["proto"], outer["mode"]) == (51, XFRM_MODE_TRANSPORT)
    assert (outer["saddr"], outer["id"]["daddr"]) == (WEST, EAST)
