"""A registry of tasks by id, with per-type counts (the module's ``SafeTaskRegistry``).

Invariants (true with and without the GIL):

* ``_lock`` (a ``threading.Lock``) guards ``_tasks`` and ``_by_type``
  together; every method holds it for a few dict operations only.  Not an RW
  lock, unlike the Go program: sections this short do not repay an RW lock's
  extra round-trips (``racefree lab ex3`` measures the RW-locked
  configuration manager behind a plain lock on both builds).
* ``_by_type[t]`` always equals the number of registered tasks whose type is
  ``t``; a type whose count drops to 0 is removed.  Both dicts change in the
  same write-locked step, so no reader sees one updated without the other.
* No live dict escapes: every read returns a copy made under the lock, so a
  caller may iterate it while other threads register (the unsafe registry's
  ``RuntimeError: dictionary changed size during iteration`` cannot happen).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["RegisteredTask", "TaskRegistry"]


@dataclass(frozen=True)
class RegisteredTask:
    """What the registry holds for one task id."""

    name: str
    task_type: str


class TaskRegistry:
    """Task id -> (name, type), safe to share between threads.

    Initial state: empty.  Compound operations are single steps:
    :meth:`register_if_absent` checks and inserts under one lock, and the
    per-type counts are updated together with the task table, so no count is
    ever lost or double-counted however many threads register at once.

    Happens-before: a registration happens before every read that observes it.

    Fairness: that of ``threading.Lock`` (none promised).

    When not to use it: when you need neither the per-type counts nor
    consistent multi-key reads, a :class:`racefree.sync.ConcurrentMap` is simpler.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tasks: dict[str, RegisteredTask] = {}  # guarded by _lock
        self._by_type: dict[str, int] = {}  # guarded by _lock

    # -- writers ------------------------------------------------------------

    def _insert(self, task_id: str, entry: RegisteredTask) -> None:
        # Caller holds _lock.
        old = self._tasks.get(task_id)
        if old is not None:
            self._forget_type(old.task_type)
        self._tasks[task_id] = entry
        self._by_type[entry.task_type] = self._by_type.get(entry.task_type, 0) + 1

    def _forget_type(self, task_type: str) -> None:
        # Caller holds _lock.
        left = self._by_type[task_type] - 1
        if left:
            self._by_type[task_type] = left
        else:
            del self._by_type[task_type]

    def register(self, task_id: str, name: str, task_type: str = "task") -> None:
        """Register `task_id`, replacing (and un-counting) any earlier registration."""
        entry = RegisteredTask(name, task_type)
        with self._lock:
            self._insert(task_id, entry)

    def register_if_absent(self, task_id: str, name: str, task_type: str = "task") -> bool:
        """Register `task_id` unless it is already there; return True if this call registered it.

        Exactly one of several threads racing to register the same id wins.
        """
        entry = RegisteredTask(name, task_type)
        with self._lock:
            if task_id in self._tasks:
                return False
            self._insert(task_id, entry)
            return True

    def unregister(self, task_id: str) -> bool:
        """Remove `task_id`; return whether it was registered."""
        with self._lock:
            old = self._tasks.pop(task_id, None)
            if old is None:
                return False
            self._forget_type(old.task_type)
            return True

    # -- readers ------------------------------------------------------------

    def get(self, task_id: str) -> str | None:
        """The name registered for `task_id`, or None."""
        with self._lock:
            entry = self._tasks.get(task_id)
        return None if entry is None else entry.name

    def entry(self, task_id: str) -> RegisteredTask | None:
        """Name and type registered for `task_id`, or None."""
        with self._lock:
            return self._tasks.get(task_id)

    def all(self) -> dict[str, str]:
        """A fresh copy: task id -> name."""
        with self._lock:
            return {task_id: e.name for task_id, e in self._tasks.items()}

    def counts_by_type(self) -> dict[str, int]:
        """A fresh copy: task type -> number of registered tasks of that type."""
        with self._lock:
            return dict(self._by_type)

    def __len__(self) -> int:
        with self._lock:
            return len(self._tasks)

    def __contains__(self, task_id: object) -> bool:
        with self._lock:
            return task_id in self._tasks

    def __repr__(self) -> str:
        with self._lock:
            return f"<TaskRegistry tasks={len(self._tasks)} types={len(self._by_type)}>"
