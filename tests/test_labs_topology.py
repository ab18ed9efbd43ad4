"""The lab topology on the host kernel: addresses and routes of DESIGN.md §10, NAT on nic,
captures, and teardown that leaves nothing behind (also when building is interrupted)."""

import os
import shutil
import subprocess

import pytest

from labs import topology
from labs.shell import namespaces
from labs.topology import Lab

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces)"),
    pytest.mark.skipif(not all(shutil.which(t) for t in ("ping", "iptables-legacy", "tcpdump")),
                       reason="needs ping, iptables-legacy and tcpdump (./run setup installs "
                              "them)"),
]


def _prefix(name):
    return f"tl{name}{os.getpid()}"


def _ping(lab, host, *args):
    return lab.exec(host, ["ping", "-n", "-c", "1", "-W", "2", *args]).returncode


def test_addresses_routes_nat_and_teardown(tmp_path):
    prefix = _prefix("a")
    with Lab(prefix, nat="masquerade", capture_dir=tmp_path) as lab:
        addresses = lab.exec("west", ["ip", "-brief", "addr"]).stdout
        assert "198.51.100.45/24" in addresses and "198.18.1.254/24" in addresses
        assert "2001:db8:1:2::45/64" in addresses
        assert "default via 203.0.113.254" in lab.exec("north", ["ip", "route"]).stdout
        assert _ping(lab, "west", "198.51.100.23") == 0
        assert _ping(lab, "west", "2001:db8:1:2::23") == 0
        assert _ping(lab, "road", "198.51.100.23") == 0
        assert _ping(lab, "north", "198.51.100.45") == 0
        # no route for the client subnets in the clear: they need a tunnel
        assert _ping(lab, "west", "-I", "198.18.1.254", "198.18.2.254") != 0
        conntrack = subprocess.run(["ip", "netns", "exec", lab.netns("nic"), "conntrack", "-L"],
                                   capture_output=True, text=True).stdout
        assert "src=198.51.100.23 dst=198.51.100.254" in conntrack  # the reply to the NAT
        assert lab.leftover_processes() == {} and lab.kernel_state() == {}
    assert not [ns for ns in namespaces() if ns.startswith(prefix)]
    dump = subprocess.run(["tcpdump", "-n", "-r", str(tmp_path / "east-west.pcap"), "icmp"],
                          capture_output=True, text=True).stdout
    assert "IP 198.51.100.254 > 198.51.100.23: ICMP echo request" in dump
    assert "IP 203.0.113.209" not in dump  # masqueraded


def test_interrupted_build_is_torn_down(monkeypatch):
    prefix = _prefix("b")
    built = []
    real = Lab._build_host

    def interrupt_after_first_host(self, host):
        real(self, host)
        built.append(host.name)
        raise KeyboardInterrupt

    monkeypatch.setattr(topology.Lab, "_build_host", interrupt_after_first_host)
    with pytest.raises(KeyboardInterrupt):
        Lab(prefix).up()
    assert built == ["west"]
    assert not [ns for ns in namespaces() if ns.startswith(prefix)]


def test_unknown_host_and_nat_mode_are_refused():
    with pytest.raises(ValueError, match="unknown lab hosts"):
        Lab("x", hosts=["west", "moon"])
    with pytest.raises(ValueError, match="unknown NAT mode"):
        Lab("x", nat="cone")
