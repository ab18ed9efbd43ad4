"""The NETLINK_XFRM socket: send one request, collect the kernel's answer.

Why not pyroute2's ``NetlinkSocket``: its synchronous calls drive an asyncio loop of their own
(``run_until_complete``), which fails inside pluto's running loop ("This event loop is already
running"). KernelOps calls are synchronous and the kernel answers XFRM requests before
``sendto`` returns, so a plain blocking netlink socket with a timeout is all that is needed
here; pyroute2's message classes still do the framing (:mod:`pluto.kernel.xfrm_messages`).
The multicast side (ACQUIRE, EXPIRE) is a separate non-blocking socket, see
:mod:`pluto.kernel.xfrm_monitor`.

``netns`` opens the socket inside a named network namespace (``ip netns add NAME``): the
socket stays bound to the namespace it was created in, so only its creation has to happen
there; the calling thread switches in and straight back.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import socket
from collections.abc import Iterator

from pyroute2.netlink import NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR

from pluto.kernel.ops import KernelError
from pluto.kernel.xfrm_messages import NETLINK_XFRM, decode_messages, encode_request
from pluto.kernel.xfrm_requests import Request

CLONE_NEWNET = 0x40000000
_RECV_SIZE = 1 << 16


@contextlib.contextmanager
def in_netns(name: str | None) -> Iterator[None]:
    """Run the body with the calling thread in network namespace ``name`` (None: stay)."""
    if name is None:
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)
    with open("/proc/thread-self/ns/net", "rb") as home, \
            open(f"/run/netns/{name}", "rb") as target:
        if libc.setns(target.fileno(), CLONE_NEWNET) != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"setns to {name}: {os.strerror(code)}")
        try:
            yield
        finally:
            if libc.setns(home.fileno(), CLONE_NEWNET) != 0:
                # Staying in the wrong namespace would send later traffic astray: stop here.
                code = ctypes.get_errno()
                raise SystemExit(f"cannot return from netns {name}: {os.strerror(code)}")


def open_netlink(groups: int = 0, netns: str | None = None, blocking: bool = True,
                 timeout: float = 5.0) -> socket.socket:
    """A NETLINK_XFRM socket bound to the multicast ``groups`` bit mask."""
    with in_netns(netns):
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_XFRM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.bind((0, groups))
        if blocking:
            sock.settimeout(timeout)
        else:
            sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class XfrmChannel:
    """Requests and their answers over one blocking NETLINK_XFRM socket."""

    def __init__(self, netns: str | None = None, timeout: float = 5.0) -> None:
        self._sock = open_netlink(netns=netns, timeout=timeout)
        self._seq = 0

    def close(self) -> None:
        self._sock.close()

    def request(self, operation: str, request: Request, dump: bool = False,
                ack: bool = True) -> list:
        """Send ``request``; return the kernel's messages (empty for a plain ack).

        ``ack`` asks for an acknowledgement (changes); queries (``ack=False``) get their
        answer instead. A kernel error raises KernelError(operation, errno, text).
        """
        self._seq += 1
        seq = self._seq
        flags = NLM_F_REQUEST | (NLM_F_DUMP if dump else 0) | (NLM_F_ACK if ack else 0)
        data = encode_request(request.msg_type, request.fields, request.attrs, flags=flags,
                              seq=seq)
        try:
            self._sock.sendto(data, (0, 0))
        except OSError as e:
            raise KernelError(operation, e.errno or errno.EIO, os.strerror(e.errno or 5)) from e
        answers: list = []
        while True:
            try:
                datagram = self._sock.recv(_RECV_SIZE)
            except TimeoutError:
                raise KernelError(operation, errno.ETIMEDOUT, "no answer from the kernel") from None
            for msg in decode_messages(datagram):
                if msg["header"]["sequence_number"] != seq:
                    continue  # a late answer to an earlier request that timed out
                msg_type = msg["header"]["type"]
                if msg_type == NLMSG_ERROR:
                    code = -msg["error"]
                    if code:
                        raise KernelError(operation, code, os.strerror(code))
                    return answers
                if msg_type == NLMSG_DONE:
                    return answers
                answers.append(msg)
                if not dump:
                    return answers
