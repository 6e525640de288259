"""DELIBERATELY UNSAFE: the course module's racy components, ported line for line.

Nothing here is synchronized, on purpose.  These classes exist so that
``racefree lab`` can show what goes wrong and so that the race detector can be
pointed at them.  Never use them in real code: the safe counterparts are
:class:`racefree.lab.counters.AtomicCounter`, :class:`racefree.automation.TaskRegistry`
and :class:`racefree.automation.SafeProcessor`.

Invariants: none — that is the point.  The shared state, and what races on it
when several threads call the methods named (the Go program's races, no more):

* ``UnsafeCounter.value`` — ``increment`` is a read-modify-write (``+=``), so
  concurrent increments lose updates; ``read`` races with them.  A race in
  every sense, also in Python's: the GIL only makes the loss rare.
* ``UnsafeTaskRegistry.tasks`` — ``register`` writes the dict while ``get``
  reads it.  A Go map corrupts or crashes; CPython keeps each single dict
  operation atomic, so this is a race on the memory model's terms only.
  ``all`` iterates the dict, which raises ``RuntimeError: dictionary changed
  size during iteration`` when another thread registers meanwhile (the Go
  program never lists the unsafe registry concurrently; the lab does, to show it).
* ``UnsafeProcessor.tasks_processed`` and ``errors_occurred`` — ``+=`` from
  many threads: lost counts.  ``last_processed`` — plain stores from many
  threads, read by ``stats`` without synchronization (a torn, inconsistent
  snapshot; no lost update in Python).

The style is plain on purpose (``self.value += 1``), so an instrumenting
detector sees the loads and stores exactly as written.
"""

from __future__ import annotations

import random
import time

from racefree.automation.processor import ProcessingError, ProcessorStats


class UnsafeCounter:
    """A counter whose ``increment`` is an unsynchronized ``+=`` (Go: ``c.value++``).

    Initial value 0.  No happens-before edge between any two calls.
    """

    def __init__(self) -> None:
        self.value = 0

    def increment(self) -> None:
        self.value += 1  # DATA RACE: load, add, store — another thread can store in between

    def read(self) -> int:
        return self.value  # DATA RACE: read while others write


class UnsafeTaskRegistry:
    """Task id -> name in a bare dict shared by every thread (Go: ``map[string]string``)."""

    def __init__(self) -> None:
        self.tasks: dict[str, str] = {}

    def register(self, task_id: str, name: str) -> None:
        self.tasks[task_id] = name  # DATA RACE: write while others read or write

    def get(self, task_id: str) -> str | None:
        return self.tasks.get(task_id)  # DATA RACE: read while others write

    def all(self) -> dict[str, str]:
        # Copy by iterating, as Go's GetAll does with ``for k, v := range``: if
        # another thread registers meanwhile, the iterator raises RuntimeError.
        result = {}
        for task_id, name in self.tasks.items():
            result[task_id] = name
        return result


class UnsafeProcessor:
    """A TaskProcessor whose statistics are bare attributes (Go: ``UnsafeProcessor``).

    ``process`` sleeps `work_time` seconds, then counts the task and, with
    probability `error_rate`, the error it raises.  The counts are ``+=`` on
    attributes shared by every thread: concurrent calls lose updates.
    """

    def __init__(self, error_rate: float = 0.1, work_time: float = 0.001,
                 rng: random.Random | None = None) -> None:
        self.error_rate = error_rate
        self.work_time = work_time
        self.rng = rng if rng is not None else random.Random()
        self.tasks_processed = 0
        self.errors_occurred = 0
        self.last_processed: float | None = None

    def process(self, task_id: str) -> None:
        if self.work_time > 0:
            time.sleep(self.work_time)  # simulate processing
        self.tasks_processed += 1  # DATA RACE: lost updates
        self.last_processed = time.time()  # DATA RACE: unsynchronized store
        if self.rng.random() < self.error_rate:
            self.errors_occurred += 1  # DATA RACE: lost updates
            raise ProcessingError(f"processing failed for task {task_id}")

    def stats(self) -> ProcessorStats:
        # DATA RACE: three unsynchronized reads; the fields may come from different moments.
        return ProcessorStats(
            tasks_processed=self.tasks_processed,
            errors_occurred=self.errors_occurred,
            last_processed=self.last_processed,
        )
