"""Task processors: the ``TaskProcessor`` protocol and a thread-safe implementation.

Invariants (true with and without the GIL):

* ``SafeProcessor._tasks``, ``_errors`` and ``_last`` are guarded by ``_lock``
  (a ``threading.Lock``): ``process`` updates all three and ``stats`` reads all
  three while holding it, so a :class:`ProcessorStats` never mixes two moments
  (errors <= tasks always holds).  The Go program uses an RWMutex; here every
  task writes and reads are rare, so a plain lock is the cheaper choice.
* The simulated work (``time.sleep``) and the random draw run outside the lock:
  only the bookkeeping is serialized.  ``random.Random`` methods are atomic on
  both builds (a C-level lock / critical section), so one generator may be shared.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["ProcessingError", "ProcessorStats", "SafeProcessor", "TaskProcessor"]


class ProcessingError(Exception):
    """A task failed (the simulated errors of the module's processors)."""


@dataclass(frozen=True)
class ProcessorStats:
    """An immutable record of a processor's counts at one moment (Go: ``ProcessorStats``).

    ``last_processed`` is a :func:`time.time` timestamp, or ``None`` before the
    first task.
    """

    tasks_processed: int = 0
    errors_occurred: int = 0
    last_processed: float | None = None

    @property
    def error_rate(self) -> float:
        """Errors per processed task (0.0 before the first task)."""
        return self.errors_occurred / self.tasks_processed if self.tasks_processed else 0.0


@runtime_checkable
class TaskProcessor(Protocol):
    """Anything that processes tasks by id and reports statistics (Go: ``TaskProcessor``).

    ``process`` raises :class:`ProcessingError` when the task fails.  An
    implementation that may be shared between threads must say so and keep its
    statistics consistent; hidden mutable state behind this interface is
    exactly the module's "interface-based race condition".
    """

    def process(self, task_id: str) -> None:
        """Process one task; raise :class:`ProcessingError` on failure."""

    def stats(self) -> ProcessorStats:
        """Return a consistent copy of the statistics."""


class SafeProcessor:
    """A :class:`TaskProcessor` that many threads may share (Go: ``SafeProcessor``).

    Initial state: no task processed, ``last_processed`` None.  Each call to
    :meth:`process` sleeps `work_time` seconds (the simulated work), then counts
    the task and, with probability `error_rate` (drawn from `rng`), counts an
    error and raises :class:`ProcessingError` — every call is counted exactly
    once, with or without the GIL.

    Happens-before: the counting in :meth:`process` happens before any
    :meth:`stats` call that observes it (both hold the same lock).

    When not to use it: if you only need totals at the end and throughput
    matters, give each worker its own counts and add them up after ``join``.
    """

    def __init__(self, error_rate: float = 0.1, work_time: float = 0.001,
                 rng: random.Random | None = None) -> None:
        if not 0.0 <= error_rate <= 1.0:
            raise ValueError(f"error_rate must be between 0 and 1, got {error_rate}")
        if work_time < 0:
            raise ValueError(f"work_time must be >= 0, got {work_time}")
        self.error_rate = error_rate
        self.work_time = work_time
        self._rng = rng if rng is not None else random.Random()
        self._lock = threading.Lock()
        self._tasks = 0  # guarded by _lock
        self._errors = 0  # guarded by _lock
        self._last: float | None = None  # guarded by _lock

    def process(self, task_id: str) -> None:
        """Simulate the work, count the task; raise :class:`ProcessingError` at the error rate."""
        if self.work_time > 0:
            time.sleep(self.work_time)
        failed = self._rng.random() < self.error_rate
        now = time.time()
        with self._lock:
            self._tasks += 1
            self._last = now
            if failed:
                self._errors += 1
        if failed:
            raise ProcessingError(f"processing failed for task {task_id}")

    def stats(self) -> ProcessorStats:
        """A consistent, immutable copy of the counts."""
        with self._lock:
            return ProcessorStats(self._tasks, self._errors, self._last)

    def __repr__(self) -> str:
        s = self.stats()
        return (f"<SafeProcessor tasks={s.tasks_processed} errors={s.errors_occurred} "
                f"error_rate={self.error_rate}>")
