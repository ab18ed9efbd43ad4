"""The ``nostack`` kernel back end (``--noklips``): SAs and policies recorded in memory.

pluto(8) describes running with ``--noklips`` to test negotiation without touching the
kernel. This back end answers every :class:`~pluto.kernel.ops.KernelOps` call the way the
kernel's XFRM would, including its errors (a duplicate SA or policy is ``EEXIST``, a missing SA
``ESRCH``, a missing policy ``ENOENT``), so the core's error paths behave the same on both back
ends. It carries no traffic: counters stay at zero.

For in-process tests it also plays the kernel's part in on-demand keying and expiry:
:meth:`NoStack.outbound_packet` is what a packet leaving through a trap policy (one with no
SA of its reqid) causes, an ACQUIRE; :meth:`NoStack.expire` is the kernel's soft or hard
EXPIRE of an SA (a hard one deletes the SA first, as XFRM does).
"""

from __future__ import annotations

import errno
import ipaddress
import itertools
from dataclasses import dataclass

from pluto.crypto.rand import RandomSource
from pluto.engine.host import Clock
from pluto.kernel.ops import (
    MIN_AUTO_SPI,
    IPAddress,
    KernelError,
    PolicySpec,
    SaCounters,
    SaId,
    SaSpec,
)
from pluto.log import Logger, null_logger

# Highest SPI per protocol. IPComp's CPI is 16 bits and RFC 3173 §4.1 keeps 61440-65535 for
# private use, so negotiated CPIs stay below.
_MAX_SPI = {"esp": 0xFFFFFFFF, "ah": 0xFFFFFFFF, "comp": 61439}


def format_sa_id(sa: SaId) -> str:
    """``esp.1234abcd@198.51.100.23``, the shape libreswan prints SAs in."""
    return f"{sa.proto}.{sa.spi:x}@{sa.dst}"


@dataclass(frozen=True)
class InstalledSa:
    spec: SaSpec
    add_time: float  # wall clock, for status (add_time=...)


PolicyKey = tuple[str, object, object]  # direction, src selector, dst selector


def policy_key(policy: PolicySpec) -> PolicyKey:
    # XFRM identifies a policy by its selector and direction; the template may change.
    return (policy.direction, policy.src_selector, policy.dst_selector)


