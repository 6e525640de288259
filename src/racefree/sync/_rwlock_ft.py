"""RWLock for a free-threaded interpreter: each reader thread keeps its shares in an atomic cell of its own.

The policy, the slow path and the contract are :class:`~racefree.sync.RWLock`'s
(see :mod:`racefree.sync._rwlock_wait`); only the read shares live here.
"""

from __future__ import annotations

import os
import threading
import time
from types import TracebackType
from typing import Any, cast

from racefree._build import gil_enabled as _gil_enabled
from racefree.sync import _backend, _fast, _hb
from racefree.sync._rwlock_wait import NOT_A_READER as _NOT_A_READER
from racefree.sync._rwlock_wait import _Waiter
from racefree.sync.errors import LockNotHeldError
from racefree.sync.rwlock import RWLock, _ReadGuard

_get_ident = threading.get_ident
_monotonic = time.monotonic
_yield = getattr(os, "sched_yield", None) or (lambda: time.sleep(0))

# Without the GIL, a reader that finds a writer claiming yields the CPU up to this many times,
# watching only the flag in its own cell, before it queues on _lock and parks: a write is short,
# and with many more threads than CPUs the parked-reader path (a contended _lock, then a wake-up
# per reader) costs far more than a few yields.  With the GIL a yield waits for the GIL (up to a
# switch interval), so readers there queue at once.  See _read_flagged for the bound.
SPINS = 0 if _gil_enabled() else 16


def _make_cell_type(backend: _backend.Backend) -> type[Any]:
    """The reader cell on ``backend``'s AtomicInt: a subclass, so it never reports to a detector itself.

    (An ``AtomicInt`` made while a detector listens is a reporting variant; the
    lock reports its own edges, and the cells' traffic -- a writer flagging
    cells and then giving up -- is no synchronization of the program's.)  On
    cereggii, ``add`` is the C ``increment_and_get`` itself, without
    ``AtomicInt.add``'s Python-level argument check: cells only get int literals.
    """
    base = cast("type[Any]", backend.int_type)
    namespace: dict[str, Any] = {"__slots__": ()}
    fast_add = getattr(base, "increment_and_get", None)
    if fast_add is not None:
        namespace["add"] = fast_add
    return type(f"_ReaderCell_{base.__name__}", (base,), namespace)


# A reader cell holds SHARE * shares + MARK * marked + FLAG * flagged.
_FLAG = 1  # a writer holds or claims: readers must go through _lock
_MARK = 2  # the draining writer counted this cell's shares in _pending
_SHARE = 4  # one read share


