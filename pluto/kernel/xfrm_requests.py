"""Turn KernelOps specs (SaSpec, PolicySpec, SaId) into XFRM requests.

Each builder returns a :class:`Request`: the message type, the struct's field values and the
attribute list, ready for :func:`pluto.kernel.xfrm_messages.encode_request`. The choices
follow what ``ip xfrm`` sends for the same command, so the tests can compare bytes:
unlimited byte/packet counts and no timers unless asked; the replay window in the struct
when it fits in a byte, otherwise (and always with ESN) in XFRMA_REPLAY_ESN_VAL.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any

from pluto.kernel import xfrm_algorithms as algorithms
from pluto.kernel.ops import IPAddress, IPNetwork, PolicySpec, SaId, SaSpec
from pluto.kernel.xfrm_messages import (
    IPPROTO,
    UDP_ENCAP_ESPINUDP,
    XFRM_MODE_TRANSPORT,
    XFRM_MODE_TUNNEL,
    XFRM_POLICY_ALLOW,
    XFRM_POLICY_FWD,
    XFRM_POLICY_IN,
    XFRM_POLICY_OUT,
    XFRM_STATE_ESN,
    XfrmMsg,
)
from pluto.kernel.xfrm_structs import XFRM_INF, lifetime_cfg

DIRECTIONS = {"in": XFRM_POLICY_IN, "out": XFRM_POLICY_OUT, "fwd": XFRM_POLICY_FWD}
MODES = {"transport": XFRM_MODE_TRANSPORT, "tunnel": XFRM_MODE_TUNNEL}
ALL_ALGORITHMS = 0xFFFFFFFF  # a template accepts any algorithm (aalgos/ealgos/calgos)


@dataclass(frozen=True)
class Request:
    msg_type: int
    fields: dict[str, Any]
    attrs: list[tuple[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class SaLifetime:
    """Soft and hard limits of an SA; None is unlimited (bytes, packets) or no timer."""

    soft_bytes: int | None = None
    hard_bytes: int | None = None
    soft_packets: int | None = None
    hard_packets: int | None = None
    soft_seconds: int | None = None
    hard_seconds: int | None = None

    @classmethod
    def of(cls, sa: SaSpec) -> SaLifetime:
        """The limits an SaSpec carries."""
        return cls(soft_bytes=sa.soft_lifetime_bytes or None,
                   hard_bytes=sa.lifetime_bytes or None,
                   soft_packets=sa.soft_lifetime_packets or None,
                   hard_packets=sa.lifetime_packets or None,
                   soft_seconds=int(sa.soft_lifetime_seconds) or None,
                   hard_seconds=int(sa.lifetime_seconds) or None)

    def cfg(self) -> dict[str, int]:
        def volume(limit: int | None) -> int:
            return XFRM_INF if limit is None else limit

        return lifetime_cfg(
            soft_bytes=volume(self.soft_bytes), hard_bytes=volume(self.hard_bytes),
            soft_packets=volume(self.soft_packets), hard_packets=volume(self.hard_packets),
            soft_add_seconds=self.soft_seconds or 0, hard_add_seconds=self.hard_seconds or 0)


def family(address: IPAddress | IPNetwork) -> int:
    return socket.AF_INET if address.version == 4 else socket.AF_INET6


def selector(src: IPNetwork, dst: IPNetwork, proto: int = 0, sport: int = 0,
             dport: int = 0) -> dict[str, Any]:
    """A ``xfrm_selector`` for traffic from ``src`` to ``dst`` (ports only with ``proto``)."""
    return {
        "daddr": dst.network_address, "saddr": src.network_address,
        "dport": dport, "dport_mask": 0xFFFF if dport else 0,
        "sport": sport, "sport_mask": 0xFFFF if sport else 0,
        "family": family(src), "prefixlen_d": dst.prefixlen, "prefixlen_s": src.prefixlen,
        "proto": proto,
    }


def _proto(name: str) -> int:
    try:
        return IPPROTO[name]
    except KeyError:
        raise algorithms.UnknownAlgorithm(f"protocol {name!r} is not esp, ah or comp") from None


def _mark_attrs(mark: tuple[int, int] | None, if_id: int | None) -> list[tuple[str, Any]]:
    attrs: list[tuple[str, Any]] = []
    if mark is not None:
        attrs.append(("XFRMA_MARK", {"v": mark[0], "m": mark[1]}))
    if if_id is not None:
        attrs.append(("XFRMA_IF_ID", if_id))
    return attrs


def _algorithm_attrs(sa: SaSpec) -> list[tuple[str, Any]]:
    if sa.id.proto == "comp":
        return [("XFRMA_ALG_COMP", {"alg_name": algorithms.compression(sa.encrypt or "DEFLATE"),
                                    "alg_key_len": 0, "alg_key": b""})]
    attrs: list[tuple[str, Any]] = []
    aead = algorithms.aead(sa.encrypt) if sa.encrypt else None
    if aead is not None:
        attrs.append(("XFRMA_ALG_AEAD", {"alg_name": aead.name,
                                         "alg_key_len": len(sa.encrypt_key) * 8,
                                         "alg_icv_len": aead.icv_bits,
                                         "alg_key": sa.encrypt_key}))
    elif sa.encrypt is not None and sa.id.proto == "esp":
        attrs.append(("XFRMA_ALG_CRYPT", {"alg_name": algorithms.encryption(sa.encrypt),
                                          "alg_key_len": len(sa.encrypt_key) * 8,
                                          "alg_key": sa.encrypt_key}))
    if sa.integ is not None:
        integ = algorithms.integrity(sa.integ)
        attrs.append(("XFRMA_ALG_AUTH_TRUNC", {"alg_name": integ.name,
                                               "alg_key_len": len(sa.integ_key) * 8,
                                               "alg_trunc_len": integ.trunc_bits,
                                               "alg_key": sa.integ_key}))
    return attrs


def _sa_selector(sa: SaSpec) -> dict[str, Any]:
    # An SA for all traffic gets an unspecified selector, as ip-xfrm(8) sends without "sel";
    # the kernel then gives the selector the SA's own family.
    if sa.src_selector.prefixlen == 0 and sa.dst_selector.prefixlen == 0:
        return {"family": 0}
    return selector(sa.src_selector, sa.dst_selector)


def add_sa(sa: SaSpec, lifetime: SaLifetime | None = None, update: bool = False,
           mark: tuple[int, int] | None = None, if_id: int | None = None) -> Request:
    """NEWSA, or UPDSA (``update``) to fill in an SPI reserved by ALLOCSPI or to change the
    encapsulation ports of an installed SA."""
    lifetime = lifetime or SaLifetime.of(sa)
    esn_attr = sa.esn or sa.replay_window > 255
    fields = {
        "sel": _sa_selector(sa),
        "id": {"daddr": sa.id.dst, "spi": sa.id.spi, "proto": _proto(sa.id.proto)},
        "saddr": sa.src,
        "lft": lifetime.cfg(),
        "reqid": sa.reqid,
        "family": family(sa.src),
        "mode": MODES[sa.mode],
        "replay_window": 0 if esn_attr else sa.replay_window,
        "flags": XFRM_STATE_ESN if sa.esn else 0,
    }
    attrs = _algorithm_attrs(sa)
    if sa.encap_sport is not None and sa.encap_dport is not None:
        attrs.append(("XFRMA_ENCAP", {"encap_type": UDP_ENCAP_ESPINUDP,
                                      "encap_sport": sa.encap_sport,
                                      "encap_dport": sa.encap_dport, "encap_oa": None}))
    if esn_attr:
        # Like ip-xfrm(8): the fixed part only; the kernel sizes the bitmap from bmp_len.
        attrs.append(("XFRMA_REPLAY_ESN_VAL", {"bmp_len": (sa.replay_window + 31) // 32,
                                               "replay_window": sa.replay_window}))
    attrs += _mark_attrs(mark, if_id)
    return Request(XfrmMsg.UPDSA if update else XfrmMsg.NEWSA, fields, attrs)


def sa_id(sa: SaId, src: IPAddress | None = None, get: bool = False) -> Request:
    """DELSA (or GETSA with ``get``); ``src`` narrows the match like ip's ``src``."""
    fields = {"daddr": sa.dst, "spi": sa.spi, "family": family(sa.dst),
              "proto": _proto(sa.proto)}
    attrs = [("XFRMA_SRCADDR", {"addr": src})] if src is not None else []
    return Request(XfrmMsg.GETSA if get else XfrmMsg.DELSA, fields, attrs)


