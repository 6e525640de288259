"""Metrics of an automation worker service (the module's ``AutomationMetrics``).

Invariants (true with and without the GIL):

* The four totals (tasks processed, errors, bytes, requests) are
  :class:`racefree.sync.ShardedCounter` instances: adding never takes a lock
  shared with other threads, and each total is exact once the adders are done.
* ``_lock`` (a ``threading.Lock``) guards ``_by_type``, ``_workers`` and
  ``_last_activity`` together — the module's mutex-protected "complex state".
  Every read of them copies under the lock; no live structure ever escapes.
* :meth:`Metrics.snapshot` reads the guarded group first, then the totals.
  :meth:`Metrics.record_task` counts the task before its type, so in any
  snapshot ``sum(tasks_by_type.values()) <= tasks_processed``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from racefree.sync import ShardedCounter

__all__ = ["Metrics", "MetricsSnapshot"]


@dataclass(frozen=True)
class MetricsSnapshot:
    """An immutable copy of :class:`Metrics` at one moment.

    ``tasks_by_type`` is a read-only mapping over a private copy, and
    ``active_workers`` a frozenset: later activity never changes a snapshot.
    Timestamps are :func:`time.time` values.
    """

    tasks_processed: int
    errors: int
    bytes_processed: int
    requests: int
    tasks_by_type: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    active_workers: frozenset[int] = frozenset()
    last_activity: float = 0.0
    taken_at: float = 0.0

    @property
    def error_rate(self) -> float:
        """Errors per processed task (0.0 before the first task)."""
        return self.errors / self.tasks_processed if self.tasks_processed else 0.0

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready values (fresh containers)."""
        return {
            "tasks_processed": self.tasks_processed,
            "errors": self.errors,
            "bytes_processed": self.bytes_processed,
            "requests": self.requests,
            "tasks_by_type": dict(self.tasks_by_type),
            "active_workers": sorted(self.active_workers),
            "last_activity": self.last_activity,
            "taken_at": self.taken_at,
        }


class Metrics:
    """Counters and state of a pool of workers, safe to update from any thread.

    Initial state: every total 0, no task type, no active worker, and
    ``last_activity`` the creation time.  Totals are lock-free to update;
    per-type counts, the active-worker set and the last-activity time share one
    mutex.  Workers are identified by any int; registering twice or
    unregistering an unknown worker is allowed and changes nothing.

    Happens-before: an update happens before any read that observes it (the
    totals through :class:`~racefree.sync.ShardedCounter`, the rest through the
    lock).  Totals read while workers run are not a snapshot of one instant —
    each lies between its values at the start and the end of the read.

    When not to use it: for values that must be checked-and-updated together
    (a quota), use a lock around both; independent totals are not a transaction.
    """

    def __init__(self) -> None:
        self._tasks = ShardedCounter()
        self._errors = ShardedCounter()
        self._bytes = ShardedCounter()
        self._requests = ShardedCounter()
        self._lock = threading.Lock()
        self._by_type: dict[str, int] = {}  # guarded by _lock
        self._workers: set[int] = set()  # guarded by _lock
        self._last_activity = time.time()  # guarded by _lock

    # -- totals (lock-free) -------------------------------------------------

    def increment_tasks_processed(self) -> None:
        self._tasks.add(1)

    def increment_errors(self) -> None:
        self._errors.add(1)

    def add_bytes_processed(self, nbytes: int) -> None:
        if nbytes < 0:
            raise ValueError(f"bytes processed cannot be negative, got {nbytes}")
        self._bytes.add(nbytes)

    def increment_requests(self) -> None:
        self._requests.add(1)

    def tasks_processed(self) -> int:
        return self._tasks.value()

    def errors(self) -> int:
        return self._errors.value()

    def bytes_processed(self) -> int:
        return self._bytes.value()

    def requests(self) -> int:
        return self._requests.value()

    # -- guarded state ------------------------------------------------------

    def record_task_type(self, task_type: str) -> None:
        """Count one task of `task_type` and mark activity now."""
        now = time.time()
        with self._lock:
            self._by_type[task_type] = self._by_type.get(task_type, 0) + 1
            self._last_activity = now

    def record_task(self, task_type: str, nbytes: int = 0) -> None:
        """One processed request: the task, the request, its bytes, then its type."""
        self.increment_tasks_processed()
        self.increment_requests()
        if nbytes:
            self.add_bytes_processed(nbytes)
        self.record_task_type(task_type)

    def register_worker(self, worker_id: int) -> None:
        with self._lock:
            self._workers.add(worker_id)

    def unregister_worker(self, worker_id: int) -> None:
        with self._lock:
            self._workers.discard(worker_id)

    def tasks_by_type(self) -> dict[str, int]:
        """A fresh copy of the per-type counts."""
        with self._lock:
            return dict(self._by_type)

    def active_workers(self) -> int:
        with self._lock:
            return len(self._workers)

    def last_activity(self) -> float:
        with self._lock:
            return self._last_activity

    def snapshot(self) -> MetricsSnapshot:
        """An immutable copy of everything (see the module invariants for what it promises)."""
        with self._lock:
            by_type = dict(self._by_type)
            workers = frozenset(self._workers)
            last = self._last_activity
        return MetricsSnapshot(
            tasks_processed=self._tasks.value(),
            errors=self._errors.value(),
            bytes_processed=self._bytes.value(),
            requests=self._requests.value(),
            tasks_by_type=MappingProxyType(by_type),
            active_workers=workers,
            last_activity=last,
            taken_at=time.time(),
        )

    def __repr__(self) -> str:
        return (f"<Metrics tasks={self.tasks_processed()} errors={self.errors()} "
                f"workers={self.active_workers()}>")
