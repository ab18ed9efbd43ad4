"""The figures of one run, and their min/median/max over runs.

rate        SAs established / (last establishment - first initiation), from the generator log
first10 / last10   the rate over the first and the last 10% of establishments (flat or not)
cpu_ms_per_sa      responder CPU (process tree, /proc) spent during the run / SAs established
rss_kb_per_sa      responder RSS growth while holding the SAs / SAs established
responder_busy     responder CPU seconds / run seconds (1.0: one core saturated)
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class RunFigures:
    responder: str
    case: str
    count: int                # SAs asked for
    established_gen: int      # established according to the generator
    established_resp: int     # established according to the responder
    retransmits: int
    rate: float
    first10: float
    last10: float
    cpu_ms_per_sa: float
    rss_kb_per_sa: float
    udp_rcvbuf_errors: int
    udp_in_errors: int
    gen_rcvbuf_errors: int    # drops on the generator's side (it must not be the bottleneck)
    responder_busy: float     # responder CPU / wall time of the run: below ~0.9 the rate
                              # says more about the generator and the machine than the responder
    generator_busy: float     # the same for the load generator
    series: list[tuple[float, int]]   # (seconds since start, SAs established in that bin)

    def as_dict(self) -> dict:
        return asdict(self)


def rates(initiated: list[float], established: list[float]) -> tuple[float, float, float]:
    """(overall, first 10%, last 10%) rates in SAs per second; 0 when there is nothing."""
    if not initiated or not established:
        return 0.0, 0.0, 0.0
    start = min(initiated)
    done = sorted(established)
    n = len(done)
    overall = n / max(done[-1] - start, 1e-3)
    k = max(n // 10, 1)
    first = k / max(done[k - 1] - start, 1e-3)
    last = k / max(done[-1] - done[n - k - 1], 1e-3) if n > k else first
    return overall, first, last


def series(initiated: list[float], established: list[float],
           bins: int = 40) -> list[tuple[float, int]]:
    """Establishments per time bin since the first initiation (for the plot)."""
    if not initiated or not established:
        return []
    start = min(initiated)
    span = max(max(established) - start, 1e-3)
    width = span / bins
    counts = [0] * bins
    for t in established:
        counts[min(int((t - start) / width), bins - 1)] += 1
    return [(round((i + 1) * width, 4), c) for i, c in enumerate(counts)]


def busy(cpu_s: float, initiated: list[float], established: list[float]) -> float:
    """The responder's CPU share of one core over the run (first initiation to last SA)."""
    if not initiated or not established:
        return 0.0
    return cpu_s / max(max(established) - min(initiated), 1e-3)


@dataclass(frozen=True)
class Spread:
    low: float
    median: float
    high: float

    def text(self, digits: int = 1) -> str:
        if self.low == self.high:
            return f"{self.median:.{digits}f}"
        return f"{self.low:.{digits}f} / {self.median:.{digits}f} / {self.high:.{digits}f}"


def spread(values: list[float]) -> Spread:
    return Spread(min(values), statistics.median(values), max(values))


def ratio(ours: float, theirs: float) -> float | None:
    return ours / theirs if theirs else None