def allocate_spi(proto: str, src: IPAddress, dst: IPAddress, low: int, high: int,
                 reqid: int = 0, mode: str = "transport") -> Request:
    """ALLOCSPI: a larval SA from ``src`` to ``dst`` with a free SPI in [low, high]."""
    info = {
        "sel": {"family": 0},
        "id": {"daddr": dst, "spi": 0, "proto": _proto(proto)},
        "saddr": src,
        "reqid": reqid,
        "family": family(dst),
        "mode": MODES[mode],
    }
    return Request(XfrmMsg.ALLOCSPI, {"info": info, "min": low, "max": high})


def templates(policy: PolicySpec) -> list[dict[str, Any]]:
    """The policy's transforms, innermost first (``comp+esp``: IPComp, then ESP).

    In tunnel mode the innermost transform builds the tunnel and the others ride on it in
    transport mode; IPComp is optional because the kernel skips compressing small packets.
    """
    result = []
    tunnel = policy.mode == "tunnel"
    for index, proto in enumerate(policy.proto.split("+")):
        this_tunnel = tunnel and index == 0
        result.append({
            "id": {"daddr": policy.tunnel_dst if tunnel else None, "spi": 0,
                   "proto": _proto(proto)},
            "family": family(policy.tunnel_dst),
            "saddr": policy.tunnel_src if tunnel else None,
            "reqid": policy.reqid,
            "mode": XFRM_MODE_TUNNEL if this_tunnel else XFRM_MODE_TRANSPORT,
            "optional": 1 if proto == "comp" else 0,
            "aalgos": ALL_ALGORITHMS, "ealgos": ALL_ALGORITHMS, "calgos": ALL_ALGORITHMS,
        })
    return result


