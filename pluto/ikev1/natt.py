"""IKEv1 NAT traversal (RFC 3947, RFC 3948): announcing it, detecting a NAT, floating.

    MI1 / MR1     the RFC 3947 vendor ID: both ends can do it (the responder answers with
                  it only when the initiator sent it)
    MI2 / MR2     NAT-D payloads, HASH(CKY-I | CKY-R | IP | port) with the negotiated hash:
                  first the receiver's (destination) address, then the sender's own
    MI3           a NAT on the path: the initiator moves to the NAT-T port (non-ESP marker,
                  added by the server's socket) and the responder answers where MI3 came from
    Quick Mode    UDP-Encapsulated-Tunnel (3) / -Transport (4) modes; NAT-OAi and NAT-OAr
                  with the original addresses in transport mode
    Child SAs     ESP in UDP between the ISAKMP SA's ports (the IKE SA's ``encapsulate``,
                  used by pluto/engine/child_sas.py as for IKEv2)

``encapsulation=yes`` forces ESP in UDP without a NAT as libreswan does (our own NAT-D hash
is made not to match); ``encapsulation=no`` ignores what the hashes say.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pluto.engine.host import Endpoint, format_endpoint
from pluto.ikev1.states import IsakmpSa
from pluto.ikev2 import nat as shared_nat
from pluto.packet.ikev1 import (
    NatDetectionPayload,
    NatOriginalAddressPayload,
    Payload,
    VendorIdPayload,
)
from pluto.packet.ikev1_types import EncapsulationMode

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

# RFC 3947 §3.1: the MD5 hash of "RFC 3947"
VID_RFC3947 = hashlib.md5(b"RFC 3947").digest()  # noqa: S324 (a fixed label, not security)
_UNSPECIFIED = {4: ipaddress.ip_address("0.0.0.0"), 6: ipaddress.ip_address("::")}


def vendor_ids(core: Pluto) -> list[Payload]:
    """What MI1 announces: NAT-T, unless the core has no NAT-T port."""
    return [VendorIdPayload(VID_RFC3947)] if core.options.natikeport else []


def peer_announced(payloads: Iterable[Payload]) -> bool:
    return any(isinstance(p, VendorIdPayload) and p.data == VID_RFC3947 for p in payloads)


def natd_hash(isakmp: IsakmpSa, address, port: int) -> bytes:
    """RFC 3947 §3.2: HASH(CKY-I | CKY-R | IP | Port) with the negotiated hash function."""
    data = isakmp.spi_i + isakmp.spi_r + address.packed + port.to_bytes(2, "big")
    return isakmp.chosen.prf.implementation().hash(data)


def natd_payloads(isakmp: IsakmpSa) -> list[Payload]:
    """NAT-D of the peer's address as we send to it, then of our own."""
    local, remote = isakmp.local, isakmp.remote
    ours = local
    if isakmp.conn.encapsulation == "yes":  # a hash nobody matches: "we are behind a NAT"
        ours = (_UNSPECIFIED[local[0].version], 0)
    return [NatDetectionPayload(natd_hash(isakmp, *remote)),
            NatDetectionPayload(natd_hash(isakmp, *ours))]


def detect(core: Pluto, isakmp: IsakmpSa, payloads: Iterable[Payload], local: Endpoint,
           remote: Endpoint) -> None:
    """Compare the peer's NAT-D hashes with the path the message really took."""
    hashes = [p.data for p in payloads if isinstance(p, NatDetectionPayload)]
    if len(hashes) < 2:
        isakmp.logger.debug("nattraversal", "peer sent no NAT-D payloads: no NAT-T")
        return
    if isakmp.conn.encapsulation == "no":
        isakmp.logger.debug("nattraversal", "encapsulation=no: ignoring NAT detection")
        return
    us_ok = hashes[0] == natd_hash(isakmp, *local)
    peer_ok = natd_hash(isakmp, *remote) in hashes[1:]
    isakmp.nat_us = not us_ok or isakmp.conn.encapsulation == "yes"
    isakmp.nat_peer = not peer_ok
    nat = isakmp.nat_us or isakmp.nat_peer
    isakmp.encapsulate = nat and bool(core.options.natikeport)
    if not nat:
        isakmp.logger.debug("nattraversal", "NAT-Traversal: no NAT detected")
        return
    who = "both are NATed" if isakmp.nat_us and isakmp.nat_peer else \
        "i am NATed" if isakmp.nat_us else "peer is NATed"
    isakmp.logger.log(f"NAT-Traversal: Result using RFC 3947: {who}")


