"""The safe counters of exercises 1 and 2: ``AtomicCounter`` and ``MutexCounter``.

Invariants (true with and without the GIL):

* ``AtomicCounter`` keeps its value in a :class:`racefree.sync.AtomicInt`;
  every operation is one atomic step, no lock of its own.
* ``MutexCounter._value`` is guarded by ``_lock`` (a ``threading.Lock``) for
  reads and writes alike, as the Go ``MutexCounter`` does.
"""

from __future__ import annotations

import threading

from racefree.sync import AtomicInt

__all__ = ["AtomicCounter", "MutexCounter"]


class AtomicCounter:
    """Go's ``AtomicCounter``: increments are lock-free atomic adds.

    Initial value 0.  Every operation synchronizes with every other (see
    :class:`racefree.sync.AtomicInt`): no increment is ever lost.
    """

    def __init__(self) -> None:
        self._value = AtomicInt(0)

    def increment(self) -> None:
        self._value.increment()

    def add(self, delta: int) -> None:
        self._value.add(delta)

    def value(self) -> int:
        return self._value.load()

    def compare_and_swap(self, old: int, new: int) -> bool:
        """Set to `new` if the value is `old`; return whether it did."""
        return self._value.compare_and_swap(old, new)


class MutexCounter:
    """Go's ``MutexCounter``: every access holds one ``threading.Lock``.

    Initial value 0.  Increments serialize on the lock: no increment is lost,
    and a read sees every increment that released the lock before it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0  # guarded by _lock

    def increment(self) -> None:
        with self._lock:
            self._value += 1

    def add(self, delta: int) -> None:
        with self._lock:
            self._value += delta

    def value(self) -> int:
        with self._lock:
            return self._value
