"""Atomic integer and atomic reference (Go's ``sync/atomic``).

Invariants (true with and without the GIL):

* All state lives in one back-end cell (see :mod:`racefree.sync._backend`);
  the cell is linearizable, so these wrappers add no locking of their own on
  the fast path.
* With a detector attached (``_hb.listener`` set), every operation runs under
  ``_hb_lock`` so that the reported edge and the operation form one step: the
  detector then sees exactly the order in which the operations took effect.
"""

from __future__ import annotations

import reprlib
import threading
from typing import Any, Generic, TypeVar

from racefree.sync import _backend, _hb

__all__ = ["AtomicInt", "AtomicRef"]

T = TypeVar("T")


class AtomicInt:
    """A signed 64-bit integer whose operations are atomic and sequentially consistent.

    Initial state: ``value`` (default 0).  Values outside
    ``[-2**63, 2**63 - 1]`` raise :class:`OverflowError` and leave the value
    unchanged.

    Happens-before: every operation both releases and acquires on this
    ``AtomicInt`` (sync key: the object itself) — an operation that observes
    another's effect sees everything that thread did before it, as Go's
    ``sync/atomic``.  Loads acquire, stores release, read-modify-writes do both.

    Fairness: lock-free on a C back-end; on the pure-Python fallback each write
    takes one ``threading.Lock`` (no FIFO guarantee).

    Misuse: there is none to detect — every method is safe from any thread.
    Do not copy an ``AtomicInt`` (``copy.copy`` shares the cell); create a new one.

    When not to use it: to protect *several* variables at once (use a lock), or
    for a hot counter written by many threads on a free-threaded build (every
    write hits one cache line; :class:`~racefree.sync.ShardedCounter` scales).

    >>> hits = AtomicInt()
    >>> hits.increment()
    1
    """

    __slots__ = ("__weakref__", "_add", "_cas", "_cell", "_get", "_hb_lock", "_set", "_swap")

    def __init__(self, value: int = 0) -> None:
        cell = _backend.ACTIVE.int_cell(value)
        self._init(cell)

    def _init(self, cell: _backend.AtomicIntCell) -> None:
        self._cell = cell
        # Bound methods cached on the instance: one attribute load on the fast path.
        self._get = cell.get
        self._set = cell.set
        self._add = cell.increment_and_get
        self._swap = cell.get_and_set
        self._cas = cell.compare_and_set
        self._hb_lock = threading.Lock()  # orders detector reports; unused without a detector

    @classmethod
    def _with_backend(cls, backend: _backend.Backend, value: int = 0) -> AtomicInt:
        """Create an instance on a specific back-end (for tests and benchmarks)."""
        self = cls.__new__(cls)
        self._init(backend.int_cell(value))
        return self

    def load(self) -> int:
        """Return the current value."""
        hb = _hb.listener
        if hb is None:
            return self._get()
        with self._hb_lock:
            value = self._get()
            hb.acquire(self)
        return value

    def store(self, value: int) -> None:
        """Set the value."""
        hb = _hb.listener
        if hb is None:
            return self._set(value)
        with self._hb_lock:
            hb.release(self)
            self._set(value)
        return None

    def add(self, delta: int) -> int:
        """Add ``delta`` and return the *new* value."""
        hb = _hb.listener
        if hb is None:
            return self._add(delta)
        with self._hb_lock:
            hb.release(self)
            value = self._add(delta)
            hb.acquire(self)
        return value

    def increment(self) -> int:
        """Add one and return the *new* value."""
        hb = _hb.listener
        if hb is None:
            return self._add(1)
        with self._hb_lock:
            hb.release(self)
            value = self._add(1)
            hb.acquire(self)
        return value

    def swap(self, value: int) -> int:
        """Set the value and return the *old* one."""
        hb = _hb.listener
        if hb is None:
            return self._swap(value)
        with self._hb_lock:
            hb.release(self)
            old = self._swap(value)
            hb.acquire(self)
        return old

    def compare_and_swap(self, expected: int, new: int) -> bool:
        """If the value equals ``expected``, set it to ``new`` and return True; else return False."""
        hb = _hb.listener
        if hb is None:
            return self._cas(expected, new)
        with self._hb_lock:
            hb.release(self)
            done = self._cas(expected, new)
            hb.acquire(self)
        return done

    @property
    def backend(self) -> str:
        """The name of the back-end this value lives in."""
        return "python" if isinstance(self._cell, _backend._LockedInt64) else _backend.ACTIVE.name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} value={self._get()} backend={self.backend}>"


