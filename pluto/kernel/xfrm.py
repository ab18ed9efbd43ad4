"""The ``xfrm`` kernel back end: KernelOps over NETLINK_XFRM.

Every call is one request and its answer (see :mod:`pluto.kernel.xfrm_socket` for why the
socket is our own and not pyroute2's); kernel errors become KernelError(operation, errno,
text) and are logged with the operation and the errno. The back end remembers what it
installed, so :meth:`XfrmKernel.flush` (``--shutdown``, SIGTERM) removes exactly pluto's SAs and
policies and nothing else in the kernel.

SPIs: ALLOCSPI reserves a larval SA with a free SPI in [MIN_AUTO_SPI, max]; the inbound SA is
then installed with UPDSA, which replaces the larval SA (NEWSA would answer EEXIST).
"""

from __future__ import annotations

import errno
import ipaddress
from dataclasses import dataclass

from pluto.kernel import xfrm_requests as requests
from pluto.kernel.ops import (
    MIN_AUTO_SPI,
    IPAddress,
    IPNetwork,
    KernelError,
    PolicySpec,
    SaCounters,
    SaId,
    SaSpec,
)
from pluto.kernel.xfrm_algorithms import UnknownAlgorithm
from pluto.kernel.xfrm_requests import SaLifetime
from pluto.kernel.xfrm_socket import XfrmChannel
from pluto.kernel.xfrm_structs import address_from
from pluto.log import Logger, null_logger

# The reqid of larval SAs (ALLOCSPI): in the range pluto.kernel.sweep recognises as ours,
# and never one the core hands out (those are 16384 + 4n).
LARVAL_REQID = (1 << 30) - 1

# Highest SPI per protocol: IPComp's CPI is 16 bits and RFC 3173 §4.1 keeps 61440-65535
# for private use.
MAX_SPI = {"esp": 0xFFFFFFFF, "ah": 0xFFFFFFFF, "comp": 61439}


def format_sa_id(sa: SaId) -> str:
    """``esp.1234abcd@198.51.100.23``, the shape libreswan prints SAs in."""
    return f"{sa.proto}.{sa.spi:x}@{sa.dst}"


@dataclass(frozen=True)
class InstalledPolicy:
    """A policy as the kernel reports it (GETPOLICY or a dump)."""

    direction: str
    src_selector: IPNetwork
    dst_selector: IPNetwork
    priority: int
    index: int
    templates: tuple[tuple[str, str, IPAddress | None, IPAddress | None, int], ...]
    # (proto, mode, tunnel src, tunnel dst, reqid) per template, innermost first


_DIRECTION_NAMES = {number: name for name, number in requests.DIRECTIONS.items()}
_PROTO_NAMES = {50: "esp", 51: "ah", 108: "comp"}
_MODE_NAMES = {number: name for name, number in requests.MODES.items()}


def _network(raw: bytes, prefixlen: int, family: int) -> IPNetwork:
    return ipaddress.ip_network(f"{address_from(raw, family)}/{prefixlen}", strict=False)


def policy_from_message(msg) -> InstalledPolicy:
    sel = msg["sel"]
    templates = []
    tmpl_attr = msg.get_attr("XFRMA_TMPL")
    for tmpl in (tmpl_attr or {}).get("templates", []):
        tunnel = tmpl["mode"] == requests.XFRM_MODE_TUNNEL
        templates.append((
            _PROTO_NAMES.get(tmpl["id"]["proto"], str(tmpl["id"]["proto"])),
            _MODE_NAMES.get(tmpl["mode"], str(tmpl["mode"])),
            address_from(tmpl["saddr"], tmpl["family"]) if tunnel else None,
            address_from(tmpl["id"]["daddr"], tmpl["family"]) if tunnel else None,
            tmpl["reqid"],
        ))
    return InstalledPolicy(
        direction=_DIRECTION_NAMES.get(msg["dir"], str(msg["dir"])),
        src_selector=_network(sel["saddr"], sel["prefixlen_s"], sel["family"]),
        dst_selector=_network(sel["daddr"], sel["prefixlen_d"], sel["family"]),
        priority=msg["priority"], index=msg["index"], templates=tuple(templates))


