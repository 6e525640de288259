"""DELIBERATELY UNSAFE: a Python-specific compound operation the Go program does not have.

Kept apart from :mod:`racefree.lab.unsafe` (the Go program's races, port for
port) so that the race detector's expectations for that module stay exactly the
module's.  Exercise 3 uses this to show what still goes wrong in Python when
every single dict operation is atomic: a read-modify-write made of two of them.

Invariants: none — ``UnsafeTypeCounter.counts`` is a bare dict shared by every
thread.  ``record`` is ``counts[t] = counts.get(t, 0) + 1``: two atomic dict
operations with a window between them, so concurrent calls lose counts (rarely
with the GIL, often without it).  The safe version is
:meth:`racefree.automation.TaskRegistry.counts_by_type`.
"""

from __future__ import annotations

__all__ = ["UnsafeTypeCounter"]


class UnsafeTypeCounter:
    """Counts by task type in a bare dict — loses updates under concurrency."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def record(self, task_type: str) -> None:
        self.counts[task_type] = self.counts.get(task_type, 0) + 1  # LOST UPDATE: get, then set
