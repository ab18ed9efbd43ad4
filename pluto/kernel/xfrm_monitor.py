"""The ACQUIRE and EXPIRE listener: the kernel's multicast messages as callbacks.

How it meets the daemon's asyncio loop: :class:`XfrmMonitor` owns a non-blocking
NETLINK_XFRM socket bound to the ACQUIRE and EXPIRE groups. :meth:`XfrmMonitor.attach` asks
the loop to watch its file descriptor (``loop.add_reader``); when the kernel sends, the loop
calls :meth:`XfrmMonitor.read_pending`, which drains the socket and calls ``on_acquire`` /
``on_expire`` in the loop's thread, so the callbacks may touch pluto's state directly.
Without a loop, a caller can poll ``fileno()`` itself and call ``read_pending``.

What pluto does with them (pluto(8)): an ACQUIRE from a trap policy (``--route``) starts a
negotiation for the connection whose policy matched; a soft EXPIRE rekeys the Child SA, a hard
EXPIRE deletes it.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from pluto.kernel import xfrm_requests as requests
from pluto.kernel.ops import IPAddress, IPNetwork, SaId
from pluto.kernel.xfrm_messages import XfrmGroup, XfrmMsg, decode_messages
from pluto.kernel.xfrm_socket import open_netlink
from pluto.kernel.xfrm_structs import address_from
from pluto.log import Logger, null_logger

_PROTO_NAMES = {50: "esp", 51: "ah", 108: "comp"}
_DIRECTION_NAMES = {number: name for name, number in requests.DIRECTIONS.items()}


@dataclass(frozen=True)
class Acquire:
    """Traffic matched a policy with no SA: negotiate one for this flow."""

    src: IPAddress  # the tunnel (or host) addresses the SA must use
    dst: IPAddress
    proto: str
    src_selector: IPNetwork  # the packet that triggered it (host addresses)
    dst_selector: IPNetwork
    ip_proto: int  # transport protocol of the packet, 0 for any
    sport: int
    dport: int
    policy_src: IPNetwork  # the selector of the policy that matched
    policy_dst: IPNetwork
    policy_direction: str
    policy_index: int
    reqid: int | None  # reqid of the matching template, when the kernel says
    seq: int


@dataclass(frozen=True)
class Expire:
    """An SA reached a soft limit (rekey now) or a hard one (the kernel deleted it)."""

    sa: SaId
    src: IPAddress
    reqid: int
    hard: bool
    bytes: int
    packets: int


def _network(raw: bytes, prefixlen: int, family: int) -> IPNetwork:
    return ipaddress.ip_network(f"{address_from(raw, family)}/{prefixlen}", strict=False)


def acquire_from_message(msg) -> Acquire:
    sel, policy = msg["sel"], msg["policy"]
    psel = policy["sel"]
    family = sel["family"] or psel["family"]
    tmpl_attr = msg.get_attr("XFRMA_TMPL")
    templates = (tmpl_attr or {}).get("templates", [])
    # The id's family: the kernel fills saddr/daddr in the SA's family, which for a tunnel
    # may differ from the inner selector's; IPv4 leaves the last 12 bytes zero.
    outer = family
    if templates:
        outer = templates[0]["family"]
    return Acquire(
        src=address_from(msg["saddr"], outer), dst=address_from(msg["id"]["daddr"], outer),
        proto=_PROTO_NAMES.get(msg["id"]["proto"], str(msg["id"]["proto"])),
        src_selector=_network(sel["saddr"], sel["prefixlen_s"], family),
        dst_selector=_network(sel["daddr"], sel["prefixlen_d"], family),
        ip_proto=sel["proto"], sport=sel["sport"], dport=sel["dport"],
        policy_src=_network(psel["saddr"], psel["prefixlen_s"], psel["family"] or family),
        policy_dst=_network(psel["daddr"], psel["prefixlen_d"], psel["family"] or family),
        policy_direction=_DIRECTION_NAMES.get(policy["dir"], str(policy["dir"])),
        policy_index=policy["index"],
        reqid=templates[0]["reqid"] if templates else None,
        seq=msg["seq"],
    )


def expire_from_message(msg) -> Expire:
    state = msg["state"]
    family = state["family"]
    proto = _PROTO_NAMES.get(state["id"]["proto"], str(state["id"]["proto"]))
    return Expire(
        sa=SaId(address_from(state["id"]["daddr"], family), state["id"]["spi"], proto),
        src=address_from(state["saddr"], family), reqid=state["reqid"],
        hard=bool(msg["hard"]), bytes=state["curlft"]["bytes"],
        packets=state["curlft"]["packets"])


def group_mask(*groups: XfrmGroup) -> int:
    mask = 0
    for group in groups:
        mask |= 1 << (group - 1)
    return mask


class XfrmMonitor:
    """Calls ``on_acquire(Acquire)`` and ``on_expire(Expire)`` for the kernel's messages."""

    def __init__(self, on_acquire: Callable[[Acquire], None],
                 on_expire: Callable[[Expire], None], logger: Logger | None = None,
                 netns: str | None = None) -> None:
        self._on_acquire = on_acquire
        self._on_expire = on_expire
        self._logger = logger or null_logger()
        self._sock = open_netlink(group_mask(XfrmGroup.ACQUIRE, XfrmGroup.EXPIRE),
                                  netns=netns, blocking=False)
        self._loop: asyncio.AbstractEventLoop | None = None

    def fileno(self) -> int:
        return self._sock.fileno()

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Have ``loop`` call :meth:`read_pending` whenever the kernel sends."""
        loop.add_reader(self._sock.fileno(), self.read_pending)
        self._loop = loop

    def close(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self._sock.fileno())
            self._loop = None
        self._sock.close()

    def read_pending(self) -> int:
        """Drain the socket, dispatching each message; returns how many were handled."""
        handled = 0
        while True:
            try:
                datagram = self._sock.recv(1 << 16)
            except BlockingIOError:
                return handled
            except OSError as e:  # ENOBUFS: the kernel dropped messages for us
                self._logger.log(f"kernel: XFRM monitor: {e}")
                return handled
            try:
                messages = decode_messages(datagram)
            except ValueError as e:
                self._logger.log(f"kernel: XFRM monitor: bad message from kernel: {e}")
                continue
            for msg in messages:
                handled += self._dispatch(msg)

    def _dispatch(self, msg) -> int:
        msg_type = msg["header"]["type"]
        if msg_type == XfrmMsg.ACQUIRE:
            acquire = acquire_from_message(msg)
            self._logger.debug("kernel", f"xfrm: ACQUIRE {acquire.src_selector}->"
                                         f"{acquire.dst_selector} via {acquire.proto} "
                                         f"{acquire.src}->{acquire.dst} seq={acquire.seq}")
            self._on_acquire(acquire)
            return 1
        if msg_type == XfrmMsg.EXPIRE:
            expire = expire_from_message(msg)
            self._logger.debug("kernel", f"xfrm: {'hard' if expire.hard else 'soft'} EXPIRE "
                                         f"{expire.sa.proto}.{expire.sa.spi:x}@{expire.sa.dst}")
            self._on_expire(expire)
            return 1
        return 0
