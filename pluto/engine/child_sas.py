"""Installing a negotiated Child SA into the kernel (both directions plus policies), and
removing it again, through the KernelOps interface.

Keys: RFC 7296 §2.17 takes the initiator-to-responder keys first, so the exchange initiator's
outbound SA uses ``encr_i``/``integ_i`` and the responder's inbound SA the same keys.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from pluto.engine import routes
from pluto.engine.states import ChildSa, IkeSa
from pluto.ikev2 import nat
from pluto.impair import REGISTRY, ImpairSpec, Kind, register
from pluto.kernel.ops import KernelError, PolicySpec, SaId, SaSpec

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

# Fail one step of installing a Child SA, as if the kernel had refused it (libreswan's names).
INSTALL_STEPS = {
    "inbound-state": "install-ipsec-sa-inbound-state",
    "outbound-state": "install-ipsec-sa-outbound-state",
    "inbound-policy": "install-ipsec-sa-inbound-policy",
    "outbound-policy": "install-ipsec-sa-outbound-policy",
}
for _step, _name in INSTALL_STEPS.items():
    if _name not in REGISTRY:
        register(ImpairSpec(_name, Kind.BOOLEAN,
                            f"make installing a Child SA's {_step.replace('-', ' ')} fail"))


class UpdownFailed(KernelError):
    """The updown command refused to bring the Child SA up."""

    def __init__(self, text: str) -> None:
        Exception.__init__(self, text)
        self.operation = "updown"
        self.errno = 0


def _impaired(core: Pluto, child: ChildSa, step: str) -> None:
    name = INSTALL_STEPS[step]
    if core.impairs.get(name):
        child.logger.impair(f"{name}: failing the {step.replace('-', ' ')} install of "
                            f"{child.label}")
        raise KernelError(f"add {step.replace('-', ' ')}", errno.EPERM, f"impaired ({name})")


def _integ_name(chosen) -> str | None:
    if chosen.integ is None or chosen.integ.is_none:
        return None
    return chosen.integ.fqn


def install(core: Pluto, ike: IkeSa, child: ChildSa, keys,
            replacing: ChildSa | None = None) -> None:
    """Add inbound and outbound SAs and the in/fwd/out policies; KernelError undoes it all.

    A rekey (``replacing`` the old Child SA) keeps the old reqid and shares its policies:
    XFRM then sends with the newest SA of that reqid, so traffic moves over before the old
    SA is deleted. A second Child SA of the same connection for the same selectors (a peer
    that came back without --uniqueids) is treated alike: it shares the older one's policies
    when their tunnel endpoints agree, and takes them over when they do not. Selectors held
    by another connection's Child SA are refused (EEXIST) before anything is installed.
    """
    conn, chosen = child.conn, child.chosen
    local, remote = ike.local[0], ike.remote[0]
    mode = "tunnel" if conn.policy.tunnel else "transport"
    holder = replacing if replacing is not None else _policy_holder(core, child)
    if holder is not None and replacing is None and _base(holder.conn) is not _base(conn):
        raise KernelError("add policy", errno.EEXIST,
                          f"policies for [{child.local_ts}==={child.remote_ts}] belong to "
                          f"{holder.conn.label} #{holder.serial}")
    route = routes.route_owning(core, PolicySpec("out", child.local_ts, child.remote_ts, local,
                                                 remote, mode, "esp", 0))
    if route is not None and routes.base(route.conn) is not _base(conn):
        raise KernelError("add policy", errno.EEXIST,
                          f"policies for [{child.local_ts}==={child.remote_ts}] are routed for "
                          f"{route.conn.label}")
    if holder is not None and holder.reqid:
        child.reqid = holder.reqid
    elif route is not None:
        child.reqid = route.policy.reqid  # the trap's template then leads to our SAs
    elif not child.reqid:
        child.reqid = core.next_reqid()
    reqid = child.reqid
    if child.initiator:
        out_keys, in_keys = (keys.encr_i, keys.integ_i), (keys.encr_r, keys.integ_r)
    else:
        out_keys, in_keys = (keys.encr_r, keys.integ_r), (keys.encr_i, keys.integ_i)
    lifetime = conn.lifetimes.ipsec
    # NAT-T: ESP in UDP between the IKE SA's (floated) ports, RFC 3948
    our_port, peer_port = nat.encap_ports(ike)

    def spec(dst, src, spi, src_sel, dst_sel, key_pair, ports) -> SaSpec:
        return SaSpec(id=SaId(dst, spi, "esp"), src=src, mode=mode, src_selector=src_sel,
                      dst_selector=dst_sel, encrypt=chosen.encr.fqn if chosen.encr else None,
                      encrypt_key=key_pair[0], encrypt_key_bits=chosen.encr_key_bits,
                      integ=_integ_name(chosen), integ_key=key_pair[1], reqid=reqid,
                      lifetime_seconds=lifetime, esn=chosen.esn,
                      encap_sport=ports[0], encap_dport=ports[1])

    inbound = spec(local, remote, child.inbound_spi, child.remote_ts, child.local_ts, in_keys,
                   (peer_port, our_port))
    outbound = spec(remote, local, child.outbound_spi, child.local_ts, child.remote_ts,
                    out_keys, (our_port, peer_port))
    policies = [
        PolicySpec("out", child.local_ts, child.remote_ts, local, remote, mode, "esp", reqid),
        PolicySpec("in", child.remote_ts, child.local_ts, remote, local, mode, "esp", reqid),
        PolicySpec("fwd", child.remote_ts, child.local_ts, remote, local, mode, "esp", reqid),
    ]
    shared: list[PolicySpec] = []
    taken: list[PolicySpec] = []  # the holder's policies, replaced by ours
    if holder is not None:
        if replacing is not None or set(holder.policies) == set(policies):
            shared = list(holder.policies)
        else:
            taken = list(holder.policies)
    removed: list[PolicySpec] = []
    try:
        for step, sa in (("inbound-state", inbound), ("outbound-state", outbound)):
            _impaired(core, child, step)
            core.kernel.add_sa(sa)
            child.sas.append(sa)
        if shared:
            child.policies.extend(shared)
        else:
            for policy in taken:
                core.kernel.delete_policy(policy)
                removed.append(policy)
            for policy in policies:
                _impaired(core, child, "outbound-policy" if policy.direction == "out"
                          else "inbound-policy")
                deleted = _selector_key(policy) in {_selector_key(p) for p in removed}
                trap = None if deleted else routes.route_owning(core, policy)
                if trap is not None and trap.policy == policy:
                    pass  # the trap policy is this very policy: nothing to change
                elif trap is not None:
                    core.kernel.add_policy(policy, update=True)
                else:
                    core.kernel.add_policy(policy)
                child.policies.append(policy)
        if replacing is None and not shared:
            from pluto.engine import updown_calls

            failure = updown_calls.bring_up(core, child)
            if failure is not None:
                raise UpdownFailed(failure)
            child.updown_up = True
    except KernelError:
        uninstall(core, child)
        for policy in removed:  # give the holder its policies back
            try:
                core.kernel.add_policy(policy)
            except KernelError as err:
                child.logger.log(f"kernel: {err}")
        raise
    if taken:
        for other in core.states:
            if isinstance(other, ChildSa) and other is not child:
                other.policies = [p for p in other.policies if p not in taken]
        child.logger.log(f"Child SA #{holder.serial} had the same traffic selectors; its "
                         "policies now lead to this Child SA")
    child.add_time = core.clock.wall()
    core.logger.debug("kernel", f"#{child.serial}: installed inbound SA "
                                f"{child.inbound_spi:#010x} and outbound SA "
                                f"{child.outbound_spi:#010x}, reqid {reqid}")


def _base(conn):
    """Instances of one template count as one connection."""
    template = getattr(conn, "template", None)
    return template if template is not None else conn


def _selector_key(policy: PolicySpec) -> tuple:
    # the kernel tells policies apart by direction and selectors, not by their template
    return (policy.direction, policy.src_selector, policy.dst_selector)


def _policy_holder(core: Pluto, child: ChildSa) -> ChildSa | None:
    """The installed Child SA whose outbound policy has ``child``'s selectors, if any."""
    wanted = ("out", child.local_ts, child.remote_ts)
    for other in core.states:
        if isinstance(other, ChildSa) and other is not child and any(
                _selector_key(p) == wanted for p in other.policies):
            return other
    return None


