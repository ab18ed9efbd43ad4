"""The xfrm back end with a real ESP data path, inside User-Mode-Linux.

The host kernel has no ESP, so the test boots a UML guest (labs/uml.py) that runs this file
as a script (``--guest``). Inside, two namespaces (west, east) share a veth pair; OUR back end
allocates SPIs, installs ESP SAs and tunnel policies on both sides (AES-CBC + HMAC-SHA2-256
and AES-GCM-16, each with and without ESP-in-UDP), UDP datagrams go between the client
addresses, and the counters read back through GETSA are compared with ``ip -s xfrm state``
and with the traffic sent. A soft packet limit on one SA must raise a soft EXPIRE through
our monitor. The guest prints one JSON line; the host test checks it.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import select
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script inside the guest
    sys.path.insert(0, str(ROOT))

from labs.uml import run_in_uml, unavailable_reason  # noqa: E402

ip = ipaddress.ip_address
net = ipaddress.ip_network
WEST, EAST = ip("198.51.100.45"), ip("198.51.100.23")
WEST_CLIENT, EAST_CLIENT = ip("198.18.1.254"), ip("198.18.2.254")
WESTNET, EASTNET = net("198.18.1.0/24"), net("198.18.2.0/24")
DATAGRAMS = 5
PAYLOAD = b"x" * 100
UDP_ENCAP = 100  # setsockopt level SOL_UDP: decapsulate ESP-in-UDP arriving on this socket
UDP_ENCAP_ESPINUDP = 2

CASES = {
    "aes_cbc-sha2_256": dict(encrypt="AES_CBC", encrypt_key=bytes(range(16)), encrypt_key_bits=128,
                             integ="HMAC_SHA2_256_128", integ_key=bytes(range(32, 64))),
    "aes_gcm16": dict(encrypt="AES_GCM_16", encrypt_key=bytes(range(20)), encrypt_key_bits=128,
                      integ=None, integ_key=b""),
}


# --- inside the guest ------------------------------------------------------------------------

def _sh(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _topology() -> None:
    _sh("ip", "netns", "add", "west")
    _sh("ip", "netns", "add", "east")
    _sh("ip", "link", "add", "w0", "netns", "west", "type", "veth", "peer", "name", "e0",
        "netns", "east")
    for ns, link, outside, client, peer_net, peer in (
            ("west", "w0", WEST, WEST_CLIENT, EASTNET, EAST),
            ("east", "e0", EAST, EAST_CLIENT, WESTNET, WEST)):
        _sh("ip", "-n", ns, "link", "set", "lo", "up")
        _sh("ip", "-n", ns, "link", "set", link, "up")
        _sh("ip", "-n", ns, "addr", "add", f"{outside}/24", "dev", link)
        _sh("ip", "-n", ns, "addr", "add", f"{client}/32", "dev", "lo")
        _sh("ip", "-n", ns, "route", "add", str(peer_net), "via", str(peer), "src", str(client))


def _ip_s_counters(ns: str) -> dict[int, tuple[int, int]]:
    """SPI -> (bytes, packets) as ``ip -s xfrm state`` shows them."""
    shown = _sh("ip", "-n", ns, "-s", "xfrm", "state")
    counters = {}
    for block in re.split(r"\n(?=src )", shown):
        spi = re.search(r"proto esp spi (0x[0-9a-f]+)", block)
        current = re.search(r"lifetime current:\s*(\d+)\(bytes\), (\d+)\(packets\)", block)
        if spi and current:
            counters[int(spi.group(1), 16)] = (int(current.group(1)), int(current.group(2)))
    return counters


def _guest_case(name: str, encap: bool) -> dict:
    from pluto.kernel.ops import PolicySpec, SaId, SaSpec
    from pluto.kernel.xfrm import XfrmKernel
    from pluto.kernel.xfrm_monitor import XfrmMonitor
    from pluto.kernel.xfrm_requests import SaLifetime
    from pluto.kernel.xfrm_socket import in_netns

    kernels = {"west": XfrmKernel(netns="west"), "east": XfrmKernel(netns="east")}
    expires: list = []
    monitor = XfrmMonitor(lambda _acquire: None, expires.append, netns="west")
    sockets = []
    try:
        # Each side allocates the SPI of its inbound SA, as IKE does.
        spi_to_east = kernels["east"].allocate_spi("esp", WEST, EAST)
        spi_to_west = kernels["west"].allocate_spi("esp", EAST, WEST)
        ports = dict(encap_sport=4500, encap_dport=4500) if encap else {}
        to_east = SaSpec(id=SaId(EAST, spi_to_east), src=WEST, mode="tunnel",
                         src_selector=WESTNET, dst_selector=EASTNET, reqid=1, **CASES[name],
                         **ports)
        to_west = SaSpec(id=SaId(WEST, spi_to_west), src=EAST, mode="tunnel",
                         src_selector=EASTNET, dst_selector=WESTNET, reqid=1, **CASES[name],
                         **ports)
        # West's outbound SA asks for a soft expire after 3 packets.
        kernels["west"].add_sa(to_east, SaLifetime(soft_packets=3, hard_packets=1000))
        kernels["west"].add_sa(to_west)
        kernels["east"].add_sa(to_east)
        kernels["east"].add_sa(to_west)
        for ns, here, there, here_net, there_net in (("west", WEST, EAST, WESTNET, EASTNET),
                                                     ("east", EAST, WEST, EASTNET, WESTNET)):
            kernels[ns].add_policy(PolicySpec("out", here_net, there_net, here, there,
                                              "tunnel", "esp", 1))
            for direction in ("in", "fwd"):
                kernels[ns].add_policy(PolicySpec(direction, there_net, here_net, there, here,
                                                  "tunnel", "esp", 1))
        if encap:
            for ns, address in (("west", WEST), ("east", EAST)):
                with in_netns(ns):
                    encap_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                encap_sock.setsockopt(socket.IPPROTO_UDP, UDP_ENCAP, UDP_ENCAP_ESPINUDP)
                encap_sock.bind((str(address), 4500))
                sockets.append(encap_sock)
        with in_netns("west"):
            west_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with in_netns("east"):
            east_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sockets += [west_sock, east_sock]
        west_sock.bind((str(WEST_CLIENT), 7001))
        east_sock.bind((str(EAST_CLIENT), 7000))
        west_sock.settimeout(5)
        east_sock.settimeout(5)
        echoed = 0
        for _ in range(DATAGRAMS):
            west_sock.sendto(PAYLOAD, (str(EAST_CLIENT), 7000))
            data, peer = east_sock.recvfrom(2048)
            east_sock.sendto(data, peer)
            echoed += west_sock.recvfrom(2048)[0] == PAYLOAD
        if select.select([monitor], [], [], 2.0)[0]:
            monitor.read_pending()
        result = {
            "echoed": echoed,
            "spis": {"to_east": spi_to_east, "to_west": spi_to_west},
            "ours": {ns: {hex(sa.spi): list(_counters(kernels[ns], sa))
                          for sa in (to_east.id, to_west.id)} for ns in kernels},
            "ip": {ns: {hex(spi): list(v) for spi, v in _ip_s_counters(ns).items()}
                   for ns in kernels},
            "expires": [{"spi": e.sa.spi, "dst": str(e.sa.dst), "hard": e.hard,
                         "packets": e.packets} for e in expires],
            "encap_shown": "encap type espinudp sport 4500 dport 4500"
                           in _sh("ip", "-n", "west", "xfrm", "state"),
        }
    finally:
        monitor.close()
        for sock in sockets:
            sock.close()
        for kernel in kernels.values():
            result_errors = kernel.flush()
            kernel.close()
    result["flush_errors"] = [str(e) for e in result_errors]
    result["left"] = _sh("ip", "-n", "west", "xfrm", "state") + _sh("ip", "-n", "east",
                                                                     "xfrm", "policy")
    return result


def _counters(kernel, sa_id) -> tuple[int, int]:
    counters = kernel.sa_counters(sa_id)
    return counters.bytes, counters.packets


def guest_main() -> int:
    _topology()
    results = {}
    for name in CASES:
        for encap in (False, True):
            label = f"{name}{'-espinudp' if encap else ''}"
            try:
                results[label] = _guest_case(name, encap)
            except Exception as e:  # report and carry on with the other cases
                results[label] = {"error": f"{type(e).__name__}: {e}"}
    print("RESULT " + json.dumps(results))
    return 0


# --- on the host ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def guest_results():
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    python = sys.executable
    result = run_in_uml([python, str(Path(__file__).resolve()), "--guest"], timeout=90,
                        workdir=str(ROOT))
    lines = [line for line in result.output.splitlines() if line.startswith("RESULT ")]
    assert result.returncode == 0 and lines, result.describe()
    return json.loads(lines[-1][len("RESULT "):])


LABELS = [f"{name}{suffix}" for name in CASES for suffix in ("", "-espinudp")]


@pytest.mark.root
@pytest.mark.parametrize("label", LABELS)
def test_esp_tunnel_carries_traffic_and_counts_it(guest_results, label):
    case = guest_results[label]
    assert "error" not in case, case.get("error")
    assert case["echoed"] == DATAGRAMS
    for spi in case["spis"].values():
        assert spi >= 0x1000
    for ns in ("west", "east"):
        ours, shown = case["ours"][ns], case["ip"][ns]
        assert ours == shown, f"{ns}: GETSA says {ours}, ip -s xfrm state says {shown}"
        for spi, (octets, packets) in ours.items():
            # Each SA carried DATAGRAMS packets one way; the counters count inner bytes.
            assert packets == DATAGRAMS, (ns, spi, ours)
            assert octets >= DATAGRAMS * (20 + 8 + len(PAYLOAD)), (ns, spi, ours)
    assert case["encap_shown"] == label.endswith("-espinudp")
    assert case["flush_errors"] == []
    assert case["left"].strip() == ""


@pytest.mark.root
@pytest.mark.parametrize("label", LABELS)
def test_soft_packet_limit_raises_soft_expire(guest_results, label):
    case = guest_results[label]
    assert "error" not in case, case.get("error")
    soft = [e for e in case["expires"] if not e["hard"]]
    assert soft, case["expires"]
    assert soft[0]["spi"] == case["spis"]["to_east"]
    assert soft[0]["dst"] == str(EAST)
    assert soft[0]["packets"] >= 3
    assert not any(e["hard"] for e in case["expires"])


if __name__ == "__main__" and "--guest" in sys.argv:
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    raise SystemExit(guest_main())
