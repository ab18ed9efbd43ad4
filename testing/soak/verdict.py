"""Judge a soak run from its raw figures: the reasons it failed (empty: it passed)."""

from __future__ import annotations

from dataclasses import dataclass

# RSS may grow this much from the first sample after warm-up to the last (Python's allocator
# keeps some arenas; a leak per rekey grows without bound and shows far beyond this).
RSS_MARGIN = 0.15
RSS_SLACK_KIB = 2048
FD_SLACK = 2
REKEY_WINDOW = 2.0  # seconds either side of a rekey in which a loss counts as "at a rekey"


@dataclass
class Samples:
    """(seconds since start, rss KiB, open fds) for one daemon."""

    host: str
    points: list[tuple[float, int, int]]


def flat(samples: Samples, warmup: float) -> list[str]:
    """Problems with RSS/fd growth after ``warmup`` seconds."""
    after = [p for p in samples.points if p[0] >= warmup]
    if len(after) < 2:
        return [f"{samples.host}: fewer than 2 RSS/fd samples after warm-up"]
    first, last = after[0], after[-1]
    problems = []
    if last[1] > first[1] * (1 + RSS_MARGIN) + RSS_SLACK_KIB:
        problems.append(f"{samples.host}: pluto RSS grew from {first[1]} KiB to {last[1]} KiB")
    if last[2] > first[2] + FD_SLACK:
        problems.append(f"{samples.host}: pluto open fds grew from {first[2]} to {last[2]}")
    return problems


def losses(sent: dict[str, list[float]], received: dict[str, list[int]],
           rekey_times: dict[str, list[float]], names: dict[str, str],
           tail: float = 1.0) -> tuple[int, int, list[str]]:
    """(datagrams sent, lost, one description per lost datagram).

    The last ``tail`` seconds of sending are left out: those may still be in flight when the
    sink stops. A loss is called "at a rekey" when its send time is within REKEY_WINDOW of a
    rekey of that tunnel's connection (``names`` maps tunnel index to connection name)."""
    total = lost = 0
    described = []
    for index, times in sent.items():
        if not times:
            continue
        cutoff = times[-1] - tail
        got = set(received.get(index, []))
        conn = names.get(index, index)
        for seq, when in enumerate(times):
            if when > cutoff:
                break
            total += 1
            if seq in got:
                continue
            lost += 1
            near = [t for t in rekey_times.get(conn, []) if abs(t - when) <= REKEY_WINDOW]
            described.append(f"{conn} seq {seq} sent at {when:.3f}"
                             + (f" (within {REKEY_WINDOW:g} s of a rekey)" if near
                                else " (no rekey nearby)"))
    return total, lost, described
