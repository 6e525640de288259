"""Stress mode: perturb the scheduling at instrumented writes, reproducibly.

Under the GIL a thread is switched out only at a few points, so ``x += 1``
from several threads rarely loses an update even though nothing orders the
accesses.  With stress on, the detector lowers the switch interval and, right
before an instrumented store (after its load), yields the processor with a
seeded probability: each thread draws from its own ``random.Random(seed, tid)``
so a run's decisions are a function of the seed (threads are numbered in the
order the detector first sees them).  Stress mode changes *when* things happen,
never *what* the detector reports about a given interleaving.

Invariants: a thread's random generator and its entry in ``trace`` are touched
only by that thread.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from racefree.detector.clocks import ThreadState

YIELD_PROBABILITY = 0.25
TRACE_LIMIT = 10_000

_sleep = time.sleep


class Perturber:
    """Seeded yields at instrumented writes (see module docstring)."""

    def __init__(self, seed: int, probability: float = YIELD_PROBABILITY) -> None:
        self.seed = seed
        self.probability = probability
        # tid -> indexes (per thread, counting perturbation points) of the points that yielded
        self.trace: dict[int, list[int]] = {}
        self._points: dict[int, int] = {}

    def perturb(self, ts: ThreadState) -> None:
        """One perturbation point of thread `ts`: maybe yield."""
        rng = ts.rng
        if rng is None:
            return
        tid = ts.tid
        n = self._points.get(tid, 0)
        self._points[tid] = n + 1
        if rng.random() < self.probability:
            trace = self.trace.get(tid)
            if trace is None:
                trace = self.trace[tid] = []
            if len(trace) < TRACE_LIMIT:
                trace.append(n)
            _sleep(0)

    def yields(self) -> int:
        return sum(len(t) for t in self.trace.values())
