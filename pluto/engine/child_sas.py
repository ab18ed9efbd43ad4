"""Installing a negotiated Child SA into the kernel (both directions plus policies), and
removing it again, through the KernelOps interface.

Keys: RFC 7296 §2.17 takes the initiator-to-responder keys first, so the exchange initiator's
outbound SA uses ``encr_i``/``integ_i`` and the responder's inbound SA the same keys.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pluto.engine import routes
from pluto.engine.states import ChildSa, IkeSa
from pluto.ikev2 import nat
from pluto.impair import REGISTRY, ImpairSpec, Kind, register
from pluto.kernel.ops import KernelError, PolicySpec, SaId, SaSpec
from pluto.kernel.volume_limits import soft_limit

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


@dataclass(frozen=True)
class ProtocolSa:
    """One IPsec protocol of a Child SA (ESP, or AH; both in IKEv1's ESP+AH bundle), innermost
    first: its SPIs, its part of the negotiated SA (encr, encr_key_bits, integ, esn) and keys
    (encr_i, integ_i, encr_r, integ_r)."""

    proto: str
    inbound_spi: int
    outbound_spi: int
    chosen: Any
    keys: Any


def protocol(child: ChildSa) -> str:
    """The kernel name of the Child SA's (innermost) IPsec protocol: the negotiated SA's when
    it says (IKEv1), else what the connection asks for (AH only with --authenticate alone)."""
    name = getattr(child.chosen, "protocol_name", None)
    if name is not None:
        return name
    policy = child.conn.policy
    return "ah" if policy.authenticate and not policy.encrypt else "esp"


def protocol_sas(child: ChildSa, keys) -> list[ProtocolSa]:
    """The protocols to install: the key object's own list (an IKEv1 bundle), else one."""
    parts = getattr(keys, "parts", None)
    if parts:
        return list(parts)
    return [ProtocolSa(protocol(child), child.inbound_spi, child.outbound_spi, child.chosen,
                       keys)]


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
    parts = protocol_sas(child, keys)
    protos = "+".join(part.proto for part in parts)  # the policies' templates, innermost first
    holder = replacing if replacing is not None else _policy_holder(core, child)
    if holder is not None and replacing is None and _base(holder.conn) is not _base(conn):
        raise KernelError("add policy", errno.EEXIST,
                          f"policies for [{child.local_ts}==={child.remote_ts}] belong to "
                          f"{holder.conn.label} #{holder.serial}")
    route = routes.route_owning(core, PolicySpec("out", child.local_ts, child.remote_ts, local,
                                                 remote, mode, protos, 0))
    if route is not None and routes.base(route.conn) is not _base(conn):
        # A trap is no IPsec SA's eroute: ours takes the policy over, and the trap comes
        # back when this Child SA goes (uninstall).
        child.logger.log(f"eroute [{child.local_ts}==={child.remote_ts}] owned by the trap of "
                         f"{route.conn.label} (no IPsec SA); taken over by this Child SA")
    if holder is not None and holder.reqid:
        child.reqid = holder.reqid
    elif route is not None and routes.base(route.conn) is _base(conn):
        child.reqid = route.policy.reqid  # the trap's template then leads to our SAs
    elif not child.reqid:
        child.reqid = core.next_reqid()
    reqid = child.reqid
    # Time: the kernel only gets the hard limit, as a last resort; rekeying on time is
    # pluto's own (fuzzed) timer. libreswan installs no soft time limit either: a kernel soft
    # EXPIRE at a fixed time would race that timer and undo its fuzz. IKEv1 negotiates the
    # lifetime: the SA ends when the peer expects it to.
    lifetime = getattr(chosen, "lifetime", None) or conn.lifetimes.ipsec
    max_bytes, max_packets = conn.lifetimes.ipsec_max_bytes, conn.lifetimes.ipsec_max_packets
    # NAT-T: ESP in UDP between the IKE SA's (floated) ports, RFC 3948
    our_port, peer_port = nat.encap_ports(ike)

    def spec(part: ProtocolSa, index: int, dst, src, spi, src_sel, dst_sel, key_pair,
             ports) -> SaSpec:
        # each direction gets its own fuzzed soft limits, as each is counted on its own
        soft_bytes, soft_packets = (
            soft_limit(hard, child.initiator, conn.lifetimes.rekey, core.rand)
            for hard in (max_bytes, max_packets))
        algs = part.chosen
        # in tunnel mode only the innermost SA builds the tunnel; the outer AH of a bundle
        # covers the new outer header in transport mode (as the policy's templates say)
        this_mode = mode if index == 0 else "transport"
        encap = ports if part.proto == "esp" else (None, None)  # NAT-T carries only ESP
        return SaSpec(id=SaId(dst, spi, part.proto), src=src, mode=this_mode,
                      src_selector=src_sel, dst_selector=dst_sel,
                      encrypt=algs.encr.fqn if algs.encr else None,
                      encrypt_key=key_pair[0], encrypt_key_bits=algs.encr_key_bits,
                      integ=_integ_name(algs), integ_key=key_pair[1], reqid=reqid,
                      lifetime_seconds=lifetime, esn=algs.esn,
                      lifetime_bytes=max_bytes, soft_lifetime_bytes=soft_bytes,
                      lifetime_packets=max_packets, soft_lifetime_packets=soft_packets,
                      encap_sport=encap[0], encap_dport=encap[1])

    states: list[tuple[str, SaSpec]] = []  # inbound SAs first, as before a bundle existed
    for direction in ("inbound", "outbound"):
        for index, part in enumerate(parts):
            k = part.keys
            if child.initiator:
                out_keys, in_keys = (k.encr_i, k.integ_i), (k.encr_r, k.integ_r)
            else:
                out_keys, in_keys = (k.encr_r, k.integ_r), (k.encr_i, k.integ_i)
            if direction == "inbound":
                sa = spec(part, index, local, remote, part.inbound_spi, child.remote_ts,
                          child.local_ts, in_keys, (peer_port, our_port))
            else:
                sa = spec(part, index, remote, local, part.outbound_spi, child.local_ts,
                          child.remote_ts, out_keys, (our_port, peer_port))
            states.append((f"{direction}-state", sa))
    policies = [
        PolicySpec("out", child.local_ts, child.remote_ts, local, remote, mode, protos, reqid),
        PolicySpec("in", child.remote_ts, child.local_ts, remote, local, mode, protos, reqid),
        PolicySpec("fwd", child.remote_ts, child.local_ts, remote, local, mode, protos, reqid),
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
        for step, sa in states:
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
    for sa in child.sas:
        if sa.lifetime_bytes or sa.lifetime_packets:
            core.logger.debug("kernel", f"#{child.serial}: SA {sa.id.spi:#010x} limits: "
                                        f"bytes soft {sa.soft_lifetime_bytes} hard "
                                        f"{sa.lifetime_bytes}, packets soft "
                                        f"{sa.soft_lifetime_packets} hard {sa.lifetime_packets}")
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
    if ike is None or ike.local is None:
        return
    # an IKEv1 ESP+AH bundle reserves a second (AH) SPI
    extra = [("ah", spi) for spi in (getattr(child, "ah_inbound_spi", 0),) if spi]
    for proto, spi in [(protocol(child), child.inbound_spi), *extra]:
        if not spi or any(sa.id.spi == spi and sa.id.proto == proto for sa in child.sas) \
                or spi in child.gone_spis:
            continue
        child.gone_spis.add(spi)  # released once, however often uninstall runs
        try:
            core.kernel.delete_sa(SaId(ike.local[0], spi, proto))
        except KernelError as err:
            core.logger.debug("kernel", f"#{child.serial}: releasing SPI: {err}")


def tunnel_text(child: ChildSa) -> str:
    """``IPsec tunnel [198.18.1.0/24===198.18.2.0/24] {ESP=>0x... <0x... xfrm=... DPD=passive}``"""
    chosen = child.chosen
    mode = "tunnel" if child.conn.policy.tunnel else "transport mode"
    if protocol(child) == "ah":  # IKEv1 AH alone: only the integrity algorithm
        return (f"IPsec {mode} [{child.local_ts}==={child.remote_ts}] "
                f"{{AH=>0x{child.outbound_spi:08x} <0x{child.inbound_spi:08x} "
                f"xfrm={_integ_name(chosen)} DPD={_dpd_text(child)}}}")
    xfrm = chosen.encr.fqn if chosen.encr else "NULL"
    if chosen.encr is not None and chosen.encr.variable_key:
        xfrm = f"{xfrm}_{chosen.encr_key_bits}"
    integ = _integ_name(chosen)
    if integ is not None:
        xfrm = f"{xfrm}-{integ}"
    # an IKEv1 ESP+AH bundle: libreswan names AH's SPIs before ESP's
    ah = getattr(chosen, "ah", None)
    ah_text = ""
    if ah is not None:
        ah_in = getattr(child, "ah_inbound_spi", 0)
        ah_text = (f"AH=>0x{int.from_bytes(ah.spi, 'big'):08x} <0x{ah_in:08x} "
                   f"xfrm={_integ_name(ah)} ")
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
    return (f"IPsec {mode} [{child.local_ts}==={child.remote_ts}] "
            f"{{{ah_text}{esp}=>0x{child.outbound_spi:08x} <0x{child.inbound_spi:08x} "
            f"xfrm={xfrm} {natd}DPD={_dpd_text(child)}}}")


def _dpd_text(child: ChildSa) -> str:
    # libreswan: active when this end sends liveness probes (dpddelay), else passive.
    return "active" if getattr(child.conn, "dpd", None) is not None else "passive"
