"""A counter with one cell per thread, so that writers never contend.

Invariants (true with and without the GIL):

* A cell is a one-element list.  Only the thread it belongs to writes
  ``cell[0]`` (so ``+=`` on it is not a race); any thread may read it (reading
  one list item is a reference load, atomic on both builds).
* ``_local.cell`` is the calling thread's cell (a ``threading.local`` lookup
  touches only per-thread state, so it scales on a free-threaded build).
  ``_local`` and :meth:`ShardedCounter.add` live in the base class: the C
  ``CounterCells`` of :mod:`racefree.sync._fastread` when it is built, else
  :class:`_PyCounterCells`, the same steps in Python (see :mod:`racefree.sync._fast`).
  The C ``add`` also keeps the thread's cell in a per-thread cache under an
  id renewed whenever ``_local`` is set, so it finds the cell without
  touching the shared ``_local`` (an atomic reference-count update per call
  on a free-threaded build); a re-initialised counter gets fresh cells.
* ``_cells`` maps a thread ident to its cell; ``_lock`` guards every access to
  it.  A cell outlives its thread, so its count stays in the total; the OS
  reuses an ident only after that thread has ended, and a new thread with a
  reused ident takes over the old cell, so the registry holds at most one cell
  per ident ever in use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from racefree.sync import _fast, _hb
from racefree.sync.errors import WrongThreadError

__all__ = ["ShardedCounter", "ShardedCounterHandle", "ShardedCounterStatistics"]

_get_ident = threading.get_ident


class _PyCounterCells:
    """The pure-Python base of :class:`ShardedCounter`: the contract of ``_fastread.CounterCells``."""

    __slots__ = ("_local",)

    _local: Any

    def add(self, n: int = 1) -> None:
        """Add ``n`` (may be negative) to the calling thread's cell."""
        if _hb.listener is not None:
            self._add_reporting(n)  # the release comes before the write
            return
        try:
            cell = self._local.cell
        except AttributeError:
            cell = self._new_cell()
        cell[0] += n

    def _add_reporting(self, n: int) -> None:
        raise NotImplementedError

    def _new_cell(self) -> list[int]:
        raise NotImplementedError


if TYPE_CHECKING:  # the checker sees the Python base; both have the same members
    _Base = _PyCounterCells
else:
    _Base = _PyCounterCells if _fast.FASTREAD is None else _fast.FASTREAD.CounterCells


@dataclass(frozen=True)
class ShardedCounterStatistics:
    """A point-in-time view of a :class:`ShardedCounter`."""

    value: int
    cells: int


class ShardedCounter(_Base):
    """An integer counter that many threads add to without contending.

    Initial state: 0, no cells.  Each thread adds into its own cell (created on
    its first :meth:`add`); :meth:`value` sums the cells.

    What ``value()`` guarantees: once every writer has finished (joined, or
    otherwise synchronized with the reader), it is exact.  While writers run,
    it is not a snapshot: it counts every ``add`` that returned before
    ``value()`` was called, and some subset of those that run concurrently — for
    non-negative additions it lies between the true count at the call and at the
    return.  Use :class:`~racefree.sync.AtomicInt` when you need a
    linearizable value (a ticket number, a limit check).

    Happens-before: ``add`` releases on this counter (sync key: the object);
    ``value`` acquires, so a thread that reads a total sees what the adders did
    before adding.

    Scaling on a free-threaded build: :meth:`add` is a method of the *shared*
    counter, and on CPython 3.13t every call of a Python method changes the
    reference count of the object it is called on — one cache line that all
    threads write, so ``add`` does not get faster with more cores.  In a hot
    loop take a per-thread :meth:`handle` once and call its ``add``: it touches
    only the thread's own cell, and scales.

    Memory: one small cell per thread ident that ever added.

    >>> c = ShardedCounter()
    >>> c.add(); c.add(41); c.value()
    42
    """

    __slots__ = ("__weakref__", "_cells", "_lock")  # _local: in the base (module invariants)

    def __init__(self) -> None:
        self._local = threading.local()
        self._cells: dict[int, list[int]] = {}  # guarded by _lock
        self._lock = threading.Lock()

    if TYPE_CHECKING:  # at run time add() is the base class's: one C call when _fastread is built

        def add(self, n: int = 1) -> None:
            """Add ``n`` (may be negative) to the calling thread's cell."""

    def _add_reporting(self, n: int) -> None:
        """``add`` while a detector listens: release, then write."""
        hb = _hb.listener
        if hb is not None:
            hb.release(self)
        try:
            cell = self._local.cell
        except AttributeError:
            cell = self._new_cell()
        cell[0] += n

    def handle(self) -> ShardedCounterHandle:
        """A handle on the calling thread's cell, for hot loops; only this thread may use it."""
        try:
            cell = self._local.cell
        except AttributeError:
            cell = self._new_cell()
        if _hb.listener is not None:  # decided here, so that add() touches nothing shared
            return _ReportingHandle(self, cell)
        return ShardedCounterHandle(self, cell)

    def _new_cell(self) -> list[int]:
        ident = _get_ident()
        with self._lock:
            cell = self._cells.get(ident)
            if cell is None:
                cell = self._cells[ident] = [0]
        self._local.cell = cell
        return cell

    def value(self) -> int:
        """The sum of all cells (exact when no thread is adding; see the class contract)."""
        with self._lock:
            cells = list(self._cells.values())
        total = 0
        for cell in cells:
            total += cell[0]
        hb = _hb.listener
        if hb is not None:
            hb.acquire(self)
        return total

    def statistics(self) -> ShardedCounterStatistics:
        """The current value and the number of per-thread cells."""
        with self._lock:
            cells = len(self._cells)
        return ShardedCounterStatistics(value=self.value(), cells=cells)

    def __repr__(self) -> str:
        stats = self.statistics()
        return f"<{type(self).__name__} value={stats.value} cells={stats.cells}>"


class ShardedCounterHandle:
    """One thread's direct line to its cell of a :class:`ShardedCounter`.

    ``add(n=1)`` adds to the same cell as the counter's own ``add`` from this
    thread, without touching the shared counter object (see "Scaling" there).
    Happens-before: as :meth:`ShardedCounter.add` (reported to a detector when
    one was attached as the handle was taken).  Misuse: calling ``add``
    from any other thread than the one that took the handle raises
    :class:`~racefree.sync.WrongThreadError` (two writers on one cell would
    lose updates).
    """

    __slots__ = ("_cell", "_counter", "_owner")

    def __init__(self, counter: ShardedCounter, cell: list[int]) -> None:
        self._counter = counter  # the sync key reported to a detector
        self._cell = cell
        self._owner = _get_ident()

    def add(self, n: int = 1) -> None:
        """Add ``n`` to the owning thread's cell."""
        if _get_ident() != self._owner:
            raise WrongThreadError(
                "ShardedCounterHandle.add() called from a thread other than the one that took the handle; "
                "call counter.handle() in each thread"
            )
        self._cell[0] += n

    def __repr__(self) -> str:
        return f"<ShardedCounterHandle thread={self._owner} cell={self._cell[0]}>"


class _ReportingHandle(ShardedCounterHandle):
    """A handle taken while a detector listens: ``add`` reports its release."""

    __slots__ = ()

    def add(self, n: int = 1) -> None:
        if _get_ident() != self._owner:
            super().add(n)  # raises WrongThreadError
        hb = _hb.listener
        if hb is not None:
            hb.release(self._counter)
        self._cell[0] += n
