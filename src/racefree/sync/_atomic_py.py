"""The pure-Python atomic integer: the reference back-end, always available.

Invariants (true with and without the GIL):

* ``_lock`` guards every write of ``_value`` and every read that a write
  depends on (read-modify-write, compare-and-swap), so those are linearizable.
* ``load`` reads ``_value`` without the lock: one attribute load is atomic on
  both builds (it copies a reference, which is never torn), and the value it
  returns was written by a completed, locked write.
* ``_value`` is always a signed 64-bit int; a write that would leave that range
  raises :class:`OverflowError` before anything changes.
"""

from __future__ import annotations

import threading
from operator import index
from typing import Any

from racefree.sync import _hb

__all__ = ["INT64_MAX", "INT64_MIN", "LockedRef", "PyAtomicInt"]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def _overflow(value: int) -> OverflowError:
    return OverflowError(f"{value} does not fit in a signed 64-bit integer")


class PyAtomicInt:
    """:class:`racefree.sync.AtomicInt` on a ``threading.Lock`` (see that class for the contract)."""

    __slots__ = ("__weakref__", "_lock", "_value")

    def __new__(cls, value: int = 0) -> PyAtomicInt:
        if _hb.listener is not None and cls is PyAtomicInt:
            cls = _reporting_variant[0]
        return object.__new__(cls)

    def __init__(self, value: int = 0) -> None:
        value = index(value)
        if not INT64_MIN <= value <= INT64_MAX:
            raise _overflow(value)
        self._lock = threading.Lock()
        self._value = value

    def load(self) -> int:
        return self._value

    def store(self, value: int) -> None:
        value = index(value)
        if not INT64_MIN <= value <= INT64_MAX:
            raise _overflow(value)
        with self._lock:
            self._value = value

    def add(self, delta: int) -> int:
        delta = index(delta)
        with self._lock:
            new = self._value + delta
            if not INT64_MIN <= new <= INT64_MAX:
                raise _overflow(new)
            self._value = new
        return new

    def increment(self) -> int:
        with self._lock:
            new = self._value + 1
            if new > INT64_MAX:
                raise _overflow(new)
            self._value = new
        return new

    def swap(self, value: int) -> int:
        value = index(value)
        if not INT64_MIN <= value <= INT64_MAX:
            raise _overflow(value)
        with self._lock:
            old = self._value
            self._value = value
        return old

    def compare_and_swap(self, expected: int, new: int) -> bool:
        expected, new = index(expected), index(new)
        if not INT64_MIN <= new <= INT64_MAX:
            raise _overflow(new)
        with self._lock:
            if self._value != expected:
                return False
            self._value = new
        return True

    backend = "python"

    def __repr__(self) -> str:
        return f"<AtomicInt value={self._value} backend={self.backend}>"


# Filled in by racefree.sync.atomic with the subclass that reports to a detector.
_reporting_variant: list[type[PyAtomicInt]] = [PyAtomicInt]


class LockedRef:
    """The pure-Python cell behind :class:`racefree.sync.AtomicRef` (cereggii's method names)."""

    __slots__ = ("_lock", "_value")

    def __init__(self, value: Any = None) -> None:
        self._lock = threading.Lock()  # guards writes of _value
        self._value = value

    def get(self) -> Any:
        return self._value

    def set(self, desired: Any, /) -> None:
        with self._lock:
            self._value = desired

    def get_and_set(self, desired: Any, /) -> Any:
        with self._lock:
            old, self._value = self._value, desired
        return old

    def compare_and_set(self, expected: Any, desired: Any, /) -> bool:
        with self._lock:
            if self._value is not expected:
                return False
            self._value = desired
        return True
