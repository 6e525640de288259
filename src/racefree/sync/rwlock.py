"""A readers-writer lock that starves neither readers nor writers (Go's ``sync.RWMutex``).

Three implementations share one contract and one slow path (the waiting,
fairness and misuse logic of :class:`RWLock`, always under ``_lock``); they
differ in how a reader announces its share.  ``RWLock()`` picks one:

* :class:`RWLock` itself (the reference; chosen by nothing, used by tests):
  every reader appends/removes its ident in ``_readers`` under ``_lock``.
* :class:`_GILRWLock` (GIL enabled): the same list, appended without the lock
  on the fast path.
* :class:`_ShardedRWLock` (free-threaded): one atomic cell per reader thread,
  so uncontended readers touch no shared lock and no shared cache line
  they write (see its own invariants).

Invariants (true with and without the GIL):

* ``_writer`` is the ident of the writer that holds the lock *or has claimed
  it and waits for the readers inside to leave*, else ``None``.  A writer
  claims first and then waits for the readers to drain, so once it holds, no
  reader holds a share.
* Read shares (``_readers`` here, the cells in :class:`_ShardedRWLock`): one
  per share held, by thread.  Only a thread removes its own; it adds its own,
  except that a parked reader's share is added by the thread that admits it.
* ``_waiting_writers`` counts threads blocked in ``acquire_write`` before
  their claim; ``_read_waiters`` lists the readers parked in ``acquire_read``,
  each on a queue of its own.  A reader parks only while a writer holds, claims
  or waits, and the thread that ends that state (a releasing writer, or the
  last waiting writer giving up) *admits* every parked reader at once: it adds
  their read shares itself under ``_lock``, and unparks them once it has
  released ``_lock`` (``_admitted`` holds them in between).  So a batch of readers is in
  before the next writer can claim -- that writer waits for them to leave --
  and a woken reader touches no shared lock.  A reader whose timeout expires
  takes ``_lock`` and leaves the list, unless it was admitted meanwhile (then
  it holds its share and reports success).
* Every field is written under ``_lock``, except the read shares on the
  fast paths: in :class:`_GILRWLock` a reader appends its ident *then* checks
  ``_writer``/``_waiting_writers``, and a writer sets those *then* checks
  ``_readers`` -- a store-then-load handshake that needs sequential
  consistency, which the GIL gives (it serializes all Python threads); in
  :class:`_ShardedRWLock` reader and writer meet in one atomic cell, which
  needs no ordering between two locations at all.

Policy (phase-fair): a waiting writer blocks *new* readers, so a stream of
readers cannot starve it; when a writer releases, every reader that was
waiting at that moment enters before the next writer, so a stream of writers
cannot starve readers.  Writers among themselves are woken in arrival order
(``threading.Condition`` wakes its waiters FIFO).
"""

from __future__ import annotations

import sys
import threading
import time
from _queue import Empty, SimpleQueue  # the C type itself: a detector replaces queue.SimpleQueue
from dataclasses import dataclass
from types import TracebackType
from typing import Any, cast

from racefree.sync import _backend, _hb
from racefree.sync.errors import DeadlockError, LockNotHeldError

__all__ = ["RWLock", "RWLockStatistics"]

_get_ident = threading.get_ident
_monotonic = time.monotonic

_NOT_A_READER = "release_read(): the calling thread holds no read share of this RWLock"


def _gil_enabled() -> bool:
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


@dataclass(frozen=True)
class RWLockStatistics:
    """A point-in-time view of an :class:`RWLock`."""

    readers: int  # threads holding read shares
    writer: int | None  # ident of the thread holding the write lock (a writer still
    # waiting for readers to leave counts in waiting_writers)
    waiting_readers: int
    waiting_writers: int


class _ReadGuard:
    __slots__ = ("_lock",)

    def __init__(self, lock: RWLock) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        self._lock.acquire_read()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._lock.release_read()


class _WriteGuard:
    __slots__ = ("_lock",)

    def __init__(self, lock: RWLock) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        self._lock.acquire_write()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._lock.release_write()


