"""The kernel's own events: ACQUIRE (traffic hit a trap policy) and EXPIRE (an SA's limit).

- ACQUIRE: the route whose trap policy matched (by reqid, else by the policy's selectors)
  names the connection, and pluto initiates it, unless it is negotiating or up already.
- soft EXPIRE: rekey the Child SA that owns the SA (once: the other direction's soft expire
  finds the rekey under way).
- hard EXPIRE: the kernel has deleted that SA; pluto deletes the rest of the Child SA and
  tells the peer. As libreswan does, the newest Child SA of a connection that wants rekeying
  (rekey=yes) is then replaced: a new Child SA is negotiated over the IKE SA, so traffic
  resumes (it is dropped, or trapped by a route, in between). An older Child SA, one that
  a rekey superseded already, or a --dontrekey connection's, is just deleted.
- with rekey=no (--dontrekey) a soft EXPIRE is only logged: nothing is rekeyed.

The impairs ``ignore-soft-expire`` and ``ignore-hard-expire`` drop those events (a test of
what the timers alone do).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pluto.engine.states import ChildSa
from pluto.impair import REGISTRY, ImpairSpec, Kind, register

if TYPE_CHECKING:
    from pluto.engine.core import Pluto
    from pluto.engine.routes import Route

for _name, _help in (("ignore-soft-expire", "ignore the kernel's soft EXPIRE (no rekey from it)"),
                     ("ignore-hard-expire", "ignore the kernel's hard EXPIRE (no delete "
                                            "from it)")):
    if _name not in REGISTRY:
        register(ImpairSpec(_name, Kind.BOOLEAN, _help))


class _Quiet:
    """The reply of an initiate pluto starts itself: the core logs every line already."""

    def line(self, rc: int, text: str) -> None:
        pass

    def done(self, rc: int = 0) -> None:
        pass


def _route_for(core: Pluto, acquire: Any) -> Route | None:
    for route in core.routes.values():
        if acquire.reqid and route.policy.reqid == acquire.reqid:
            return route
    for route in core.routes.values():
        if (route.policy.src_selector, route.policy.dst_selector) == (acquire.policy_src,
                                                                      acquire.policy_dst):
            return route
    return None


def acquire(core: Pluto, acquire: Any) -> None:
    flow = (f"{acquire.src_selector.network_address}->{acquire.dst_selector.network_address}"
            f" (protocol {acquire.ip_proto})")
    route = _route_for(core, acquire)
    if route is None:
        core.logger.log(f"kernel: ACQUIRE for {flow} matches no routed connection; ignored")
        return
    conn = route.conn
    busy = [s for s in core.states if s.conn is conn
            and (not s.kind.established or isinstance(s, ChildSa))]
    if busy:
        core.logger.debug("kernel", f"{conn.label}: ACQUIRE for {flow} while #{busy[0].serial} "
                                    "exists; ignored")
        return
    core.logger.log(f"{conn.label}: initiating on demand: ACQUIRE for {flow}")
    core.whack([{"action": "initiate", "name": conn.name, "async": True}], _Quiet())


def _owner(core: Pluto, expire: Any) -> ChildSa | None:
    for state in core.states:
        if isinstance(state, ChildSa) and any(sa.id == expire.sa for sa in state.sas):
            return state
    return None


def expire(core: Pluto, expire: Any) -> None:
    from pluto.ikev2 import create_child_sa, informational
    from pluto.ikev2.create_child_common import rekey_in_progress

    kind = "hard" if expire.hard else "soft"
    sa = f"{expire.sa.proto}.{expire.sa.spi:x}@{expire.sa.dst}"
    child = _owner(core, expire)
    if child is None:
        core.logger.debug("kernel", f"{kind} EXPIRE of {sa}, which is not ours; ignored")
        return
    if core.impairs.get(f"ignore-{kind}-expire"):
        child.logger.impair(f"ignoring the {kind} EXPIRE of {sa} ({child.label})")
        return
    if expire.hard:
        # The kernel deleted that SA already: forget it, delete the rest and tell the peer.
        child.sas = [spec for spec in child.sas if spec.id != expire.sa]
        child.gone_spis.add(expire.sa.spi)
        forget = getattr(core.kernel, "forget_sa", None)
        if forget is not None:
            forget(expire.sa)
        # IKEv1 Quick Mode SAs are deleted only: their replacement is IKEv1's (rekey.py)
        replace = (child.kind.established and child.conn.lifetimes.rekey
                   and child.conn.policy.ikev2
                   and not _superseded(core, child) and create_child_sa.can_replace(core, child))
        child.logger.log(f"hard EXPIRE of {sa} ({expire.bytes} bytes, {expire.packets} "
                         "packets): deleting the Child SA"
                         + ("; replacing it" if replace else ""))
        if replace:
            create_child_sa.replace_state(core, child)
        else:
            informational.delete_sa(core, child)
        return
    if not child.conn.lifetimes.rekey:
        child.logger.log(f"soft EXPIRE of {sa} ({expire.bytes} bytes, {expire.packets} "
                         "packets): not rekeying (rekey=no)")
        return
    if not child.kind.established or any(
            isinstance(other, ChildSa) and other.replacing == child.serial
            for other in core.states) or rekey_in_progress(core, child):
        core.logger.debug("kernel", f"#{child.serial}: soft EXPIRE of {sa}: already being "
                                    "replaced")
        return
    child.logger.log(f"soft EXPIRE of {sa}: rekeying the Child SA")
    if not child.conn.policy.ikev2:
        from pluto.ikev1 import rekey as ikev1_rekey

        ikev1_rekey.start_rekey(core, child)  # a new Quick Mode, not CREATE_CHILD_SA
        return
    create_child_sa.rekey_child(core, child)


def _superseded(core: Pluto, child: ChildSa) -> bool:
    """Whether a newer Child SA (its rekey) took over from ``child`` already."""
    return any(isinstance(other, ChildSa) and other.replacing == child.serial
               and other.kind.established for other in core.states)