class AtomicRef(Generic[T]):
    """A reference to an object, replaced atomically; compare-and-swap compares by identity.

    Initial state: ``obj`` (default ``None``).

    Happens-before: as :class:`AtomicInt` — loads acquire, stores release,
    ``swap`` and ``compare_and_swap`` do both (sync key: this object).  This is
    what makes publishing safe: build an object, ``store`` it; a thread that
    ``load``\\ s it sees it fully built.

    Misuse: the referenced object is *not* protected — mutating it after
    publishing is a data race.  Publish immutable objects, or copies.
    ``compare_and_swap`` uses ``is``, never ``==``: pass the object you loaded.

    When not to use it: for read-mostly data with update functions, prefer
    :class:`~racefree.sync.Snapshot`, which retries for you.
    """

    __slots__ = ("__weakref__", "_cas", "_cell", "_get", "_hb_lock", "_set", "_swap")

    def __init__(self, obj: T | None = None) -> None:
        self._init(_backend.ACTIVE.ref_cell(obj))

    def _init(self, cell: _backend.AtomicRefCell) -> None:
        self._cell = cell
        self._get = cell.get
        self._set = cell.set
        self._swap = cell.get_and_set
        self._cas = cell.compare_and_set
        self._hb_lock = threading.Lock()  # orders detector reports; unused without a detector

    @classmethod
    def _with_backend(cls, backend: _backend.Backend, obj: Any = None) -> AtomicRef[Any]:
        """Create an instance on a specific back-end (for tests and benchmarks)."""
        self: AtomicRef[Any] = cls.__new__(cls)
        self._init(backend.ref_cell(obj))
        return self

    def load(self) -> T | None:
        """Return the current object."""
        hb = _hb.listener
        if hb is None:
            return self._get()  # type: ignore[no-any-return]
        with self._hb_lock:
            obj = self._get()
            hb.acquire(self)
        return obj  # type: ignore[no-any-return]

    def store(self, obj: T | None) -> None:
        """Replace the object."""
        hb = _hb.listener
        if hb is None:
            return self._set(obj)
        with self._hb_lock:
            hb.release(self)
            self._set(obj)
        return None

    def swap(self, obj: T | None) -> T | None:
        """Replace the object and return the old one."""
        hb = _hb.listener
        if hb is None:
            return self._swap(obj)  # type: ignore[no-any-return]
        with self._hb_lock:
            hb.release(self)
            old = self._swap(obj)
            hb.acquire(self)
        return old  # type: ignore[no-any-return]

    def compare_and_swap(self, expected: T | None, new: T | None) -> bool:
        """If the current object *is* ``expected``, replace it by ``new`` and return True."""
        hb = _hb.listener
        if hb is None:
            return self._cas(expected, new)
        with self._hb_lock:
            hb.release(self)
            done = self._cas(expected, new)
            hb.acquire(self)
        return done

    @property
    def backend(self) -> str:
        """The name of the back-end this reference lives in."""
        return "python" if isinstance(self._cell, _backend._LockedRef) else _backend.ACTIVE.name

    def __repr__(self) -> str:
        obj = self._get()
        return f"<{type(self).__name__} obj={reprlib.repr(obj)} backend={self.backend}>"