def _shared(core: Pluto, child: ChildSa, policy) -> bool:
    """Whether another Child SA (the one rekeying this one, or its rekey) uses ``policy``."""
    return any(isinstance(other, ChildSa) and other is not child and policy in other.policies
               for other in core.states)


def uninstall(core: Pluto, child: ChildSa) -> None:
    if child.updown_up:
        # "down" runs when the last Child SA using these policies goes; until then the
        # one sharing them (a rekey, a second Child SA) carries the duty.
        heir = next((other for other in core.states if isinstance(other, ChildSa)
                     and other is not child and any(p in other.policies
                                                    for p in child.policies)), None)
        if heir is not None:
            heir.updown_up = True
        else:
            from pluto.engine import updown_calls

            updown_calls.take_down(core, child)
        child.updown_up = False
    for policy in reversed(child.policies):
        if _shared(core, child, policy):
            continue
        try:
            trap = routes.route_owning(core, policy)
            if trap is None:
                core.kernel.delete_policy(policy)
            elif trap.policy != policy:
                core.kernel.add_policy(trap.policy, update=True)  # back to being a trap
        except KernelError as err:
            child.logger.log(f"kernel: {err}")
    for sa in reversed(child.sas):
        try:
            core.kernel.delete_sa(sa.id)
        except KernelError as err:
            child.logger.log(f"kernel: {err}")
    _release_spi(core, child)
    child.policies.clear()
    child.sas.clear()


