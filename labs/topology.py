"""Build and tear down a lab: one network namespace per host, one per run for the LANs.

    with Lab("t1", hosts=["west", "east", "nic"], nat="masquerade", capture_dir=d) as lab:
        lab.exec("west", ["ping", "-c1", "198.51.100.23"])

Names: host ``west`` lives in namespace ``<prefix>-west``; the LAN bridges live in
``<prefix>-lans``, each host interface being a veth pair whose other end is a port of its
LAN's bridge. Everything is created inside those namespaces (never in the caller's), so the
same interface names can be used by parallel runs, and deleting the namespaces removes links,
routes, NAT rules and XFRM state in one go. Teardown stops the processes this lab started
(by PID) and deletes its namespaces; it runs on failure, on Ctrl-C and on SIGTERM too.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from labs.capture import start_capture, stop_capture
from labs.hosts import HOSTS, LANS, HostSpec
from labs.nat import nat_commands, nat_ruleset, use_iptables
from labs.shell import LabError, in_netns, namespaces, pids_in, process_name, run, stop_pid

DEFAULT_HOSTS = ("west", "east", "nic", "road", "north")
CLIENT_IF = "eth0"


class Lab:
    def __init__(self, prefix: str, hosts: Iterable[str] = DEFAULT_HOSTS, nat: str = "none",
                 capture_dir: Path | None = None) -> None:
        unknown = [name for name in hosts if name not in HOSTS]
        if unknown:
            raise ValueError(f"unknown lab hosts {unknown}: known are {', '.join(HOSTS)}")
        self.prefix = prefix
        self.hosts = [HOSTS[name] for name in hosts]
        self.nat = nat
        nat_ruleset(nat)  # validates the mode before anything is built
        self.capture_dir = capture_dir
        self.capture_pids: list[int] = []
        self.lans = sorted({a.lan for host in self.hosts for a in host.attachments})

    # --- names ---------------------------------------------------------------------------

    @property
    def lan_netns(self) -> str:
        return f"{self.prefix}-lans"

    def netns(self, host: str) -> str:
        return f"{self.prefix}-{host}"

    def all_netns(self) -> list[str]:
        return [self.lan_netns] + [self.netns(h.name) for h in self.hosts]

    def captures(self) -> dict[str, Path]:
        """LAN name -> its pcap file."""
        if self.capture_dir is None:
            return {}
        return {lan: self.capture_dir / f"{lan}.pcap" for lan in self.lans}

    # --- building --------------------------------------------------------------------------

    def up(self) -> None:
        """Build everything; on any failure (or Ctrl-C) tear down what was built, re-raise."""
        clash = [ns for ns in self.all_netns() if ns in namespaces()]
        if clash:
            raise LabError(f"namespaces {clash} exist already: another lab with prefix "
                           f"{self.prefix!r}? (python -m labs down --prefix {self.prefix})")
        try:
            self._build()
        except BaseException:
            self.down()
            raise

    def _build(self) -> None:
        for ns in self.all_netns():
            run(["ip", "netns", "add", ns])
            self._ip(ns, "link", "set", "lo", "up")
        for lan in self.lans:
            bridge = LANS[lan].bridge
            self._ip(self.lan_netns, "link", "add", bridge, "type", "bridge")
            self._ip(self.lan_netns, "link", "set", bridge, "up")
        for host in self.hosts:
            self._build_host(host)
        for lan, pcap in self.captures().items():
            pcap.parent.mkdir(parents=True, exist_ok=True)
            self.capture_pids.append(start_capture(self.lan_netns, LANS[lan].bridge, pcap))

    def _build_host(self, host: HostSpec) -> None:
        ns = self.netns(host.name)
        for index, attachment in enumerate(host.attachments):
            port = f"{host.name[:6]}{index}"  # the bridge-side end, in the LAN namespace
            self._ip(self.lan_netns, "link", "add", port, "type", "veth", "peer", "name",
                     attachment.ifname, "netns", ns)
            self._ip(self.lan_netns, "link", "set", port, "master", LANS[attachment.lan].bridge)
            self._ip(self.lan_netns, "link", "set", port, "up")
            self._configure(ns, attachment.ifname, attachment.addresses)
        if host.client:
            # A veth pair kept inside the host stands for the client LAN: a link that is up
            # on every kernel (the host kernel here has no dummy driver).
            self._ip(ns, "link", "add", CLIENT_IF, "type", "veth", "peer", "name", "eth0-lan")
            self._ip(ns, "link", "set", "eth0-lan", "up")
            self._configure(ns, CLIENT_IF, host.client)
        if host.gateway:
            self._ip(ns, "route", "add", "default", "via", host.gateway)
        if host.router:
            self._sysctl(ns, "net.ipv4.ip_forward=1")
            self._sysctl(ns, "net.ipv6.conf.all.forwarding=1")
            self._install_nat(ns)

    def _install_nat(self, ns: str) -> None:
        if use_iptables():
            for argv in nat_commands(self.nat):
                run(in_netns(ns, argv))
            return
        ruleset = nat_ruleset(self.nat)
        if ruleset:
            run(in_netns(ns, ["nft", "-f", "-"]), input_text=ruleset)

    def _configure(self, ns: str, ifname: str, addresses: Sequence[str]) -> None:
        for address in addresses:
            extra = ["nodad"] if ":" in address else []  # usable at once, no DAD wait
            self._ip(ns, "addr", "add", address, "dev", ifname, *extra)
        self._ip(ns, "link", "set", ifname, "up")

    @staticmethod
    def _ip(ns: str, *args: str) -> None:
        run(["ip", "-n", ns, *args])

    @staticmethod
    def _sysctl(ns: str, setting: str) -> None:
        run(in_netns(ns, ["sysctl", "-q", "-w", setting]))

    # --- using -----------------------------------------------------------------------------

    def exec(self, host: str, argv: Sequence[str], timeout: float = 30.0,
             check: bool = False) -> subprocess.CompletedProcess:
        return run(in_netns(self.netns(host), argv), check=check, timeout=timeout)

    def leftover_processes(self) -> dict[str, list[tuple[int, str]]]:
        """Processes still living in a host namespace: {host: [(pid, command line)]}."""
        found = {}
        for host in self.hosts:
            pids = pids_in(self.netns(host.name))
            if pids:
                found[host.name] = [(pid, process_name(pid)) for pid in pids]
        return found

    def kernel_state(self) -> dict[str, str]:
        """XFRM states and policies left in each host namespace: {host: ip xfrm output}."""
        found = {}
        for host in self.hosts:
            text = ""
            for what in ("state", "policy"):
                out = run(["ip", "-n", self.netns(host.name), "xfrm", what], check=False)
                text += out.stdout
            if text.strip():
                found[host.name] = text
        return found

    # --- tearing down ----------------------------------------------------------------------

    def down(self) -> list[str]:
        """Stop our captures and anything left in our namespaces, delete the namespaces.

        Returns what could not be removed (empty when all is gone)."""
        for pid in self.capture_pids:
            stop_capture(pid)
        self.capture_pids.clear()
        existing = set(namespaces())
        for ns in self.all_netns():
            if ns not in existing:
                continue
            for pid in pids_in(ns):  # only processes inside namespaces this lab created
                stop_pid(pid)
            run(["ip", "netns", "del", ns], check=False)
        return [ns for ns in self.all_netns() if ns in set(namespaces())]

    def __enter__(self) -> Lab:
        self.up()
        return self

    def __exit__(self, *exc) -> None:
        self.down()
