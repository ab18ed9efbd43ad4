"""The start-up sweep: remove the SAs and policies an earlier pluto left in the kernel.

A pluto killed with SIGKILL (or by the OOM killer, or a power-cut container) never runs its
flush, so its Child SAs and policies stay in the kernel with nobody managing them: traffic
keeps using keys nobody will rekey, and the new pluto's own installs collide with them
(EEXIST), because it hands out the same reqids again.

How pluto recognises its own: by reqid. The core gives every Child SA and trap policy a reqid
from ``AUTO_REQID_MIN`` up (16384, in steps of four, as libreswan does), and a reqid is
written into every SA and every policy template. Manual keying (``ip xfrm``, ``ipsec
spi``-style tools) uses reqids below that, strongSwan counts up from 1, and socket policies
have no template at all, so those are left alone.

Why not libreswan's way: its service start-up (``_stackmanager``) flushes the whole SAD and
SPD, which would also remove what other daemons and the administrator installed. Why not a
per-daemon XFRM mark: a policy's mark takes part in the kernel's packet lookup, so marking
every policy would change which packets they match. The reqid costs nothing and is already
on everything we install.

The sweep removes rather than adopts (as libreswan does): pluto has none of the IKE state the
SAs belong to, so it could never rekey or delete them properly. The peer notices through
liveness checks (DPD) and, with ``auto=start`` here, a new IKE SA brings the tunnel back.

Larval SAs (SPIs reserved with ALLOCSPI for a negotiation the kill cut short) carry
``LARVAL_REQID`` from the same range; the kernel would expire them after
``net.core.xfrm_acq_expires`` (30 s) anyway, the sweep just does it at once.

SAs go first, then policies: while the policies are still there, a packet that meets a policy
with no SA is dropped (and raises an ACQUIRE) instead of leaving in the clear.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pluto.kernel import xfrm_requests as requests
from pluto.kernel.ops import KernelError, PolicySpec, SaId
from pluto.kernel.xfrm import LARVAL_REQID, policy_from_message
from pluto.kernel.xfrm_messages import XfrmMsg
from pluto.kernel.xfrm_structs import address_from

# The reqids the core hands out (pluto.engine.core: range(16384, 1 << 30, 4)).
AUTO_REQID_MIN = 16384
AUTO_REQID_MAX = (1 << 30) - 1

_PROTO_NAMES = {50: "esp", 51: "ah", 108: "comp"}


def is_ours(reqid: int) -> bool:
    """True when ``reqid`` is one pluto's core would have handed out."""
    return AUTO_REQID_MIN <= reqid <= AUTO_REQID_MAX


@dataclass(frozen=True)
class Leftover:
    """One SA or policy found in the kernel, with the call that removes it."""

    kind: str  # "SA" or "policy"
    description: str
    reqid: int
    remove: Callable[[], None] = field(compare=False, repr=False)


@dataclass
class SweepResult:
    removed: list[Leftover] = field(default_factory=list)
    failed: list[tuple[Leftover, str]] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for item in self.removed if item.kind == kind)


def sweep(leftovers: list[Leftover], log: Callable[[str], None]) -> SweepResult:
    """Remove the leftovers whose reqid is ours, SAs before policies; log each one.

    A failure to remove one (it expired meanwhile, say) is logged and the sweep carries on.
    """
    result = SweepResult()
    ours = [item for item in leftovers if is_ours(item.reqid)]
    ours.sort(key=lambda item: item.kind != "SA")  # stable: SAs first, then policies
    for item in ours:
        try:
            item.remove()
        except KernelError as err:
            result.failed.append((item, str(err)))
            log(f"start-up sweep: could not remove {item.kind} {item.description}: {err}")
            continue
        result.removed.append(item)
        log(f"start-up sweep: removed {item.kind} {item.description} "
            "left by an earlier pluto")
    if result.removed:
        log(f"start-up sweep: removed {result.count('SA')} SA(s) and "
            f"{result.count('policy')} policy(ies) with reqids from {AUTO_REQID_MIN} up")
    return result