class _Waiter:
    """A reader parked until a thread admits it (or its timeout expires).

    It parks on a ``SimpleQueue`` of its own, which the admitting thread puts
    into: on a free-threaded build a blocked ``threading.Lock.acquire`` first
    spins through some forty ``sched_yield`` calls, and with dozens of parked
    readers those yields were most of the run (a ``SimpleQueue.get`` blocks at once).
    """

    __slots__ = ("admitted", "ident", "park")

    def __init__(self, ident: int) -> None:
        self.ident = ident
        self.park: SimpleQueue[None] = SimpleQueue()  # the admitting thread puts None
        self.admitted = False  # guarded by the RWLock's _lock


class RWLock:
    """Many readers or one writer.

    Initial state: unlocked.  Use ``with rw.read():`` / ``with rw.write():``,
    or the ``acquire_*``/``release_*`` pairs, which take ``blocking`` and
    ``timeout`` like :meth:`threading.Lock.acquire` and return whether the lock
    was acquired.

    Fairness (phase-fair): once a writer waits, new readers wait behind it; when
    a writer releases, all readers waiting at that moment go in before the next
    writer (the releasing writer hands each its read share).  Neither side can
    starve the other.  Writers among themselves go in arrival order.

    Re-entrancy: a thread that holds a read share may take another (it does not
    wait, even behind a waiting writer — otherwise it would deadlock).  Anything
    else re-entrant raises :class:`~racefree.sync.DeadlockError` instead of
    hanging: taking the write lock while holding it or a read share (no
    upgrades), taking a read share while holding the write lock.

    Ownership: only the thread that acquired may release; releasing what the
    calling thread does not hold raises :class:`~racefree.sync.LockNotHeldError`.

    Happens-before: ``release_write`` happens before every later
    ``acquire_read`` and ``acquire_write``; ``release_read`` happens before every
    later ``acquire_write`` (sync keys ``(lock, "write")`` and ``(lock, "read")``).

    Cost: while no writer holds or waits, a reader takes no lock: with the
    GIL, a list append and remove; on a free-threaded build, one atomic add on
    a cell of its own thread for each of acquire and release, so readers on
    different cores do not serialize.  A reader that must wait parks on a lock
    of its own and is woken already admitted, so a writer's release does not
    send a crowd of readers through one lock.  Writers pay for the readers'
    fast path: claiming and releasing visit one cell per thread that ever read
    this lock.

    When not to use it: for short critical sections with few readers a plain
    ``threading.Lock`` is cheaper; when writes are frequent, each write makes
    every reader that arrives meanwhile block once; for read-mostly data that is
    replaced wholesale, :class:`~racefree.sync.Snapshot` lets readers take no
    lock at all.
    """

    __slots__ = (
        "__weakref__",
        "_admitted",
        "_can_write",
        "_drained",
        "_draining",
        "_lock",
        "_read_guard",
        "_read_waiters",
        "_readers",
        "_waiting_writers",
        "_write_guard",
        "_writer",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._can_write = threading.Condition(self._lock)  # writers waiting to claim
        self._drained = threading.Condition(self._lock)  # the claiming writer waiting for readers to leave
        self._draining = False  # the claiming writer is waiting in _drain
        self._readers: list[int] = []
        self._writer: int | None = None
        self._read_waiters: list[_Waiter] = []  # parked readers, in arrival order
        self._admitted: list[_Waiter] = []  # admitted, to be unparked once _lock is released
        self._waiting_writers = 0
        self._read_guard = _ReadGuard(self)
        self._write_guard = _WriteGuard(self)

    def __new__(cls) -> RWLock:
        if cls is RWLock:
            cls = _GILRWLock if _gil_enabled() else _ShardedRWLock
        return object.__new__(cls)

    # -- read shares: the part each implementation keeps its own way (all under _lock) --

    def _shares(self, me: int) -> int:
        """How many read shares thread ``me`` (the caller) holds."""
        return self._readers.count(me)

    def _add_share(self, ident: int) -> None:
        """Give thread ``ident`` (the caller, or a parked reader being admitted) one more read share."""
        self._readers.append(ident)

    def _readers_inside(self) -> bool:
        """Whether any thread holds a read share."""
        return bool(self._readers)

    def _reader_threads(self) -> int:
        """How many threads hold read shares."""
        return len(set(self._readers))

    def _writers_changed(self) -> None:
        """``_writer`` or ``_waiting_writers`` changed; called before the new state is acted on."""

    # -- readers -------------------------------------------------------------

    def acquire_read(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take a read share; False if ``timeout`` expired (or, with ``blocking=False``, it would block)."""
        me = _get_ident()
        lock = self._lock
        lock.acquire()
        # Fast path without try/finally: nothing between acquire and release can raise.
        if self._writer is None and not self._waiting_writers:
            self._readers.append(me)
            lock.release()
        elif not self._read_contended(me, blocking, timeout):
            return False
        hb = _hb.listener
        if hb is not None:
            hb.acquire((self, "write"))
        return True

    def _read_contended(
        self, me: int, blocking: bool, timeout: float | None, waiter: _Waiter | None = None
    ) -> bool:
        """Called holding ``_lock`` (and releases it): a writer holds, claims or waits, or did.

        ``waiter``: one made before taking ``_lock``, to hold it for less time.
        """
        try:
            if self._writer == me:
                raise DeadlockError(
                    "acquire_read() by the thread that holds the write lock would deadlock "
                    "(RWLock does not downgrade)"
                )
            if self._shares(me) or (self._writer is None and not self._waiting_writers):
                # Re-entrant read: a writer can only be waiting or draining (we hold a
                # share), and it would wait for us forever if we queued behind it.
                # Or the writers left since the caller looked: nothing to wait for.
                self._add_share(me)
                return True
            if not blocking:
                return False
            if waiter is None:
                waiter = _Waiter(me)
            self._read_waiters.append(waiter)
        finally:
            self._lock.release()
        try:
            waiter.park.get(True, None if timeout is None or timeout < 0 else timeout)
            return True  # admitted: the releasing thread gave us our share
        except Empty:
            pass
        with self._lock:
            if waiter.admitted:  # admitted as the timeout expired: we hold the share
                return True
            self._read_waiters.remove(waiter)
            return False

    def _admit_readers(self) -> None:
        """Under ``_lock``, no writer holding: every parked reader gets its share, in arrival order.

        They are woken by :meth:`_unpark` once ``_lock`` is released, so that a
        reader that wakes, reads and comes back does not find the lock still
        held by the thread that is admitting the rest of its batch.
        """
        waiters, self._read_waiters = self._read_waiters, []
        for waiter in waiters:
            self._add_share(waiter.ident)
            waiter.admitted = True
        self._admitted.extend(waiters)

    def _unpark(self, admitted: list[_Waiter]) -> None:
        """Wake readers admitted under ``_lock`` (called after releasing it)."""
        for waiter in admitted:
            waiter.park.put(None)

    def release_read(self) -> None:
        """Give back one read share held by the calling thread."""
        me = _get_ident()
        lock = self._lock
        lock.acquire()
        readers = self._readers
        try:
            readers.remove(me)
        except ValueError:
            lock.release()
            raise LockNotHeldError(_NOT_A_READER) from None
        hb = _hb.listener
        if hb is not None:  # a writer cannot see the release before we unlock
            hb.release((self, "read"))
        if not readers and self._draining:
            self._drained.notify()
        lock.release()

    # -- writers -------------------------------------------------------------

    def acquire_write(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take the write lock; False if ``timeout`` expired (or, with ``blocking=False``, it would block)."""
        admitted: list[_Waiter] = []
        try:
            with self._lock:
                try:
                    got = self._acquire_write(blocking, timeout)
                finally:  # giving up may have admitted the readers queued behind us
                    admitted, self._admitted = self._admitted, []
        finally:
            self._unpark(admitted)
        if got:
            hb = _hb.listener
            if hb is not None:
                hb.acquire((self, "write"))
                hb.acquire((self, "read"))
        return got

    def _acquire_write(self, blocking: bool, timeout: float | None) -> bool:
        """Under ``_lock``: the checks, the claim and the drain."""
        me = _get_ident()
        if self._writer == me:
            raise DeadlockError("acquire_write(): the calling thread already holds the write lock")
        if self._shares(me):
            raise DeadlockError(
                "acquire_write() by a thread that holds a read share would deadlock "
                "(RWLock does not upgrade; release the read share first)"
            )
        deadline = None if timeout is None or timeout < 0 else _monotonic() + timeout
        if self._writer is None and not self._waiting_writers:
            self._writer = me  # claim: readers arriving from now on wait
            self._writers_changed()
        elif not blocking or not self._wait_claim(me, deadline):
            return False
        return self._drain(blocking, deadline)

    def _wait_claim(self, me: int, deadline: float | None) -> bool:
        """Under ``_lock``: wait for the writer before us to release, then claim."""
        self._waiting_writers += 1
        self._writers_changed()
        try:
            while self._writer is not None:
                remaining = None if deadline is None else deadline - _monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._can_write.wait(remaining)
            self._writer = me
            return True
        finally:
            self._waiting_writers -= 1
            if self._writer != me:  # we gave up: pass on what we may have been woken for
                self._writers_changed()
                self._wake_after_giving_up()

    def _drain(self, blocking: bool, deadline: float | None) -> bool:
        """Under ``_lock``, holding the claim: wait until the readers inside (the admitted ones too) leave."""
        self._draining = True
        try:
            while self._readers_inside():
                remaining = None if deadline is None else deadline - _monotonic()
                if not blocking or (remaining is not None and remaining <= 0):
                    self._writer = None  # give the claim back
                    self._writers_changed()
                    self._wake_after_giving_up()
                    return False
                self._drained.wait(remaining)
            return True
        finally:
            self._draining = False

    def _wake_after_giving_up(self) -> None:
        if self._writer is not None:
            return
        if self._waiting_writers:
            self._can_write.notify()
        elif self._read_waiters:
            self._admit_readers()  # they were queued behind us

    def release_write(self) -> None:
        """Give back the write lock held by the calling thread."""
        with self._lock:
            if self._writer != _get_ident():
                raise LockNotHeldError("release_write(): the calling thread does not hold the write lock")
            hb = _hb.listener
            if hb is not None:
                hb.release((self, "write"))
            self._writer = None
            self._writers_changed()
            if self._read_waiters:
                self._admit_readers()  # before the next writer, which will wait for them to leave
            if self._waiting_writers:
                self._can_write.notify()
            admitted, self._admitted = self._admitted, []
        self._unpark(admitted)

    # -- context managers and introspection ------------------------------------

    def read(self) -> _ReadGuard:
        """``with rw.read():`` holds a read share for the block."""
        return self._read_guard

    def write(self) -> _WriteGuard:
        """``with rw.write():`` holds the write lock for the block."""
        return self._write_guard

    def statistics(self) -> RWLockStatistics:
        """Who holds and who waits, right now."""
        with self._lock:
            return RWLockStatistics(
                readers=self._reader_threads(),
                writer=None if self._draining else self._writer,
                waiting_readers=len(self._read_waiters),
                waiting_writers=self._waiting_writers + self._draining,
            )

    def __repr__(self) -> str:
        s = self.statistics()
        state = f"write-locked by {s.writer}" if s.writer is not None else (
            f"read-locked by {s.readers} thread(s)" if s.readers else "unlocked"
        )
        return (
            f"<RWLock {state}, waiting: {s.waiting_readers} reader(s), "
            f"{s.waiting_writers} writer(s)>"
        )


class _GILRWLock(RWLock):
    """:class:`RWLock` for an interpreter running with the GIL: readers take no lock when uncontended.

    Chosen by ``RWLock()`` when the GIL is enabled at construction (it can be
    turned on later, never off, so the choice stays valid).  The reader fast
    paths rely on the GIL's sequential consistency; see the module invariants.
    """

    __slots__ = ()

    def acquire_read(self, blocking: bool = True, timeout: float = -1) -> bool:
        me = _get_ident()
        readers = self._readers
        readers.append(me)  # provisional: a claiming writer now waits for us
        if self._writer is None and not self._waiting_writers:
            hb = _hb.listener
            if hb is not None:
                hb.acquire((self, "write"))
            return True
        lock = self._lock
        lock.acquire()
        if self._writer != me and readers.count(me) > 1:
            lock.release()  # re-entrant read: keep the provisional share (see RWLock._read_contended)
        else:
            readers.remove(me)  # back out, then queue like any reader
            if not readers and self._draining:
                self._drained.notify()
            if not self._read_contended(me, blocking, timeout):
                return False
        hb = _hb.listener
        if hb is not None:
            hb.acquire((self, "write"))
        return True

    def release_read(self) -> None:
        me = _get_ident()
        readers = self._readers
        hb = _hb.listener
        if hb is not None:
            if me not in readers:
                raise LockNotHeldError(_NOT_A_READER)
            hb.release((self, "read"))  # before a writer can see the release
        try:
            readers.remove(me)
        except ValueError:
            raise LockNotHeldError(_NOT_A_READER) from None
        if self._writer is not None and not readers:
            with self._lock:
                if self._draining:
                    self._drained.notify()


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
_FLAG = 1  # a writer holds, claims or waits: readers must go through _lock
_MARK = 2  # the draining writer counted this cell's shares in _pending
_SHARE = 4  # one read share


class _ShardedRWLock(RWLock):
    """:class:`RWLock` for a free-threaded interpreter: readers touch only a cell of their own thread.

    Chosen by ``RWLock()`` when the GIL is disabled at construction.  Its
    correctness does not depend on the GIL (the tests run it on both builds
    and both AtomicInt back-ends).

    Invariants (true with and without the GIL):

    * Each thread that ever read this lock owns one cell, an
      :class:`~racefree.sync.AtomicInt` (linearizable on every back-end)
      holding ``4 * shares + 2 * marked + flagged``.  Only the owner changes
      ``shares`` (save the share added, under ``_lock``, by the thread that
      admits the parked owner); only a thread holding ``_lock`` changes ``flagged``, which is
      set while a writer holds, claims or waits; ``marked`` is set by the
      draining writer (compare-and-swap, under ``_lock``) on each cell that had
      shares, and cleared by whoever gets there first (compare-and-swap): the
      owner when its last share goes, or the writer when it gives up.
      ``_local.cell`` is the calling thread's cell; ``_cells`` (guarded by
      ``_lock``) maps thread idents to cells, for writers to visit.
    * ``_flagged`` (guarded by ``_lock``) is the flag that every cell carries;
      :meth:`_writers_changed` keeps it equal to "a writer holds, claims or
      waits", setting or clearing it in every cell *before* the writer acts.
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

    __slots__ = ("_cells", "_flagged", "_local", "_pending")

    _Cell: type[Any]  # the AtomicInt back-end of the cells (a class attribute, set below)

    def __init__(self) -> None:
        super().__init__()
        self._local = threading.local()
        self._cells: dict[int, Any] = {}  # guarded by _lock
        self._flagged = False  # guarded by _lock
        self._pending = self._Cell(0)
        self._read_guard = _ShardedReadGuard(self)

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
        flag = self._writer is not None or self._waiting_writers > 0
        if flag != self._flagged:
            self._flagged = flag
            delta = _FLAG if flag else -_FLAG
            for cell in self._cells.values():
                cell.add(delta)

    # -- draining --------------------------------------------------------------

    def _drain(self, blocking: bool, deadline: float | None) -> bool:
        pending = self._pending
        pending.add(1)  # our token: no reader can bring the count to zero while we mark
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
                    self._writer = None  # give the claim back
                    self._writers_changed()
                    self._wake_after_giving_up()
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
        """A writer holds, claims or waits: back out, then queue like any reader (RWLock._read_contended)."""
        if add(-_SHARE) & _MARK:  # the draining writer counted our provisional share
            self._unmark(self._local.cell)
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
        if value < _SHARE:
            self._last_share_out(add, value)

    def _last_share_out(self, add: Any, value: int) -> None:
        """The calling thread's cell was left at ``value`` by a release: its last share went (or none was)."""
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
        if value < _SHARE:
            rw._last_share_out(add, value)


_ShardedRWLock._Cell = _make_cell_type(_backend.ACTIVE)
