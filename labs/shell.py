"""Running commands for the lab: on the host, or inside one of the lab's namespaces.

Every call is an argv (no shell on the host side), with its output captured so a failure can
say exactly which command failed and what it printed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence


class LabError(RuntimeError):
    """A lab command failed; the message names the command and its output."""


def run(argv: Sequence[str], check: bool = True, timeout: float = 30.0,
        input_text: str | None = None) -> subprocess.CompletedProcess:
    """Run ``argv``; raise LabError with its output when ``check`` and it fails."""
    try:
        proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                              input=input_text)
    except FileNotFoundError as e:
        raise LabError(f"{argv[0]}: not installed ({e.strerror})") from None
    except subprocess.TimeoutExpired:
        raise LabError(f"{' '.join(argv)}: no answer after {timeout} s") from None
    if check and proc.returncode != 0:
        raise LabError(f"{' '.join(argv)}: exit status {proc.returncode}: "
                       f"{(proc.stderr or proc.stdout).strip()}")
    return proc


def in_netns(netns: str, argv: Sequence[str]) -> list[str]:
    """The argv that runs ``argv`` inside namespace ``netns``."""
    return ["ip", "netns", "exec", netns, *argv]


def namespaces() -> list[str]:
    """Names of the named network namespaces (``ip netns list``)."""
    out = run(["ip", "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def pids_in(netns: str) -> list[int]:
    """PIDs of the processes living in ``netns`` (``ip netns pids``)."""
    out = run(["ip", "netns", "pids", netns], check=False).stdout
    return [int(word) for word in out.split() if word.isdigit()]


def process_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def stop_pid(pid: int, grace: float = 2.0) -> None:
    """SIGTERM one process we started, SIGKILL it if it is still there after ``grace``."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    waited = 0.0
    while waited < grace:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not our child: poll for its disappearance
            finished = 0 if os.path.exists(f"/proc/{pid}") else pid
        if finished:
            return
        time.sleep(0.05)
        waited += 0.05
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return

