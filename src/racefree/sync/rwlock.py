"""A readers-writer lock that starves neither readers nor writers (Go's ``sync.RWMutex``).

Invariants (true with and without the GIL):

* ``_writer`` is the ident of the writer that holds the lock *or has claimed
  it and waits for the readers inside to leave*, else ``None``.  A writer
  claims first and then waits for ``_readers`` to drain, so once it holds,
  ``not _readers``.
* ``_readers`` holds one thread ident per read share held (a thread that holds
  two shares appears twice).  Only a thread adds or removes its own ident.
* ``_waiting_writers`` / ``_waiting_readers`` count threads blocked in
  ``acquire_write`` / ``acquire_read``; ``_admitted`` counts readers that were
  waiting when the last writer released and have neither entered nor given up
  since (a writer may not claim while it is non-zero); such readers carry a
  ``generation`` older than ``_generation``.
* Every field is written under ``_lock``, except ``_readers`` in the GIL-mode
  fast paths (:class:`_GILRWLock`): there a reader appends its ident *then*
  checks ``_writer``/``_waiting_writers``, and a writer sets those *then* checks
  ``_readers`` — a store-then-load handshake that needs sequential
  consistency, which the GIL gives (it serializes all Python threads).  Without
  the GIL, readers append and remove under ``_lock`` instead.

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
from dataclasses import dataclass
from types import TracebackType

from racefree.sync import _hb
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


class RWLock:
    """Many readers or one writer.

    Initial state: unlocked.  Use ``with rw.read():`` / ``with rw.write():``,
    or the ``acquire_*``/``release_*`` pairs, which take ``blocking`` and
    ``timeout`` like :meth:`threading.Lock.acquire` and return whether the lock
    was acquired.

    Fairness (phase-fair): once a writer waits, new readers wait behind it; when
    a writer releases, all readers waiting at that moment go in before the next
    writer.  Neither side can starve the other.

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

    Cost: with the GIL, an uncontended read acquire+release takes no lock (a
    list append and remove); without it, one internal-lock round-trip each.

    When not to use it: for short critical sections a plain ``threading.Lock``
    is cheaper, and on a free-threaded build readers still serialize briefly on
    the internal lock;
    for read-mostly data that is replaced wholesale, :class:`~racefree.sync.Snapshot`
    lets readers take no lock at all.
    """

    __slots__ = (
        "__weakref__",
        "_admitted",
        "_can_read",
        "_can_write",
        "_drained",
        "_draining",
        "_generation",
        "_lock",
        "_read_guard",
        "_readers",
        "_waiting_readers",
        "_waiting_writers",
        "_write_guard",
        "_writer",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._can_read = threading.Condition(self._lock)
        self._can_write = threading.Condition(self._lock)  # writers waiting to claim
        self._drained = threading.Condition(self._lock)  # the claiming writer waiting for readers to leave
        self._draining = False  # the claiming writer is waiting in _drain
        self._readers: list[int] = []
        self._writer: int | None = None
        self._waiting_readers = 0
        self._waiting_writers = 0
        self._admitted = 0
        self._generation = 0  # bumped by every release_write
        self._read_guard = _ReadGuard(self)
        self._write_guard = _WriteGuard(self)

    def __new__(cls) -> RWLock:
        if cls is RWLock and _gil_enabled():
            cls = _GILRWLock
        return object.__new__(cls)

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
        else:
            try:
                if not self._read_slow(me, blocking, timeout):
                    return False
            finally:
                lock.release()
        hb = _hb.listener
        if hb is not None:
            hb.acquire((self, "write"))
        return True

    def _read_slow(self, me: int, blocking: bool, timeout: float) -> bool:
        """Under ``_lock``: a writer holds, claims or waits."""
        if self._writer == me:
            raise DeadlockError(
                "acquire_read() by the thread that holds the write lock would deadlock "
                "(RWLock does not downgrade)"
            )
        if me in self._readers:
            # Re-entrant read: a writer can only be waiting or draining (we hold a
            # share), and it would wait for us forever if we queued behind it.
            self._readers.append(me)
            return True
        return blocking and self._wait_read(me, timeout)

    def _wait_read(self, me: int, timeout: float) -> bool:
        generation = self._generation
        deadline = None if timeout is None or timeout < 0 else _monotonic() + timeout
        self._waiting_readers += 1
        try:
            # Blocked while a writer holds or claims, or while writers wait -- unless a
            # writer released since we started waiting (we are in the admitted batch).
            while self._writer is not None or (
                self._waiting_writers and not (self._admitted and generation != self._generation)
            ):
                remaining = None if deadline is None else deadline - _monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._can_read.wait(remaining)
            self._readers.append(me)
            return True
        finally:
            self._waiting_readers -= 1
            if self._admitted and generation != self._generation:
                self._admitted -= 1  # entered, or gave up, from the admitted batch
                if not self._admitted and self._waiting_writers:
                    self._can_write.notify()  # the batch is in: the next writer may claim

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
        if not readers and self._writer is not None:
            self._drained.notify()
        lock.release()

    # -- writers -------------------------------------------------------------

    def acquire_write(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take the write lock; False if ``timeout`` expired (or, with ``blocking=False``, it would block)."""
        me = _get_ident()
        with self._lock:
            if self._writer == me:
                raise DeadlockError("acquire_write(): the calling thread already holds the write lock")
            if me in self._readers:
                raise DeadlockError(
                    "acquire_write() by a thread that holds a read share would deadlock "
                    "(RWLock does not upgrade; release the read share first)"
                )
            deadline = None if timeout is None or timeout < 0 else _monotonic() + timeout
            if self._writer is None and not self._admitted and not self._waiting_writers:
                self._writer = me  # claim: readers arriving from now on wait
            elif not blocking or not self._wait_claim(me, deadline):
                return False
            if self._readers and not self._drain(blocking, deadline):
                return False
        hb = _hb.listener
        if hb is not None:
            hb.acquire((self, "write"))
            hb.acquire((self, "read"))
        return True

    def _wait_claim(self, me: int, deadline: float | None) -> bool:
        """Under ``_lock``: wait for the previous writer and the admitted readers, then claim."""
        self._waiting_writers += 1
        try:
            while self._writer is not None or self._admitted:
                remaining = None if deadline is None else deadline - _monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._can_write.wait(remaining)
            self._writer = me
            return True
        finally:
            self._waiting_writers -= 1
            if self._writer != me:  # we gave up: pass on what we may have been woken for
                self._wake_after_giving_up()

    def _drain(self, blocking: bool, deadline: float | None) -> bool:
        """Under ``_lock``, holding the claim: wait until the readers inside have left."""
        self._draining = True
        try:
            while self._readers:
                remaining = None if deadline is None else deadline - _monotonic()
                if not blocking or (remaining is not None and remaining <= 0):
                    self._writer = None  # give the claim back
                    self._wake_after_giving_up()
                    return False
                self._drained.wait(remaining)
            return True
        finally:
            self._draining = False

    def _wake_after_giving_up(self) -> None:
        if self._waiting_readers and not self._waiting_writers:
            self._can_read.notify_all()  # readers were queued behind us
        elif self._writer is None and not self._admitted and self._waiting_writers:
            self._can_write.notify()

    def release_write(self) -> None:
        """Give back the write lock held by the calling thread."""
        with self._lock:
            if self._writer != _get_ident():
                raise LockNotHeldError("release_write(): the calling thread does not hold the write lock")
            hb = _hb.listener
            if hb is not None:
                hb.release((self, "write"))
            self._writer = None
            self._generation += 1
            if self._waiting_readers:
                self._admitted = self._waiting_readers
                self._can_read.notify_all()
            elif self._waiting_writers:
                self._can_write.notify()

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
                readers=len(set(self._readers)),
                writer=None if self._draining else self._writer,
                waiting_readers=self._waiting_readers,
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
        with self._lock:
            if self._writer != me and readers.count(me) > 1:
                pass  # re-entrant read: keep the provisional share (see RWLock._read_slow)
            else:
                readers.remove(me)  # back out, then queue like any reader
                if not readers and self._writer is not None:
                    self._drained.notify()
                if not self._read_slow(me, blocking, timeout):
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
                self._drained.notify()
