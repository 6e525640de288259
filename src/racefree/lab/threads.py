"""Run N threads over one function and time them; record checks of safe components.

Invariants (true with and without the GIL): :func:`run_threads` starts every
thread, releases them together through a ``threading.Barrier`` and times from
the release to the last ``join``; exceptions raised in the threads are
collected under ``_errors_lock`` (a local) and re-raised in the caller.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Check", "ThreadFailure", "run_threads"]


class ThreadFailure(RuntimeError):
    """A worker thread raised; the first exception is chained as ``__cause__``."""


def run_threads(count: int, target: Callable[[int], None], *, name: str = "worker") -> float:
    """Run ``target(i)`` for i in range(count), one thread each, all started together.

    Returns the wall time in seconds from the common start to the last join.
    Raises :class:`ThreadFailure` if any call raised.
    """
    barrier = threading.Barrier(count + 1)
    errors: list[BaseException] = []
    errors_lock = threading.Lock()

    def body(i: int) -> None:
        barrier.wait()
        try:
            target(i)
        except BaseException as exc:
            with errors_lock:
                errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,), name=f"{name}-{i}") for i in range(count)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise ThreadFailure(f"{len(errors)} of {count} threads raised: {errors[0]!r}") from errors[0]
    return elapsed


@dataclass(frozen=True)
class Check:
    """A safe component's total against the exact expected value."""

    name: str
    expected: object
    actual: object

    @property
    def ok(self) -> bool:
        return self.expected == self.actual

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "expected": self.expected, "actual": self.actual, "ok": self.ok}


@dataclass(frozen=True)
class Scale:
    """Iteration counts of one lab run; :data:`FULL` is the module's, :data:`QUICK` is for CI."""

    name: str
    unsafe_threads: int = 100
    unsafe_increments: int = 1000
    fs_workers: int = 4
    fs_increments: int = 10_000_000
    fs_repeats: int = 3
    counter_threads: int = 100
    counter_increments: int = 10_000
    monitor_interval: float = 0.2
    monitor_ticks: int = 10
    config_readers: int = 50
    config_writers: int = 5
    config_ops: int = 1000
    registry_threads: int = 20
    registry_ops: int = 100
    registry_rounds: int = 40
    processor_threads: int = 20
    processor_tasks: int = 100
    stress_tasks: int = 5000


FULL = Scale("full")
QUICK = Scale(
    "quick", fs_increments=1_000_000, fs_repeats=2, counter_increments=1000,
    monitor_interval=0.05, config_ops=200, registry_rounds=10, stress_tasks=1000,
)
