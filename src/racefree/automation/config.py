"""Read-mostly configuration whose reads never wait (the module's ``ConfigurationManager``).

Invariants (true with and without the GIL):

* ``_current`` (a :class:`racefree.sync.Snapshot`) holds a dict that is never
  mutated once published: a writer builds a changed copy and publishes it
  whole.  Readers get the current dict with one attribute load — no lock, so
  reads never serialize behind each other or behind a writer.  A reader looks
  a key up by subscript, never ``dict.get``: on a free-threaded build
  ``dict.get`` takes the dict's internal lock (a critical section), and every
  reader of the one published dict would queue on it.
* The snapshot's own writer lock serializes ``set``/``delete`` (each is one
  :meth:`~racefree.sync.Snapshot.update`), so no write is lost.
* ``_reads`` and ``_writes`` are :class:`racefree.sync.ShardedCounter`
  instances: counting a read adds to the reader's own cell, not a shared one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import overload

from racefree.sync import ShardedCounter, Snapshot

__all__ = ["ConfigStats", "ConfigStore"]


@dataclass(frozen=True)
class ConfigStats:
    """Read and write counts of a :class:`ConfigStore` (Go: ``GetStats``)."""

    reads: int
    writes: int

    @property
    def read_write_ratio(self) -> float:
        """Reads per write (``inf`` when there were reads but no write, 0.0 when idle)."""
        if self.writes == 0:
            return float("inf") if self.reads else 0.0
        return self.reads / self.writes


class ConfigStore:
    """String key/value configuration for many readers and few writers.

    Initial state: the contents of `initial` (copied), no read or write counted.

    * :meth:`get` and :meth:`get_all` take no lock: they read the current
      published version, so readers scale with cores on a free-threaded build.
      Each counts one read.
    * :meth:`set` and :meth:`delete` copy the whole mapping (O(n) per write) and
      count one write each — ``delete`` of a missing key included, as in the module.

    Happens-before: a write happens before every read that returns its value
    (publication through the atomic reference).  A reader sees one version as
    a whole: :meth:`get_all` never mixes two writes.

    When not to use it: for write-heavy or large mappings (every write copies);
    use :class:`racefree.sync.ConcurrentMap` there.
    """

    def __init__(self, initial: Mapping[str, str] | None = None) -> None:
        self._current: Snapshot[dict[str, str]] = Snapshot(dict(initial or {}))
        self._reads = ShardedCounter()
        self._writes = ShardedCounter()

    @overload
    def get(self, key: str) -> str | None: ...
    @overload
    def get(self, key: str, default: str) -> str: ...

    def get(self, key: str, default: str | None = None) -> str | None:
        """The value of `key`, or `default` when absent.  Never blocks."""
        try:
            value: str | None = self._current.get()[key]
        except KeyError:
            value = default
        self._reads.add(1)
        return value

    def get_all(self) -> dict[str, str]:
        """A fresh copy of the whole configuration, from one version.  Never blocks."""
        copy = dict(self._current.get())
        self._reads.add(1)
        return copy

    def set(self, key: str, value: str) -> None:
        """Set `key` to `value`."""
        self._current.update(lambda old: {**old, key: value})
        self._writes.add(1)

    def delete(self, key: str) -> bool:
        """Remove `key`; return whether it was present.  Counts a write either way."""
        present = False

        def without(old: dict[str, str]) -> dict[str, str]:
            nonlocal present  # runs under the snapshot's writer lock
            present = key in old
            if not present:
                return old
            new = dict(old)  # one C-level copy, then one removal
            del new[key]
            return new

        self._current.update(without)
        self._writes.add(1)
        return present

    def stats(self) -> ConfigStats:
        """Reads and writes counted so far (exact once the callers are done)."""
        return ConfigStats(reads=self._reads.value(), writes=self._writes.value())

    def __len__(self) -> int:
        return len(self._current.get())

    def __contains__(self, key: object) -> bool:
        return key in self._current.get()

    def __repr__(self) -> str:
        s = self.stats()
        return f"<ConfigStore keys={len(self)} reads={s.reads} writes={s.writes}>"