class NoStack:
    """KernelOps in memory. Randomness and time are injected, so tests are deterministic."""

    name = "nostack"

    def __init__(self, rand: RandomSource, clock: Clock, logger: Logger | None = None) -> None:
        self._rand = rand
        self._clock = clock
        self._logger = logger or null_logger()
        self._larval: set[SaId] = set()  # allocated SPIs not yet filled in by add_sa
        self._sas: dict[SaId, InstalledSa] = {}
        self._updated: list[SaId] = []  # SAs changed in place by update_sa, in order
        self._policies: dict[PolicyKey, PolicySpec] = {}
        self._acquire_seq = itertools.count(1)

    # --- SPIs ---------------------------------------------------------------------------

    def allocate_spi(self, proto: str, src: IPAddress, dst: IPAddress) -> int:
        high = _MAX_SPI.get(proto)
        if high is None:
            raise KernelError("allocate SPI", errno.EPROTONOSUPPORT,
                              f"protocol {proto!r} is not esp, ah or comp")
        while True:
            spi = self._rand.randint(MIN_AUTO_SPI, high)
            sa_id = SaId(dst, spi, proto)
            if sa_id not in self._larval and sa_id not in self._sas:
                break
        # Like XFRM's ALLOCSPI, the SPI is held by a larval SA until add_sa or delete_sa.
        self._larval.add(sa_id)
        self._logger.debug("kernel", f"nostack: allocated SPI {format_sa_id(sa_id)} "
                                     f"for SAs from {src}")
        return spi

    # --- SAs ----------------------------------------------------------------------------

    def add_sa(self, sa: SaSpec) -> None:
        if sa.id in self._sas:
            raise KernelError("add SA", errno.EEXIST,
                              f"SA {format_sa_id(sa.id)} already exists")
        self._larval.discard(sa.id)
        self._sas[sa.id] = InstalledSa(sa, self._clock.wall())
        self._logger.debug("kernel", f"nostack: added SA {format_sa_id(sa.id)} "
                                     f"{sa.src}->{sa.id.dst} {sa.mode} reqid={sa.reqid}")

    def delete_sa(self, sa: SaId) -> None:
        if sa in self._sas:
            del self._sas[sa]
        elif sa in self._larval:
            self._larval.discard(sa)
        else:
            raise KernelError("delete SA", errno.ESRCH, f"no SA {format_sa_id(sa)}")
        self._logger.debug("kernel", f"nostack: deleted SA {format_sa_id(sa)}")

    def update_sa(self, sa: SaSpec) -> None:
        """Replace an installed SA's description in place (XFRM_MSG_UPDSA's job: a NAT
        port change), keeping its place and add time; the SA must exist."""
        installed = self._sas.get(sa.id)
        if installed is None:
            raise KernelError("update SA", errno.ESRCH, f"no SA {format_sa_id(sa.id)}")
        self._sas[sa.id] = InstalledSa(sa, installed.add_time)
        self._updated.append(sa.id)
        self._logger.debug("kernel", f"nostack: updated SA {format_sa_id(sa.id)} "
                                     f"encap {sa.encap_sport}->{sa.encap_dport}")

    def sa_counters(self, sa: SaId) -> SaCounters:
        installed = self._sas.get(sa)
        if installed is None:
            raise KernelError("read SA counters", errno.ESRCH, f"no SA {format_sa_id(sa)}")
        return SaCounters(bytes=0, packets=0, add_time=installed.add_time, use_time=None)

    # --- policies -----------------------------------------------------------------------

    def add_policy(self, policy: PolicySpec, update: bool = False) -> None:
        key = policy_key(policy)
        if update:  # UPDPOLICY: replaces the template, or adds the policy
            self._policies[key] = policy
            self._logger.debug("kernel", f"nostack: updated policy {_describe_policy(policy)}")
            return
        if key in self._policies:
            raise KernelError("add policy", errno.EEXIST,
                              f"policy {_describe_policy(policy)} already exists")
        self._policies[key] = policy
        self._logger.debug("kernel", f"nostack: added policy {_describe_policy(policy)}")

    def delete_policy(self, policy: PolicySpec) -> None:
        key = policy_key(policy)
        if key not in self._policies:
            raise KernelError("delete policy", errno.ENOENT,
                              f"no policy {_describe_policy(policy)}")
        del self._policies[key]
        self._logger.debug("kernel", f"nostack: deleted policy {_describe_policy(policy)}")

    def forget_sa(self, sa: SaId) -> None:
        """The kernel removed ``sa`` on its own (hard expire): nothing to delete later."""
        self._sas.pop(sa, None)

    # --- the kernel's own events (tests) ------------------------------------------------

    def outbound_packet(self, src: IPAddress, dst: IPAddress, ip_proto: int = 0):
        """A packet from ``src`` to ``dst`` leaves: the :class:`Acquire` the kernel would
        send when the out policy it matches has no SA of its reqid, else None."""
        from pluto.kernel.xfrm_monitor import Acquire

        for policy in self._policies.values():
            if policy.direction != "out" or src not in policy.src_selector \
                    or dst not in policy.dst_selector:
                continue
            if any(installed.spec.reqid == policy.reqid and installed.spec.src == policy.tunnel_src
                   and installed.spec.id.dst == policy.tunnel_dst
                   for installed in self._sas.values()):
                return None  # the packet would leave through that SA
            width = 32 if src.version == 4 else 128
            return Acquire(src=policy.tunnel_src, dst=policy.tunnel_dst, proto=policy.proto,
                           src_selector=ipaddress.ip_network(f"{src}/{width}"),
                           dst_selector=ipaddress.ip_network(f"{dst}/{width}"),
                           ip_proto=ip_proto, sport=0, dport=0,
                           policy_src=policy.src_selector, policy_dst=policy.dst_selector,
                           policy_direction="out", policy_index=0, reqid=policy.reqid,
                           seq=next(self._acquire_seq))
        return None

    def expire(self, sa: SaId, hard: bool):
        """The :class:`Expire` message for ``sa``; a hard expire deletes it, as XFRM does."""
        from pluto.kernel.xfrm_monitor import Expire

        installed = self._sas.get(sa)
        if installed is None:
            raise KeyError(f"no SA {format_sa_id(sa)}")
        if hard:
            del self._sas[sa]
        return Expire(sa=sa, src=installed.spec.src, reqid=installed.spec.reqid, hard=hard,
                      bytes=0, packets=0)

    # --- what is installed (status, tests) ---------------------------------------------

    def sa(self, sa: SaId) -> SaSpec | None:
        installed = self._sas.get(sa)
        return None if installed is None else installed.spec

    def installed_sas(self) -> list[SaSpec]:
        """The SAs in the order they were added."""
        return [installed.spec for installed in self._sas.values()]

    def installed_policies(self) -> list[PolicySpec]:
        """The policies in the order they were added."""
        return list(self._policies.values())

    def updated_sas(self) -> list[SaId]:
        """The SAs update_sa changed in place, in the order it did (one entry per call)."""
        return list(self._updated)

    def larval_spis(self) -> list[SaId]:
        """SPIs allocated and not yet used by add_sa nor released by delete_sa."""
        return sorted(self._larval, key=lambda s: (s.proto, str(s.dst), s.spi))

    def describe(self) -> list[str]:
        """One line per SA and policy, for debugging and test failure messages."""
        lines = []
        for installed in self._sas.values():
            spec = installed.spec
            lines.append(f"SA {format_sa_id(spec.id)} {spec.src}->{spec.id.dst} {spec.mode} "
                         f"{spec.src_selector}->{spec.dst_selector} reqid={spec.reqid}")
        for policy in self._policies.values():
            lines.append(f"policy {_describe_policy(policy)}")
        return lines


def _describe_policy(policy: PolicySpec) -> str:
    return (f"{policy.src_selector}->{policy.dst_selector} dir {policy.direction} "
            f"{policy.proto}/{policy.mode} {policy.tunnel_src}->{policy.tunnel_dst} "
            f"reqid={policy.reqid}")
