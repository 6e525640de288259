"""Timing one workload at N threads.

A *case* builds one shared object per measurement and, for each thread, a
``work(n)`` callable that performs ``n`` operations on it.  :func:`measure`
starts the threads behind a barrier, times from the first thread leaving the
barrier to the last one finishing, and reports wall-clock nanoseconds per
operation over all threads (so ``ns/op`` at 8 threads is the inverse of the
total throughput; perfect scaling halves it when threads double, given cores).

Nothing here is shared between threads except the object under test and the
list each thread writes its own slot of (one slot per thread, read after
``join``, which synchronizes).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Case", "Measurement", "WorkFactory", "measure"]

# make_work(shared_object, thread_index) -> work(n_ops)
WorkFactory = Callable[[object, int], Callable[[int], object]]


@dataclass(frozen=True)
class Case:
    """One row of a suite: a named implementation of the suite's workload."""

    name: str
    role: str  # "racefree", "baseline", "peer" or "floor"
    make_shared: Callable[[], object]
    make_work: WorkFactory
    note: str = ""


@dataclass(frozen=True)
class Measurement:
    """ns/op of one case at one thread count (best of ``repeats``), and every repeat."""

    threads: int
    ns_per_op: float
    samples: tuple[float, ...] = field(default=())


def _run_once(case: Case, threads: int, total_ops: int) -> float:
    shared = case.make_shared()
    per_thread = max(1, total_ops // threads)
    works = [case.make_work(shared, i) for i in range(threads)]
    barrier = threading.Barrier(threads + 1)
    starts = [0.0] * threads
    ends = [0.0] * threads
    errors: list[BaseException] = []

    def body(i: int) -> None:
        work = works[i]
        try:
            barrier.wait()
            starts[i] = time.perf_counter()
            work(per_thread)
            ends[i] = time.perf_counter()
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    pool = [threading.Thread(target=body, args=(i,), name=f"bench-{case.name}-{i}") for i in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]
    wall = max(ends) - min(starts)
    return wall * 1e9 / (per_thread * threads)


def measure(case: Case, threads: int, total_ops: int, repeats: int) -> Measurement:
    """Run ``case`` ``repeats`` times with ``threads`` threads sharing ``total_ops`` operations."""
    if threads < 1 or total_ops < 1 or repeats < 1:
        raise ValueError("threads, total_ops and repeats must be positive")
    samples = tuple(_run_once(case, threads, total_ops) for _ in range(repeats))
    return Measurement(threads=threads, ns_per_op=min(samples), samples=samples)