def float_initiator(core: Pluto, isakmp: IsakmpSa) -> None:
    """MI3 and everything after go between the NAT-T ports (RFC 3947 §4)."""
    shared_nat.float_initiator(core, isakmp)


def phase1_arrival(core: Pluto, isakmp: IsakmpSa, encrypted: bool, local: Endpoint,
                   remote: Endpoint) -> None:
    """The responder waiting for MI3 (or AI2) sees it on the NAT-T port: answer there (RFC 3947
    §4). An initiator moves there only when the NAT-D payloads showed a NAT (or it forces
    encapsulation), so this needs no decision of our own, which Aggressive Mode makes only
    from AI2 itself.

    Like libreswan this happens before the message is authenticated; a forged one can only
    move the half-open SA until the real one, which moves it back, arrives."""
    if isakmp.initiator or isakmp.kind.established or not encrypted or (local, remote) == (isakmp.local, isakmp.remote) \
            or local[1] != core.options.natikeport:
        return
    old = isakmp.remote
    core.states.move(isakmp, local, remote)
    isakmp.logger.debug("nattraversal", f"peer floated from {format_endpoint(old)} to "
                                        f"{format_endpoint(remote)}")


def unfloated_path(core: Pluto, isakmp: IsakmpSa) -> tuple[Endpoint, Endpoint]:
    """The path AI2's NAT-D payloads describe (AI1/AR1's), seen from a responder that AI2
    reached on the NAT-T port: both IKE ports again, the addresses as they are now. A NAT
    that changed the peer's port or an address still shows as a mismatch."""
    local, remote = isakmp.local, isakmp.remote
    if local[1] != core.options.natikeport:
        return local, remote
    return (local[0], isakmp.conn.this.ikeport), (remote[0], isakmp.conn.that.ikeport)


def established(core: Pluto, isakmp: IsakmpSa) -> None:
    """The end behind a NAT keeps its mapping alive (RFC 3948 §2.3)."""
    shared_nat.start_keepalives(core, isakmp)


# --- Quick Mode ----------------------------------------------------------------------------


def quick_mode(isakmp: IsakmpSa, tunnel: bool) -> int:
    """The encapsulation mode attribute for an IPsec SA of this ISAKMP SA."""
    if isakmp.encapsulate:
        return EncapsulationMode.UDP_TUNNEL if tunnel else EncapsulationMode.UDP_TRANSPORT
    return EncapsulationMode.TUNNEL if tunnel else EncapsulationMode.TRANSPORT


def original_addresses(isakmp: IsakmpSa, tunnel: bool, initiator: bool) -> list[Payload]:
    """NAT-OAi, NAT-OAr (RFC 3947 §5.2): transport mode through a NAT only; the addresses
    of the Quick Mode initiator and responder as this end knows them."""
    if tunnel or not isakmp.encapsulate:
        return []
    if initiator:
        mine, theirs = isakmp.local[0], isakmp.remote[0]
        return [NatOriginalAddressPayload.for_address(mine),
                NatOriginalAddressPayload.for_address(theirs)]
    return [NatOriginalAddressPayload.for_address(isakmp.remote[0]),
            NatOriginalAddressPayload.for_address(isakmp.local[0])]


def same_client(isakmp: IsakmpSa, conn, idci, payloads: Iterable[Payload]) -> bool:
    """Whether the Quick Mode initiator's ID ``idci`` names the connection's peer client.

    In transport mode through a NAT the ID is the peer's own (inside) address, which its
    NAT-OAi repeats (RFC 3947 §5.2); the connection knows the NAT's address instead."""
    if idci == conn.that.selector():
        return True
    if conn.policy.tunnel or not isakmp.encapsulate or idci is None:
        return False
    oa = [p for p in payloads if isinstance(p, NatOriginalAddressPayload)]
    if not oa or idci.num_addresses != 1:
        return False
    return ipaddress.ip_address(oa[0].address) == idci.network_address
