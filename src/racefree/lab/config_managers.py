"""Exercise 3's configuration managers, for comparison with :class:`racefree.automation.ConfigStore`.

* ``ConfigurationManager`` is the Go program's: one dict behind a
  :class:`racefree.sync.RWLock` — readers share the read side, writers hold the
  write side.
* ``LockedConfigurationManager`` is the baseline: the same dict behind one
  ``threading.Lock``, so readers serialize behind each other.

Invariants (true with and without the GIL): in both, ``_config`` is read and
written only with the lock held (``RWLock`` read side for reads, write side for
writes); ``_reads``/``_writes`` are :class:`racefree.sync.AtomicInt` (Go: ``atomic.AddInt64``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager

from racefree.automation.config import ConfigStats
from racefree.sync import AtomicInt, RWLock

__all__ = ["ConfigurationManager", "LockedConfigurationManager"]


class _BaseManager:
    def __init__(self, initial: Mapping[str, str] | None = None) -> None:
        self._config: dict[str, str] = dict(initial or {})  # guarded by the subclass's lock
        self._reads = AtomicInt(0)
        self._writes = AtomicInt(0)

    def _reading(self) -> AbstractContextManager[object]:
        raise NotImplementedError

    def _writing(self) -> AbstractContextManager[object]:
        raise NotImplementedError

    def set(self, key: str, value: str) -> None:
        with self._writing():
            self._config[key] = value
            self._writes.increment()

    def delete(self, key: str) -> bool:
        with self._writing():
            present = self._config.pop(key, None) is not None
            self._writes.increment()
        return present

    def get(self, key: str) -> str | None:
        with self._reading():
            # Go's `value, exists := cm.config[key]`: a subscript, not dict.get, which on a
            # free-threaded build takes the dict's own lock and would queue concurrent readers
            # on it (the RWLock row would then time that lock, not the RWLock).
            try:
                value: str | None = self._config[key]
            except KeyError:
                value = None
            self._reads.increment()
        return value

    def get_all(self) -> dict[str, str]:
        with self._reading():
            copy = dict(self._config)
            self._reads.increment()
        return copy

    def stats(self) -> ConfigStats:
        return ConfigStats(reads=self._reads.load(), writes=self._writes.load())


class ConfigurationManager(_BaseManager):
    """Go's ``ConfigurationManager``: a dict behind an RW lock; reads run concurrently.

    Initial state: `initial` (copied), no read or write counted.
    """

    def __init__(self, initial: Mapping[str, str] | None = None) -> None:
        super().__init__(initial)
        self._lock = RWLock()

    def _reading(self) -> AbstractContextManager[object]:
        return self._lock.read()

    def _writing(self) -> AbstractContextManager[object]:
        return self._lock.write()


class LockedConfigurationManager(_BaseManager):
    """The plain-lock baseline: a dict behind one mutex; reads serialize.

    Initial state: `initial` (copied), no read or write counted.
    """

    def __init__(self, initial: Mapping[str, str] | None = None) -> None:
        super().__init__(initial)
        self._lock = threading.Lock()

    def _reading(self) -> AbstractContextManager[object]:
        return self._lock

    def _writing(self) -> AbstractContextManager[object]:
        return self._lock