class XfrmKernel:
    """KernelOps on the Linux kernel's XFRM, optionally inside a named network namespace."""

    name = "xfrm"

    def __init__(self, logger: Logger | None = None, netns: str | None = None,
                 channel: XfrmChannel | None = None) -> None:
        self._logger = logger or null_logger()
        self._channel = channel or XfrmChannel(netns=netns)
        self._larval: dict[SaId, IPAddress] = {}  # allocated SPI -> peer (source) address
        self._sas: dict[SaId, SaSpec] = {}
        # what add_sa was given beside the spec, so that update_sa sends the same again
        self._sa_extras: dict[SaId, tuple[SaLifetime | None, tuple[int, int] | None,
                                          int | None]] = {}
        self._policies: dict[tuple, PolicySpec] = {}

    def close(self) -> None:
        self._channel.close()

    # --- plumbing -----------------------------------------------------------------------

    def _call(self, operation: str, request: requests.Request, ack: bool = True,
              dump: bool = False, expected: tuple[int, ...] = ()) -> list:
        """``expected``: errnos the caller handles, logged as debug lines only."""
        self._logger.debug("kernel", f"xfrm: {operation}")
        try:
            return self._channel.request(operation, request, dump=dump, ack=ack)
        except KernelError as e:
            if e.errno in expected:
                self._logger.debug("kernel", f"xfrm: {e.args[0]}")
            else:
                self._logger.log(f"ERROR: kernel: {e.args[0]}")
            raise

    @staticmethod
    def _build(operation: str, build, *args, **kwargs) -> requests.Request:
        try:
            return build(*args, **kwargs)
        except UnknownAlgorithm as e:
            raise KernelError(operation, errno.ENOSYS, str(e)) from None

    # --- SPIs ---------------------------------------------------------------------------

    def allocate_spi(self, proto: str, src: IPAddress, dst: IPAddress) -> int:
        operation = f"allocate {proto} SPI for {src}->{dst}"
        if proto not in MAX_SPI:
            raise KernelError(operation, errno.EPROTONOSUPPORT,
                              f"protocol {proto!r} is not esp, ah or comp")
        # LARVAL_REQID marks the reservation as pluto's, for the start-up sweep after a crash
        request = self._build(operation, requests.allocate_spi, proto, src, dst,
                              MIN_AUTO_SPI, MAX_SPI[proto], reqid=LARVAL_REQID)
        answer = self._call(operation, request, ack=False)
        spi = answer[0]["id"]["spi"]
        self._larval[SaId(dst, spi, proto)] = src
        self._logger.debug("kernel", f"xfrm: allocated SPI {format_sa_id(SaId(dst, spi, proto))}")
        return spi

    # --- SAs ----------------------------------------------------------------------------

    def add_sa(self, sa: SaSpec, lifetime: SaLifetime | None = None,
               mark: tuple[int, int] | None = None, if_id: int | None = None) -> None:
        """Install one direction; an SPI we allocated is filled in with UPDSA."""
        update = sa.id in self._larval
        operation = f"{'update' if update else 'add'} SA {format_sa_id(sa.id)}"
        request = self._build(operation, requests.add_sa, sa, lifetime, update=update,
                              mark=mark, if_id=if_id)
        try:
            self._call(operation, request)
        except KernelError as err:
            # The kernel drops an ALLOCSPI reservation after net.core.xfrm_acq_expires (30 s
            # by default): a slow negotiation finds it gone, and adds the SA with that SPI.
            if not (update and err.errno == errno.ESRCH):
                raise
            self._logger.log(f"kernel: the SPI reservation for {format_sa_id(sa.id)} expired "
                             "during the negotiation; adding the SA with NEWSA")
            operation = f"add SA {format_sa_id(sa.id)}"
            self._call(operation, self._build(operation, requests.add_sa, sa, lifetime,
                                              update=False, mark=mark, if_id=if_id))
        self._larval.pop(sa.id, None)
        self._sas[sa.id] = sa
        self._sa_extras[sa.id] = (lifetime, mark, if_id)
        self._logger.debug("kernel", f"xfrm: added SA {format_sa_id(sa.id)} {sa.src}->{sa.id.dst} "
                                     f"{sa.mode} reqid={sa.reqid}")

    def delete_sa(self, sa: SaId) -> None:
        spec = self._sas.get(sa)
        src = spec.src if spec is not None else self._larval.get(sa)
        larval = spec is None and sa in self._larval
        try:
            self._call(f"delete SA {format_sa_id(sa)}", requests.sa_id(sa, src=src),
                       expected=(errno.ESRCH,) if larval else ())
        except KernelError as e:
            # A failed UPDSA can take the larval SA with it: an SPI already gone is released.
            if not (larval and e.errno == errno.ESRCH):
                raise
        self._sas.pop(sa, None)
        self._sa_extras.pop(sa, None)
        self._larval.pop(sa, None)

    def update_sa(self, sa: SaSpec) -> None:
        """Change an installed SA's NAT-T encapsulation ports in place (UPDSA).

        The kernel's xfrm_state_update() keeps the SA (keys, sequence numbers, replay window,
        counters) and copies in the new encapsulation and lifetimes. A delete and re-add would
        restart the outbound sequence numbers at 1, which the peer's anti-replay window drops
        until they pass the old ones (seen in testing/pluto/nat-port-change). UPDSA cannot
        change the SA's addresses (its source is not updated, its destination is its identity):
        when they change, the SA is deleted and added again instead.
        """
        old = self._sas.get(sa.id)
        if old is None or old.src != sa.src:
            if old is not None:
                self.delete_sa(old.id)
            self.add_sa(sa)
            return
        lifetime, mark, if_id = self._sa_extras.get(sa.id, (None, None, None))
        operation = f"update SA {format_sa_id(sa.id)}"
        request = self._build(operation, requests.add_sa, sa, lifetime, update=True,
                              mark=mark, if_id=if_id)
        self._call(operation, request)
        self._sas[sa.id] = sa
        self._logger.debug("kernel", f"xfrm: updated SA {format_sa_id(sa.id)} encap "
                                     f"{sa.encap_sport}->{sa.encap_dport}")

    def forget_sa(self, sa: SaId) -> None:
        """The kernel removed ``sa`` itself (hard expire): flush must not try again."""
        self._sas.pop(sa, None)
        self._sa_extras.pop(sa, None)
        self._larval.pop(sa, None)

    def get_sa(self, sa: SaId):
        """The kernel's ``xfrm_usersa_info`` message for ``sa`` (GETSA)."""
        spec = self._sas.get(sa)
        request = requests.sa_id(sa, src=spec.src if spec else None, get=True)
        return self._call(f"get SA {format_sa_id(sa)}", request, ack=False)[0]

    def sa_counters(self, sa: SaId) -> SaCounters:
        cur = self.get_sa(sa)["curlft"]
        return SaCounters(bytes=cur["bytes"], packets=cur["packets"],
                          add_time=float(cur["add_time"]),
                          use_time=float(cur["use_time"]) if cur["use_time"] else None)

    # --- policies -----------------------------------------------------------------------

    def add_policy(self, policy: PolicySpec, update: bool = False,
                   mark: tuple[int, int] | None = None, if_id: int | None = None) -> None:
        """NEWPOLICY; ``update`` replaces the templates of an existing policy (UPDPOLICY)."""
        operation = f"{'update' if update else 'add'} policy {describe_policy(policy)}"
        request = self._build(operation, requests.add_policy, policy, update=update,
                              mark=mark, if_id=if_id)
        self._call(operation, request)
        self._policies[_policy_key(policy)] = policy

    def delete_policy(self, policy: PolicySpec) -> None:
        self._call(f"delete policy {describe_policy(policy)}",
                   requests.policy_id(policy.direction, policy.src_selector,
                                      policy.dst_selector))
        self._policies.pop(_policy_key(policy), None)

    def get_policy(self, direction: str, src: IPNetwork, dst: IPNetwork) -> InstalledPolicy:
        answer = self._call(f"get policy {src}->{dst} dir {direction}",
                            requests.policy_id(direction, src, dst, get=True), ack=False)
        return policy_from_message(answer[0])

    def policies(self) -> list[InstalledPolicy]:
        """Every policy in the kernel (a GETPOLICY dump), ours or not."""
        request = requests.Request(requests.XfrmMsg.GETPOLICY, {})
        return [policy_from_message(msg)
                for msg in self._call("list policies", request, ack=False, dump=True)]

    # --- what pluto installed -----------------------------------------------------------

    def installed_sas(self) -> list[SaSpec]:
        return list(self._sas.values())

    def installed_policies(self) -> list[PolicySpec]:
        return list(self._policies.values())

    def flush(self) -> list[KernelError]:
        """Remove every SA, larval SPI and policy pluto added (``--shutdown``, SIGTERM).

        Carries on past errors (something already gone is not a reason to leave the rest)
        and returns them.
        """
        errors: list[KernelError] = []
        for policy in list(self._policies.values()):
            try:
                self.delete_policy(policy)
            except KernelError as e:
                errors.append(e)
                self._policies.pop(_policy_key(policy), None)
        for sa in list(self._sas) + list(self._larval):
            try:
                self.delete_sa(sa)
            except KernelError as e:
                errors.append(e)
                self._sas.pop(sa, None)
                self._sa_extras.pop(sa, None)
                self._larval.pop(sa, None)
        return errors


def _policy_key(policy: PolicySpec) -> tuple:
    # XFRM names a policy by its direction and selector.
    return (policy.direction, policy.src_selector, policy.dst_selector)


def describe_policy(policy: PolicySpec) -> str:
    return (f"{policy.src_selector}->{policy.dst_selector} dir {policy.direction} "
            f"{policy.proto}/{policy.mode} {policy.tunnel_src}->{policy.tunnel_dst} "
            f"reqid={policy.reqid}")
