"""Keep IKE itself out of IPsec: a per-socket "bypass" policy on every IKE socket.

A host-to-host (transport mode) Child SA protects all traffic between the two hosts, and so
would catch the IKE messages too: the responder's IKE_AUTH answer would leave inside ESP
before the peer has the keys. Like libreswan, pluto gives each IKE socket its own XFRM
policy, one per direction, whose action is "allow" with no template: socket policies take
precedence over the global ones, so IKE always goes in the clear.
"""

from __future__ import annotations

import ipaddress
import socket

from pluto.kernel.xfrm_messages import XFRM_POLICY_ALLOW, XFRM_POLICY_IN, XFRM_POLICY_OUT
from pluto.kernel.xfrm_structs import UserpolicyInfo, lifetime_cfg

# linux/in.h and linux/in6.h
IP_XFRM_POLICY = 17
IPV6_XFRM_POLICY = 35


def bypass_policy(direction: int, family: int) -> bytes:
    """An ``xfrm_userpolicy_info`` that lets everything through, for ``setsockopt``."""
    any_address = ipaddress.ip_address("::" if family == socket.AF_INET6 else "0.0.0.0")
    return UserpolicyInfo.pack({
        "sel": {"daddr": any_address, "saddr": any_address, "dport": 0, "dport_mask": 0,
                "sport": 0, "sport_mask": 0, "family": family, "prefixlen_d": 0,
                "prefixlen_s": 0, "proto": 0, "ifindex": 0, "user": 0},
        "lft": lifetime_cfg(), "curlft": {"bytes": 0, "packets": 0, "add_time": 0,
                                          "use_time": 0},
        "priority": 0, "index": 0, "dir": direction, "action": XFRM_POLICY_ALLOW,
        "flags": 0, "share": 0,
    })


def bypass_ipsec(sock: socket.socket) -> None:
    """Exempt ``sock`` from IPsec in both directions; OSError if the kernel refuses (no XFRM,
    or no CAP_NET_ADMIN)."""
    family = sock.family
    level, option = ((socket.IPPROTO_IPV6, IPV6_XFRM_POLICY) if family == socket.AF_INET6
                     else (socket.IPPROTO_IP, IP_XFRM_POLICY))
    for direction in (XFRM_POLICY_IN, XFRM_POLICY_OUT):
        sock.setsockopt(level, option, bypass_policy(direction, family))