def _release_spi(core: Pluto, child: ChildSa) -> None:
    """An inbound SPI allocated for a Child SA that never got its SA is given back (the
    kernel holds it in a larval SA until then)."""
    ike = core.states.ike(child.ike_serial)
    if not child.inbound_spi or ike is None or ike.local is None or any(
            sa.id.spi == child.inbound_spi for sa in child.sas) \
            or child.inbound_spi in child.gone_spis:
        return
    child.gone_spis.add(child.inbound_spi)  # released once, however often uninstall runs
    try:
        core.kernel.delete_sa(SaId(ike.local[0], child.inbound_spi, "esp"))
    except KernelError as err:
        core.logger.debug("kernel", f"#{child.serial}: releasing SPI: {err}")


def tunnel_text(child: ChildSa) -> str:
    """``IPsec tunnel [198.18.1.0/24===198.18.2.0/24] {ESP=>0x... <0x... xfrm=... DPD=passive}``"""
    chosen = child.chosen
    mode = "tunnel" if child.conn.policy.tunnel else "transport mode"
    xfrm = chosen.encr.fqn if chosen.encr else "NULL"
    if chosen.encr is not None and chosen.encr.variable_key:
        xfrm = f"{xfrm}_{chosen.encr_key_bits}"
    integ = _integ_name(chosen)
    if integ is not None:
        xfrm = f"{xfrm}-{integ}"
    outbound = next((sa for sa in child.sas if sa.id.spi == child.outbound_spi), None)
    natd = ""
    if outbound is not None and outbound.encap_dport is not None:
        # libreswan's shape for ESP in UDP: ESPinUDP=>... NATOA=none NATD=PEER:PORT
        esp = "ESPinUDP"
        peer = outbound.id.dst
        natd = (f"NATOA=none NATD={f'[{peer}]' if peer.version == 6 else peer}:"
                f"{outbound.encap_dport} ")
    else:
        esp = "ESP"
    if chosen.esn:
        esp += "/ESN"
    # libreswan: active when this end sends liveness probes (dpddelay), else passive.
    dpd = "active" if getattr(child.conn, "dpd", None) is not None else "passive"
    return (f"IPsec {mode} [{child.local_ts}==={child.remote_ts}] "
            f"{{{esp}=>0x{child.outbound_spi:08x} <0x{child.inbound_spi:08x} xfrm={xfrm} "
            f"{natd}DPD={dpd}}}")
