"""The real-kernel runner: run a scenario on the host kernel, or inside User-Mode-Linux.

A scenario that needs an ESP data path (``kernel = "esp"`` in its lab.toml) runs on the host
when the host kernel installs ESP SAs, else the whole lab (namespaces, daemons, scripts) runs
inside a UML guest booted with the host root as hostfs; the guest writes its result into the
work directory, which the host reads back. The choice and its reason are printed.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from labs import uml
from labs.kernel_probe import choose_runner
from labs.scenario import ScenarioResult, load, run_here

# What a lab needs inside the guest, beyond the IPsec modules: bridges for the LANs, and
# nic's NAT with iptables-legacy (the UML tree has no nft_chain_nat for nft NAT chains), with
# conntrack's netlink so scenarios can flush NAT mappings (`conntrack -F`).
LAB_MODULES = (*uml.IPSEC_MODULES, "bridge", "nf_tables", "nf_conntrack", "nf_nat", "nft_masq",
               "ip_tables", "iptable_nat", "xt_nat", "xt_MASQUERADE", "xt_tcpudp",
               "nf_conntrack_netlink", "sch_netem")  # netem: the fault-* scenarios
UML_TIMEOUT = 180.0
TOOLS = {"ip": "iproute2", "tcpdump": "tcpdump", "ping": "iputils-ping",
         "iptables-legacy": "iptables", "conntrack": "conntrack"}


def skip_reason(directory: Path) -> str | None:
    """Why this scenario cannot run on this machine (for pytest.skip), or None."""
    if os.geteuid() != 0:
        return "netns scenarios need root (network namespaces, XFRM)"
    missing = [f"{tool} (Debian {package})" for tool, package in TOOLS.items()
               if shutil.which(tool) is None]
    if missing:
        return f"netns scenarios need {', '.join(missing)}: ./run setup installs them"
    runner, why = choose_runner(load(directory).needs_esp)
    if runner == "uml":
        reason = uml.unavailable_reason()
        if reason is not None:
            return f"{why}, and User-Mode-Linux cannot run: {reason}"
    return None


def run_scenario(directory: Path, workdir: Path, prefix: str,
                 announce=print) -> ScenarioResult:
    """Run one scenario on the kernel that can carry it; say which was chosen."""
    spec = load(directory)
    runner, why = choose_runner(spec.needs_esp)
    announce(f"{spec.name}: running on the {'host kernel' if runner == 'host' else 'User-Mode-Linux kernel'} ({why})")
    if runner == "host":
        return run_here(directory, workdir, prefix)
    workdir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "labs.scenario", str(directory), str(workdir), prefix]
    guest = uml.run_in_uml(command, modules=LAB_MODULES, timeout=UML_TIMEOUT,
                           workdir=str(Path(__file__).resolve().parent.parent),
                           prefix=f"pluto-lab-{prefix}")
    result_file = workdir / "result.json"
    if guest.returncode != 0 or not result_file.is_file():
        return ScenarioResult(runner="uml", problems=[
            f"the UML guest did not produce a result:\n{guest.describe()}"])
    return ScenarioResult.from_json(result_file.read_text())