# --- where the leftovers come from ------------------------------------------------------


def nostack_leftovers(kernel) -> list[Leftover]:
    """What a :class:`~pluto.kernel.nostack.NoStack` holds (in-process tests)."""
    items = []
    for sa in kernel.installed_sas():
        items.append(Leftover("SA", _describe_sa(sa.id, sa.src, sa.reqid), sa.reqid,
                              _bind(kernel.delete_sa, sa.id)))
    for sa_id in kernel.larval_spis():
        items.append(Leftover("SA", _describe_sa(sa_id, None, LARVAL_REQID), LARVAL_REQID,
                              _bind(kernel.delete_sa, sa_id)))
    for policy in kernel.installed_policies():
        items.append(Leftover("policy", _describe_policy(policy), policy.reqid,
                              _bind(kernel.delete_policy, policy)))
    return items


def xfrm_leftovers(channel) -> list[Leftover]:
    """Every SA and policy in the kernel (two dumps over an
    :class:`~pluto.kernel.xfrm_socket.XfrmChannel`), each with its removal."""
    items = []
    dump = channel.request("list SAs", requests.Request(XfrmMsg.GETSA, {}), dump=True,
                           ack=False)
    for msg in dump:
        if msg["header"]["type"] != XfrmMsg.NEWSA:
            continue
        family = msg["family"]
        sa_id = SaId(address_from(msg["id"]["daddr"], family), msg["id"]["spi"],
                     _PROTO_NAMES.get(msg["id"]["proto"], str(msg["id"]["proto"])))
        src = address_from(msg["saddr"], family)
        reqid = msg["reqid"]
        description = _describe_sa(sa_id, src, reqid)
        items.append(Leftover("SA", description, reqid,
                              _bind(_delete_sa, channel, sa_id, src, description)))
    dump = channel.request("list policies", requests.Request(XfrmMsg.GETPOLICY, {}),
                           dump=True, ack=False)
    for msg in dump:
        if msg["header"]["type"] != XfrmMsg.NEWPOLICY:
            continue
        policy = policy_from_message(msg)
        if not policy.templates:
            continue  # socket policies and plain allow/block rules carry no reqid
        reqid = policy.templates[0][4]
        description = (f"{policy.src_selector}->{policy.dst_selector}{_ports(msg['sel'])} "
                       f"dir {policy.direction} reqid={reqid}")
        items.append(Leftover("policy", description, reqid,
                              _bind(_delete_policy, channel, msg, description)))
    return items


def _ports(sel) -> str:
    """`` proto 17 dport 53``: what narrows a selector beyond its addresses, if anything."""
    if not sel["proto"]:
        return ""
    text = f" proto {sel['proto']}"
    if sel["sport_mask"]:
        text += f" sport {sel['sport']}"
    if sel["dport_mask"]:
        text += f" dport {sel['dport']}"
    return text


def _delete_sa(channel, sa_id: SaId, src, description: str) -> None:
    channel.request(f"delete SA {description}", requests.sa_id(sa_id, src=src))


def _delete_policy(channel, msg, description: str) -> None:
    # By index: the kernel's own name for the policy, whatever its selector's ports.
    fields = {"sel": dict(msg["sel"]), "index": msg["index"], "dir": msg["dir"]}
    channel.request(f"delete policy {description}",
                    requests.Request(XfrmMsg.DELPOLICY, fields))


def _bind(function, *args) -> Callable[[], None]:
    return lambda: function(*args)


def _describe_sa(sa_id: SaId, src, reqid: int) -> str:
    if reqid == LARVAL_REQID:  # an SPI reserved for a negotiation that never finished
        return f"{sa_id.proto}.{sa_id.spi:x}@{sa_id.dst} (larval SPI)"
    return f"{sa_id.proto}.{sa_id.spi:x}@{sa_id.dst} {src}->{sa_id.dst} reqid={reqid}"


def _describe_policy(policy: PolicySpec) -> str:
    return (f"{policy.src_selector}->{policy.dst_selector} dir {policy.direction} "
            f"reqid={policy.reqid}")
