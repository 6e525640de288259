"""A readers-writer lock that starves neither readers nor writers (phase-fair).

Three implementations share one contract and one slow path (the claim, the
drain and the parked readers, in :mod:`racefree.sync._rwlock_wait`, always
under ``_lock``); they differ in how a reader records its share.
``RWLock()`` picks one:

* :class:`RWLock` itself (the reference; chosen by nothing, used by tests):
  every reader appends/removes its ident in ``_readers`` under ``_lock``.
* :class:`_GILRWLock` (GIL enabled): the same list, appended without the lock
  on the fast path.
* :class:`~racefree.sync._rwlock_ft._ShardedRWLock` (free-threaded): one
  atomic cell per reader thread, so uncontended readers touch no shared lock
  and no shared cache line they write (see its own invariants).

Invariants (true with and without the GIL), beyond those of the slow path:

* ``_readers`` holds one entry per read share, by thread ident.
* Every field is written under ``_lock``, except the read shares on the fast
  paths: in :class:`_GILRWLock` a reader appends its ident *then* checks
  ``_writer``, and a writer sets ``_writer`` *then* checks ``_readers`` -- a
  store-then-load handshake that needs sequential consistency, which the GIL
  gives (it serializes all Python threads); in ``_ShardedRWLock`` reader and
  writer meet in one atomic cell, which needs no ordering between two
  locations at all.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

from racefree._build import gil_enabled as _gil_enabled  # one definition (_build)
from racefree.sync import _fast, _hb
from racefree.sync._rwlock_wait import NOT_A_READER as _NOT_A_READER
from racefree.sync._rwlock_wait import _RWLockCore
from racefree.sync.errors import LockNotHeldError

__all__ = ["RWLock", "RWLockStatistics"]

_get_ident = threading.get_ident


@dataclass(frozen=True)
class RWLockStatistics:
    """A point-in-time view of an :class:`RWLock`."""

    readers: int  # threads holding read shares
    writer: int | None  # ident of the thread holding the write lock (a writer that
    # has claimed but still waits for readers to leave counts in waiting_writers)
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


class RWLock(_RWLockCore):
    """Many readers or one writer.

    Initial state: unlocked.  Use ``with rw.read():`` / ``with rw.write():``,
    or the ``acquire_*``/``release_*`` pairs, which take ``blocking`` and
    ``timeout`` like :meth:`threading.Lock.acquire` and return whether the lock
    was acquired.

    Fairness (phase-fair, one claiming writer at a time):

    * A writer first *claims* the lock, then waits for the readers inside to
      leave, then holds it.  At most one writer claims or holds at a time.  A
      writer claims at once if no writer holds, claims or is queued; otherwise
      it queues, and writers claim in arrival order: each is woken when the
      claim before it ends and claims as soon as it runs.
    * Only the claiming (or holding) writer blocks readers: from its claim on, a
      reader that holds no share waits.  Writers queued behind it block nobody:
      between one writer's release and the next writer's claim, readers get in
      without waiting.
    * When a claim ends (the writer releases, or gives up on a timeout), every
      reader waiting at that moment is admitted -- handed its read share --
      before the next writer can claim; that writer then waits for them.

    So neither side starves.  A writer that has claimed waits only for the
    readers already inside (new ones wait behind it), and the only readers that
    can pass a queued writer are those arriving while it wakes up to claim --
    the step any arriving writer takes too.  A reader waits through at most
    two claims: the one in force when it arrives and, if another writer claims
    just as that one ends, that one; then it is admitted.  (On a free-threaded build a
    reader that finds a claim first yields the CPU a few times, watching only
    its own cell, and comes in at once if the claim ends meanwhile: a write is
    short, and parking and waking a reader costs more than a few yields when
    threads outnumber CPUs.)

    Re-entrancy: a thread that holds a read share may take another (it does not
    wait, even behind a claiming writer -- otherwise it would deadlock).  Anything
    else re-entrant raises :class:`~racefree.sync.DeadlockError` instead of
    hanging: taking the write lock while holding it or a read share (no
    upgrades), taking a read share while holding the write lock.

    Ownership: only the thread that acquired may release; releasing what the
    calling thread does not hold raises :class:`~racefree.sync.LockNotHeldError`.

    Happens-before: ``release_write`` happens before every later
    ``acquire_read`` and ``acquire_write``; ``release_read`` happens before every
    later ``acquire_write`` (sync keys ``(lock, "write")`` and ``(lock, "read")``).

    Cost: while no writer claims, a reader takes no lock: with the GIL, a list
    append and remove; on a free-threaded build, one atomic add on a cell of
    its own thread for each of acquire and release, so readers on different
    cores do not serialize.  A reader that must wait parks on a queue of its
    own and is woken already admitted, so a writer's release does not send a
    crowd of readers through one lock.  Writers pay for the readers' fast
    path: claiming and releasing visit one cell per thread that ever read this
    lock.  When the optional ``racefree.sync._fastread`` is built (see
    :mod:`racefree.sync._fast`), ``read()`` and ``with rw.read():`` run in C: on
    a free-threaded build the guard finds the thread's cell in a per-thread
    cache and adds to it with one atomic instruction; with the GIL it appends
    and removes the thread's ident in place.  Either costs about what a
    ``threading.Lock`` acquire and release cost.

    When not to use it: for short critical sections with few readers a plain
    ``threading.Lock`` is cheaper; when writes are frequent, each write makes
    every reader that arrives while it claims or holds block once; for
    read-mostly data that is replaced wholesale,
    :class:`~racefree.sync.Snapshot` lets readers take no lock at all.  On a
    free-threaded build, what the readers do inside matters too: ``dict.get``
    (unlike ``d[key]``) takes the dict's own lock, so readers that share a
    read section still queue on it.
    """

    __slots__ = ()  # the guards: in the base (_rwlock_wait._GuardBase), so read() is one C call

    def __init__(self) -> None:
        super().__init__()
        self._read_guard = _ReadGuard(self)
        self._write_guard = _WriteGuard(self)

    def __new__(cls) -> RWLock:
        if cls is RWLock:
            cls = _GILRWLock if _gil_enabled() else _ShardedRWLock
        return _RWLockCore.__new__(cls)

    # -- read shares: the reference keeps them in a list (all under _lock) --------

    def _shares(self, me: int) -> int:
        return self._readers.count(me)

    def _add_share(self, ident: int) -> None:
        self._readers.append(ident)

    def _readers_inside(self) -> bool:
        return bool(self._readers)

    def _reader_threads(self) -> int:
        """How many threads hold read shares."""
        return len(set(self._readers))

    # -- readers -------------------------------------------------------------

    def acquire_read(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take a read share; False if ``timeout`` expired (or, with ``blocking=False``, it would block)."""
        me = _get_ident()
        lock = self._lock
        lock.acquire()
        # Fast path without try/finally: nothing between acquire and release can raise.
        if self._writer is None:
            self._readers.append(me)
            lock.release()
        elif not self._read_contended(me, blocking, timeout):
            return False
        hb = _hb.listener
        if hb is not None:
            hb.acquire((self, "write"))
        return True

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

    # -- context managers and introspection ------------------------------------

    if TYPE_CHECKING:  # at run time read() and write() are the base's (C when _fastread is built)

        def read(self) -> _ReadGuard:
            """``with rw.read():`` holds a read share for the block."""

        def write(self) -> _WriteGuard:
            """``with rw.write():`` holds the write lock for the block."""

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

    def __init__(self) -> None:
        super().__init__()
        fast = _fast.FASTREAD  # the same steps in C when built: no Python frame per with-block
        self._read_guard = _GILReadGuard(self) if fast is None else fast.GILReadGuard(self)

    def acquire_read(self, blocking: bool = True, timeout: float = -1) -> bool:
        me = _get_ident()
        readers = self._readers
        readers.append(me)  # provisional: a claiming writer now waits for us
        if self._writer is None:
            hb = _hb.listener
            if hb is not None:
                hb.acquire((self, "write"))
            return True
        return self._read_claimed(me, blocking, timeout)

    def _read_claimed(self, me: int, blocking: bool, timeout: float) -> bool:
        """The provisional share is in and a writer holds or claims: keep it (re-entrant) or queue."""
        readers = self._readers
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
            self._wake_drained()

    def _wake_drained(self) -> None:
        """The last reader left while a writer holds or claims: wake it if it waits for the drain."""
        with self._lock:
            if self._draining:
                self._drained.notify()


class _GILReadGuard(_ReadGuard):
    """``with rw.read():`` for :class:`_GILRWLock`, with its fast paths inlined (one frame less each way)."""

    __slots__ = ()

    def __enter__(self) -> None:
        rw: _GILRWLock = self._lock  # type: ignore[assignment]  # (no cast(): a call costs)
        me = _get_ident()
        rw._readers.append(me)  # provisional, as in _GILRWLock.acquire_read
        if rw._writer is None:
            hb = _hb.listener
            if hb is not None:
                hb.acquire((rw, "write"))
        else:
            rw._read_claimed(me, True, -1)

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        rw: _GILRWLock = self._lock  # type: ignore[assignment]
        if _hb.listener is not None:
            rw.release_read()  # the checks and the report live there
            return
        readers = rw._readers
        try:
            readers.remove(_get_ident())
        except ValueError:
            raise LockNotHeldError(_NOT_A_READER) from None
        if rw._writer is not None and not readers:  # looked at after the remove, as in release_read
            rw._wake_drained()


# Imported last: the free-threaded implementation subclasses RWLock (the package
# __init__ imports this module first, so the cycle always resolves this way).
from racefree.sync._rwlock_ft import _ShardedRWLock  # noqa: E402
