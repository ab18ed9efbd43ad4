"""NAT traversal for IKEv2 (RFC 7296 §2.23, RFC 3948): what the core does with a NAT.

    IKE_SA_INIT      both ends send NAT_DETECTION_* (natd.py); each compares the peer's
                     hashes with the addresses the packet really had (:func:`detected`)
    float            a NAT on the path: the initiator moves to the NAT-T port for IKE_AUTH
                     and everything after (:func:`float_initiator`); the responder answers
                     where the requests come from and follows them (:func:`request_from`)
    Child SAs        ESP in UDP between the IKE SA's endpoints (:func:`encap_ports`)
    keepalives       the end behind the NAT sends one 0xff byte every keep-alive seconds
                     (RFC 3948 §2.3), so the NAT keeps its mapping (:func:`start_keepalives`)
    new mapping      an authenticated request from another port of a peer behind a NAT moves
                     the IKE SA and the kernel SAs there (:func:`request_from`)

``encapsulation=yes`` forces ESP in UDP without a NAT the way libreswan does it: the NAT
detection hash of our own end is made not to match, so both ends believe this end is behind
a NAT. ``encapsulation=no`` ignores what the hashes say.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import TYPE_CHECKING

from pluto.engine.host import Endpoint, format_endpoint
from pluto.engine.states import ChildSa, IkeSa
from pluto.ikev2.natd import NatDetection, detect_nat, natd_notifies
from pluto.kernel.ops import KernelError, SaSpec
from pluto.packet.ikev2 import Message
from pluto.packet.ikev2_payloads import NotifyPayload

if TYPE_CHECKING:
    from pluto.connections.connection import Connection
    from pluto.engine.core import Pluto

NAT_KEEPALIVE = b"\xff"  # RFC 3948 §2.3
# The address hashed in place of ours when encapsulation is forced: nobody has it.
_UNSPECIFIED = {4: ipaddress.ip_address("0.0.0.0"), 6: ipaddress.ip_address("::")}


def our_notifies(conn: Connection, spi_i: bytes, spi_r: bytes, local: Endpoint,
                 remote: Endpoint) -> list[NotifyPayload]:
    """NAT_DETECTION_SOURCE_IP and _DESTINATION_IP for an IKE_SA_INIT message."""
    notifies = natd_notifies(spi_i, spi_r, local, remote)
    if conn.encapsulation == "yes":
        fake = natd_notifies(spi_i, spi_r, (_UNSPECIFIED[local[0].version], 0), remote)
        notifies[0] = fake[0]
    return notifies


def detected(core: Pluto, ike: IkeSa, msg: Message, local: Endpoint,
             remote: Endpoint) -> None:
    """Record what the NAT_DETECTION notifies of the peer's IKE_SA_INIT message ``msg`` say
    about the path ``local``-``remote``; the hashes cover the SPIs of that very message."""
    result = detect_nat(msg.all(NotifyPayload), msg.ispi, msg.rspi, local, remote)
    if result is None:
        ike.logger.debug("nattraversal", "peer sent no NAT_DETECTION notifies: no NAT-T")
        return
    if ike.conn.encapsulation == "no":
        ike.logger.debug("nattraversal", "encapsulation=no: ignoring NAT detection")
        return
    if ike.conn.encapsulation == "yes":  # our faked hash tells the peer so; we act on it too
        result = NatDetection(us_behind_nat=True, peer_behind_nat=result.peer_behind_nat)
    ike.nat_us, ike.nat_peer = result.us_behind_nat, result.peer_behind_nat
    ike.encapsulate = result.nat and bool(core.options.natikeport)
    if not result.nat:
        ike.logger.debug("nattraversal", "NAT-Traversal: no NAT detected")
        return
    who = "both are NATed" if ike.nat_us and ike.nat_peer else \
        "i am NATed" if ike.nat_us else "peer is NATed"
    ike.logger.log(f"NAT-Traversal: Result using RFC 7296: {who}")


def float_initiator(core: Pluto, ike: IkeSa) -> None:
    """With a NAT on the path, IKE_AUTH and what follows go between NAT-T ports (§2.23)."""
    port = core.options.natikeport
    if not ike.encapsulate or ike.local[1] == port:
        return
    old = ike.remote
    core.states.move(ike, (ike.local[0], port), (ike.remote[0], port))
    ike.logger.debug("nattraversal", f"floating from {format_endpoint(old)} to "
                                     f"{format_endpoint(ike.remote)}")


def request_from(core: Pluto, ike: IkeSa, local: Endpoint, remote: Endpoint) -> None:
    """An authenticated request came from ``remote`` to ``local``: follow a NATed peer.

    Before the IKE SA is established this is the initiator's float to the NAT-T port (the
    IKE_AUTH request). After that only a peer behind a NAT is followed. Either way only once
    the message has passed its integrity check (§2.23): a forged packet cannot move the SA.
    """
    if not ike.encapsulate or (local, remote) == (ike.local, ike.remote):
        return
    old = ike.remote
    if not ike.kind.established:
        core.states.move(ike, local, remote)
        ike.logger.debug("nattraversal", f"peer floated from {format_endpoint(old)} to "
                                         f"{format_endpoint(remote)}")
        return
    if not ike.nat_peer:
        return
    core.states.move(ike, local, remote)
    ike.logger.log(f"new NAT mapping for #{ike.serial}, was {format_endpoint(old)}, now "
                   f"{format_endpoint(remote)}")
    for child in core.states.children_of(ike):
        _move_child(core, ike, child)


def _move_child(core: Pluto, ike: IkeSa, child: ChildSa) -> None:
    """Point the Child SA's kernel SAs at the new encapsulation ports (and address).

    A kernel that can (``update_sa``, XFRM_MSG_UPDSA) changes the ports of the installed SA,
    which keeps its sequence numbers and replay window: re-adding it would restart the
    outbound sequence at 1 and the peer's anti-replay check would drop those packets. An SA
    whose identity (the destination address) changes is deleted and added again.
    """
    sport, dport = encap_ports(ike)
    update = getattr(core.kernel, "update_sa", None)
    outbound = [sa for sa in child.sas if sa.id.spi != child.inbound_spi]
    old_peer = outbound[0].id.dst if outbound else ike.remote[0]
    moved: list[SaSpec] = []
    for sa in child.sas:
        inbound = sa.id.spi == child.inbound_spi
        if inbound:
            new = replace(sa, src=ike.remote[0], encap_sport=dport, encap_dport=sport)
        else:
            new = replace(sa, id=replace(sa.id, dst=ike.remote[0]), encap_sport=sport,
                          encap_dport=dport)
        try:
            if update is not None and new.id == sa.id:
                update(new)
            else:
                core.kernel.delete_sa(sa.id)
                core.kernel.add_sa(new)
        except KernelError as err:
            child.logger.log(f"kernel: moving the SA to the new NAT mapping: {err}")
        moved.append(new)
    child.sas[:] = moved
    _move_policies(core, child, old_peer, ike.remote[0])
    child.logger.debug("nattraversal", f"#{child.serial}: ESP in UDP now "
                                       f"{sport}<->{format_endpoint(ike.remote)}")


def _move_policies(core: Pluto, child: ChildSa, old_peer, new_peer) -> None:
    """A NAT that changed its address too: the tunnel templates of the Child SA's policies
    name the peer's address, so they are replaced (UPDPOLICY keeps the selectors)."""
    if old_peer == new_peer:
        return
    moved = []
    for policy in child.policies:
        new = replace(policy,
                      tunnel_src=new_peer if policy.tunnel_src == old_peer else policy.tunnel_src,
                      tunnel_dst=new_peer if policy.tunnel_dst == old_peer else policy.tunnel_dst)
        try:
            core.kernel.add_policy(new, update=True)
        except KernelError as err:
            child.logger.log(f"kernel: moving the policy to the new NAT mapping: {err}")
        moved.append(new)
    child.policies[:] = moved


