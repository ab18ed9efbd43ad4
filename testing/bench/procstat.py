"""CPU time and resident memory of a process and its descendants, from /proc.

Descendants count too: a daemon may hand crypto to helper processes (threads are already in
the process's own figures).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    cpu_s: float     # user + system seconds
    rss_kb: int


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        # the command name may hold spaces and parentheses: split after its last ')'
        return f.read().rsplit(")", 1)[1].split()


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` across all its threads (/proc/PID/task/*/children)."""
    result: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return result
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                result += [int(word) for word in f.read().split()]
        except OSError:
            continue
    return result


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += _children(current)
    return pids


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sample(pid: int) -> Sample:
    """CPU seconds and RSS (kB) of ``pid``'s process tree now."""
    cpu, rss = 0.0, 0
    for member in tree(pid):
        try:
            fields = _stat_fields(member)   # fields[0] is the state (field 3 of stat)
            cpu += (int(fields[11]) + int(fields[12])) / _TICKS   # utime, stime
            rss += rss_kb(member)
        except (OSError, IndexError, ValueError):
            continue   # it ended between listing and reading
    return Sample(cpu_s=cpu, rss_kb=rss)
