"""Is the pluto named in a lock file still alive? (Zombies are not.)

A pluto killed with SIGKILL stays a zombie until its parent reaps it, and a daemon's parent is
init, which in a container or a test lab may reap late or never. ``kill(pid, 0)`` succeeds on
a zombie, so a lock check built on it alone would refuse to start until the zombie is reaped:
exactly the restart after a crash that must work. Linux's /proc/PID/stat says ``Z`` (or ``X``)
for a process that has exited.
"""

from __future__ import annotations

from pluto.server.lockfile import pid_is_running


def process_state(pid: int) -> str | None:
    """The one-letter state of /proc/PID/stat (``R``, ``S``, ``Z``...), None if unreadable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read(4096).decode("ascii", "replace")
    except OSError:
        return None
    # "PID (comm) STATE ...": comm may hold spaces and parentheses; the last ")" ends it
    _, _, rest = text.rpartition(")")
    fields = rest.split()
    return fields[0] if fields else None


def pid_is_alive(pid: int) -> bool:
    """True when ``pid`` runs and has not exited (a zombie or a dead task is not alive)."""
    if not pid_is_running(pid):
        return False
    return process_state(pid) not in ("Z", "X")
