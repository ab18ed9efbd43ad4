"""Packet capture on a lab LAN: tcpdump on the LAN's bridge, writing a pcap file.

The bridge sees every frame between the LAN's hosts. ``-U`` writes each packet as it comes,
so a scenario script can read the capture while it is still running.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from labs.shell import LabError, in_netns, stop_pid

READY_TIMEOUT = 10.0


def start_capture(netns: str, interface: str, pcap: Path) -> int:
    """Start tcpdump in ``netns`` on ``interface``; return its PID once it listens."""
    log = pcap.with_suffix(".tcpdump.log")
    argv = in_netns(netns, ["tcpdump", "-i", interface, "-U", "--immediate-mode", "-n", "-s", "0", "-Z", "root",
                            "-w", str(pcap)])
    with open(log, "w") as stderr:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=stderr, start_new_session=True)
        except FileNotFoundError:
            raise LabError("ip: not installed") from None
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if "listening on" in log.read_text(errors="replace"):
            return proc.pid
        if proc.poll() is not None:
            raise LabError(f"tcpdump on {interface} in {netns} exited: {log.read_text()}")
        time.sleep(0.02)
    stop_pid(proc.pid)
    raise LabError(f"tcpdump on {interface} in {netns} did not start: {log.read_text()}")


def stop_capture(pid: int) -> None:
    """Stop a capture started here; tcpdump flushes its file on SIGTERM."""
    stop_pid(pid)