def ike_port_endpoint(ike: IkeSa) -> Endpoint:
    """Our end of ``ike`` as connections name it (address, IKE port): not the NAT-T port the
    IKE SA may have floated to."""
    return (ike.local[0], ike.conn.this.ikeport)


def same_path(ike: IkeSa, local: Endpoint, remote: Endpoint) -> bool:
    """Whether ``ike`` runs between the ends (address, IKE port) ``local`` and ``remote``; a
    floated IKE SA counts by its addresses (the NAT may have changed the peer's port)."""
    if (ike.local, ike.remote) == (local, remote):
        return True
    return ike.encapsulate and (ike.local[0], ike.remote[0]) == (local[0], remote[0])


def encap_ports(ike: IkeSa) -> tuple[int | None, int | None]:
    """(our port, the peer's port) for ESP in UDP, (None, None) without encapsulation."""
    if not ike.encapsulate or ike.local is None or ike.remote is None:
        return None, None
    return ike.local[1], ike.remote[1]


def established(core: Pluto, ike: IkeSa) -> None:
    """An IKE SA is established (IKE_AUTH, or a rekey taking over its predecessor, whose
    path it inherits, NAT and all): the end behind a NAT starts its keepalives."""
    old = core.states.ike(ike.rekey_of) if ike.rekey_of else None
    if old is not None:
        ike.nat_us, ike.nat_peer, ike.encapsulate = old.nat_us, old.nat_peer, old.encapsulate
    start_keepalives(core, ike)


# --- keepalives ----------------------------------------------------------------------------


def start_keepalives(core: Pluto, ike: IkeSa) -> None:
    """The end behind a NAT (or any encapsulating end with force_keepalive) sends keepalives."""
    delay = core.options.keep_alive
    if delay <= 0 or not ike.encapsulate or not (ike.nat_us or core.options.force_keepalive):
        return
    core.schedule(ike, "keepalive", delay, lambda: _keepalive_due(core, ike))


def _keepalive_due(core: Pluto, ike: IkeSa) -> None:
    if core.states.get(ike.serial) is not ike or ike.rekeyed_to:
        return
    send = getattr(core.transport, "send_keepalive", None)
    if send is None:
        ike.logger.debug("nattraversal", "the transport cannot send NAT keepalives")
        return
    ike.logger.debug("nattraversal", f"sending NAT-T keepalive to "
                                     f"{format_endpoint(ike.remote)}")
    send(ike.local, ike.remote)
    start_keepalives(core, ike)