class _ShardedRWLock(RWLock):
    """:class:`RWLock` for a free-threaded interpreter: readers touch only a cell of their own thread.

    Chosen by ``RWLock()`` when the GIL is disabled at construction.  Its
    correctness does not depend on the GIL (the tests run it on both builds
    and both AtomicInt back-ends).

    Invariants (true with and without the GIL):

    * Each thread that ever read this lock owns one cell (``_Cell``: the C
      ``ReaderCell`` of :mod:`racefree.sync._fastread` when it is built, else an
      :class:`~racefree.sync.AtomicInt`; each linearizable, one hardware atomic
      per operation) holding ``4 * shares + 2 * marked + flagged``.  Only the owner changes
      ``shares`` (save the share added, under ``_lock``, by the thread that
      admits the parked owner); only a thread holding ``_lock`` changes
      ``flagged``, which is set while a writer holds or claims (writers queued
      behind the claimant leave it alone); ``marked`` is set by the draining
      writer (compare-and-swap, under ``_lock``) on each cell that had shares,
      and cleared by whoever gets there first (compare-and-swap): the owner
      when its last share goes, or the writer when it gives up.
      ``_local.cell`` is the calling thread's cell (the C read guard also
      keeps it in a per-thread cache under the guard's never-reused id, so
      that an uncontended ``with rw.read():`` touches no shared object but the
      guard); ``_cells`` (guarded by ``_lock``) maps thread idents to cells,
      for writers to visit.
    * ``_flagged`` (guarded by ``_lock``) is the flag that every cell carries;
      :meth:`_writers_changed` keeps it equal to "``_writer`` is set", setting
      or clearing it in every cell *before* the writer acts.  So each write
      flags and unflags every cell once, even when writers queue back to back.
    * Why a writer and a reader cannot both get in: a reader announces itself
      and reads the flag in *one* atomic add on its cell; a writer sets the
      flag in the same cell with an atomic add and then reads the cell.  All
      operations on one atomic are totally ordered (linearizability), so either
      the reader's add comes first -- the writer then sees its share and waits
      for it to leave -- or the writer's comes first, and the reader sees the
      flag and backs out into the slow path.  No ordering between two memory
      locations is assumed, so no sequential-consistency argument across
      fields (a Dekker handshake) is needed; the same atomics also carry the
      happens-before from a writer's release to the reader that enters after
      it, and from a reader's release to the writer that sees its cell empty.
    * Draining: ``_pending`` (an AtomicInt) counts the marked cells, plus the
      unmarkings whose compare-and-swap is done but whose decrement is not yet,
      plus one token that the draining writer holds while it marks.  It is
      never reset, only added to, so a decrement that arrives late (from a
      writer that gave up) cannot cancel a later writer's mark.  The unmarking
      that reaches zero notifies ``_drained`` under ``_lock``; the writer marks,
      drops its token and waits for zero without releasing ``_lock`` in
      between, so the wake-up cannot be lost -- and only the *last* reader out
      takes ``_lock``, not every one.
    * A cell outlives its thread; a new thread with the same ident takes it
      over if it is empty (a thread that died holding a share keeps the lock
      read-locked, as a ``threading.Lock`` stays locked by a dead thread).
    """

    __slots__ = ("_cells", "_epoch", "_flagged", "_local", "_pending")

    _Cell: type[Any]  # the AtomicInt back-end of the cells (a class attribute, set below)

    def __init__(self) -> None:
        super().__init__()
        self._local = threading.local()
        self._cells: dict[int, Any] = {}  # guarded by _lock
        self._flagged = False  # guarded by _lock
        self._epoch = 0  # written under _lock: +1 each time _flagged changes (read by yielding readers)
        self._pending = self._Cell(0)
        fast = _fast.FASTREAD  # the same steps in C when built: no Python frame per with-block
        self._read_guard = _ShardedReadGuard(self) if fast is None else fast.ShardedReadGuard(self)

    def _new_cell(self) -> Any:
        me = _get_ident()
        with self._lock:
            cells = self._cells
            cell = cells.get(me)
            if cell is None or cell.load() >= _SHARE:
                if cell is not None:  # a dead thread's share: keep it, under a key no thread has
                    cells[-len(cells) - 1] = cell
                cell = cells[me] = self._Cell(_FLAG if self._flagged else 0)
        local = self._local
        local.cell = cell
        local.add = cell.add  # bound once: the fast paths make one lookup, not two
        return cell

    # -- read shares, under _lock ----------------------------------------------

    def _shares(self, me: int) -> int:
        cell = getattr(self._local, "cell", None)
        return 0 if cell is None else max(0, cell.load() // _SHARE)

    def _add_share(self, ident: int) -> None:
        self._cells[ident].add(_SHARE)

    def _readers_inside(self) -> bool:
        return any(cell.load() >= _SHARE for cell in self._cells.values())

    def _reader_threads(self) -> int:
        return sum(cell.load() >= _SHARE for cell in self._cells.values())

    def _writers_changed(self) -> None:
        flag = self._writer is not None
        if flag != self._flagged:
            self._flagged = flag
            self._epoch += 1
            delta = _FLAG if flag else -_FLAG
            if self._Cell is _C_CELL:  # the same loop in C: readers wait while we hold _lock
                _C_ADD_ALL(self._cells.values(), delta)
                return
            for cell in self._cells.values():
                cell.add(delta)

    # -- draining --------------------------------------------------------------

    def _drain(self, blocking: bool, deadline: float | None) -> bool:
        pending = self._pending
        pending.add(1)  # our token: no reader can bring the count to zero while we mark
        if self._Cell is _C_CELL:  # the same loop in C
            _C_MARK_ALL(self._cells.values(), pending)
        else:
            for cell in self._cells.values():
                value = cell.load()
                while value >= _SHARE and not value & _MARK:
                    if cell.compare_and_swap(value, value + _MARK):
                        pending.add(1)
                        break
                    value = cell.load()  # the owner came or went, or the flag moved: look again
        if pending.add(-1) == 0:
            return True
        self._draining = True
        try:
            while pending.load():
                remaining = None if deadline is None else deadline - _monotonic()
                if not blocking or (remaining is not None and remaining <= 0):
                    for cell in self._cells.values():
                        self._unmark(cell, notify=False)  # leave no mark for the next writer
                    self._give_claim_back()
                    return False
                self._drained.wait(remaining)
            return True
        finally:
            self._draining = False

    def _unmark(self, cell: Any, notify: bool = True) -> None:
        """Take ``cell``'s mark back, if it still has one, and count it out of ``_pending``."""
        value = cell.load()
        while value & _MARK:
            if cell.compare_and_swap(value, value - _MARK):
                if not self._pending.add(-1) and notify:
                    with self._lock:  # the last reader out: wake the writer
                        if self._draining:
                            self._drained.notify()
                return
            value = cell.load()

    # -- readers ---------------------------------------------------------------

    def acquire_read(self, blocking: bool = True, timeout: float = -1) -> bool:
        try:
            add = self._local.add
        except AttributeError:
            add = self._new_cell().add
        value = add(_SHARE)  # announce a share and read the flag, in one step
        # In: no writer flagged us, or a re-entrant share (two shares or more).
        if not value & _FLAG or value >= 2 * _SHARE:
            hb = _hb.listener
            if hb is not None:
                hb.acquire((self, "write"))
            return True
        return self._read_flagged(add, blocking, timeout)

    def _read_flagged(self, add: Any, blocking: bool, timeout: float) -> bool:
        """A writer holds or claims (the caller holds no other share): back out, wait, come in.

        A blocking reader without a timeout first yields up to :data:`SPINS`
        times (none with the GIL), looking only at the flag in its own cell.
        When the claim in force as it backs out ends (``_epoch`` moves), it
        tries the fast path once more; if another writer claimed in between,
        it stops yielding.  Then it queues like any reader
        (``_read_contended``): parked, and admitted when the claim then in
        force ends.  So it waits through at most two claims: the one in force
        as it backs out, and one that begins as that one ends.
        """
        cell = self._local.cell
        if add(-_SHARE) & _MARK:  # the draining writer counted our provisional share
            self._unmark(cell)
        if SPINS and blocking and timeout is not None and timeout < 0:
            epoch = self._epoch
            for _ in range(SPINS):
                _yield()
                if self._epoch == epoch and cell.load() & _FLAG:
                    continue
                if not add(_SHARE) & _FLAG:  # in: the claim ended and no new one began
                    hb = _hb.listener
                    if hb is not None:
                        hb.acquire((self, "write"))
                    return True
                if add(-_SHARE) & _MARK:  # another writer claimed meanwhile: back out, queue
                    self._unmark(cell)
                break
        me = _get_ident()
        waiter = _Waiter(me) if blocking else None
        self._lock.acquire()
        if not self._read_contended(me, blocking, timeout, waiter):
            return False
        hb = _hb.listener
        if hb is not None:
            hb.acquire((self, "write"))
        return True

    def release_read(self) -> None:
        try:
            add = self._local.add
        except AttributeError:
            raise LockNotHeldError(_NOT_A_READER) from None
        hb = _hb.listener
        if hb is not None:
            if self._local.cell.load() < _SHARE:
                raise LockNotHeldError(_NOT_A_READER)
            hb.release((self, "read"))  # before a writer can see the release
        value = add(-_SHARE)
        if value < 0 or (value & _MARK and value < _SHARE):  # see _last_share_out
            self._last_share_out(add, value)

    def _last_share_out(self, add: Any, value: int) -> None:
        """A release left the calling thread's cell at ``value``: no share was held, or a writer marked it.

        Called only then (``value < 0``, or the last share went from a marked
        cell): a release that leaves an unmarked cell makes no further call.
        """
        if value < 0:  # none: undo (a cell without shares is never marked)
            add(_SHARE)
            raise LockNotHeldError(_NOT_A_READER)
        if value & _MARK:  # a draining writer waits for this cell
            self._unmark(self._local.cell)


class _ShardedReadGuard(_ReadGuard):
    """``with rw.read():`` for :class:`_ShardedRWLock`, with its fast paths inlined.

    The same steps as ``acquire_read()``/``release_read()``: on 3.13t Python
    calls are not specialized, and one frame less each way is a good part of a
    ``with`` block's cost.
    """

    __slots__ = ()

    def __enter__(self) -> None:
        rw: _ShardedRWLock = self._lock  # type: ignore[assignment]  # (no cast(): a call costs)
        try:
            add = rw._local.add
        except AttributeError:
            add = rw._new_cell().add
        value = add(_SHARE)
        if not value & _FLAG or value >= 2 * _SHARE:
            hb = _hb.listener
            if hb is not None:
                hb.acquire((rw, "write"))
        else:
            rw._read_flagged(add, True, -1)

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        rw: _ShardedRWLock = self._lock  # type: ignore[assignment]  # (no cast(): a call costs)
        try:
            add = rw._local.add
        except AttributeError:
            raise LockNotHeldError(_NOT_A_READER) from None
        hb = _hb.listener
        if hb is not None:
            if rw._local.cell.load() < _SHARE:
                raise LockNotHeldError(_NOT_A_READER)
            hb.release((rw, "read"))
        value = add(-_SHARE)
        if value < 0 or (value & _MARK and value < _SHARE):  # see _last_share_out
            rw._last_share_out(add, value)


_C_CELL: Any = None if _fast.FASTREAD is None else _fast.FASTREAD.ReaderCell
_C_ADD_ALL: Any = None if _fast.FASTREAD is None else _fast.FASTREAD.add_all
_C_MARK_ALL: Any = None if _fast.FASTREAD is None else _fast.FASTREAD.mark_all

# The cells: the C ReaderCell when racefree.sync._fastread is built (the C read guard then adds to
# the calling thread's cell directly, found through a per-thread cache, see _fastread.c), else an
# AtomicInt of the active back-end.
_ShardedRWLock._Cell = (
    _make_cell_type(_backend.ACTIVE) if _fast.FASTREAD is None else _fast.FASTREAD.ReaderCell
)
