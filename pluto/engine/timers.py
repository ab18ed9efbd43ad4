"""Timers of the protocol core: a heap of (deadline, callback), driven by the host's clock.

The core never sleeps: the host asks :meth:`Timers.next_deadline` and calls
:meth:`Timers.run_due` when that time has come (the server from its event loop, tests after
advancing a FakeClock).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(order=True)
class Timer:
    when: float
    seq: int
    event: str = field(compare=False)
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class Timers:
    def __init__(self) -> None:
        self._heap: list[Timer] = []
        self._seq = itertools.count()

    def schedule(self, when: float, event: str, callback: Callable[[], None]) -> Timer:
        timer = Timer(when, next(self._seq), event, callback)
        heapq.heappush(self._heap, timer)
        return timer

    def next_deadline(self) -> float | None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].when if self._heap else None

    def run_due(self, now: float) -> int:
        """Fire every timer due at ``now`` (in deadline order); returns how many fired."""
        fired = 0
        while self._heap and self._heap[0].when <= now:
            timer = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            timer.cancelled = True  # fired timers are spent
            timer.callback()
            fired += 1
        return fired

    def __len__(self) -> int:
        return sum(1 for t in self._heap if not t.cancelled)