def add_policy(policy: PolicySpec, update: bool = False, proto: int = 0, sport: int = 0,
               dport: int = 0, mark: tuple[int, int] | None = None,
               if_id: int | None = None) -> Request:
    """NEWPOLICY (UPDPOLICY with ``update``) with the policy's templates."""
    fields = {
        "sel": selector(policy.src_selector, policy.dst_selector, proto, sport, dport),
        "lft": lifetime_cfg(),
        "priority": policy.priority,
        "dir": DIRECTIONS[policy.direction],
        "action": XFRM_POLICY_ALLOW,
    }
    attrs = [("XFRMA_TMPL", {"templates": templates(policy)})]
    attrs += _mark_attrs(mark, if_id)
    return Request(XfrmMsg.UPDPOLICY if update else XfrmMsg.NEWPOLICY, fields, attrs)


def policy_id(direction: str, src: IPNetwork, dst: IPNetwork, get: bool = False,
              mark: tuple[int, int] | None = None, if_id: int | None = None) -> Request:
    """DELPOLICY (GETPOLICY with ``get``): XFRM names a policy by selector and direction."""
    fields = {"sel": selector(src, dst), "dir": DIRECTIONS[direction]}
    return Request(XfrmMsg.GETPOLICY if get else XfrmMsg.DELPOLICY, fields,
                   _mark_attrs(mark, if_id))


def as_network(address: IPAddress) -> IPNetwork:
    return ipaddress.ip_network(address)
