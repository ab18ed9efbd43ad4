"""Start a peer daemon in the background and stop it again, by the PID we recorded.

The daemon is started in the caller's network namespace (a scenario script already runs inside
its host's), in a new session so the script's command returns while the daemon keeps running,
with stdout and stderr appended to its log file. Its PID goes into a file so that a later
command (another process) can stop exactly that process.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from labs.shell import stop_pid


class PeerError(RuntimeError):
    """A peer daemon did not start, or a command to it failed; the message says why."""


def start_daemon(argv: Sequence[str], log: Path, pid_file: Path, ready: Callable[[], bool],
                 env: Mapping[str, str] | None = None, timeout: float = 10.0) -> int:
    """Start ``argv``; return its PID once ``ready()`` is true. On failure stop it, raise."""
    if pid_file.exists() and is_running(read_pid(pid_file)):
        raise PeerError(f"{argv[0]} is already running here (pid {read_pid(pid_file)})")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        try:
            proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    env=dict(env) if env is not None else None)
        except FileNotFoundError:
            raise PeerError(f"{argv[0]}: not installed (labs/install_peers.sh installs it)") from None
    pid_file.write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return proc.pid
        if proc.poll() is not None:
            pid_file.unlink(missing_ok=True)
            raise PeerError(f"{argv[0]} exited with status {proc.returncode}:\n"
                            f"{tail(log)}")
        time.sleep(0.02)
    stop_pid(proc.pid)
    pid_file.unlink(missing_ok=True)
    raise PeerError(f"{argv[0]} was not ready after {timeout} s:\n{tail(log)}")


def stop_daemon(pid_file: Path, grace: float = 3.0) -> bool:
    """Stop the daemon whose PID ``pid_file`` holds; False when it was not running."""
    if not pid_file.exists():
        return False
    pid = read_pid(pid_file)
    running = is_running(pid)
    if running:
        stop_pid(pid, grace=grace)
        deadline = time.monotonic() + grace
        while is_running(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
    pid_file.unlink(missing_ok=True)
    return running


def read_pid(pid_file: Path) -> int:
    return int(pid_file.read_text().split()[0])


def is_running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def tail(path: Path, lines: int = 30) -> str:
    """The end of a log, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path}: no log)"


def run_tool(argv: Sequence[str], env: Mapping[str, str] | None = None,
             timeout: float = 30.0) -> subprocess.CompletedProcess:
    """Run a peer's control tool; its output is the caller's to show."""
    try:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                              env=dict(env) if env is not None else None)
    except FileNotFoundError:
        raise PeerError(f"{argv[0]}: not installed (labs/install_peers.sh installs it)") from None
    except subprocess.TimeoutExpired:
        raise PeerError(f"{' '.join(argv)}: no answer after {timeout} s") from None
