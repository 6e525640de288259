"""A readers-writer lock that starves neither readers nor writers (Go's ``sync.RWMutex``).

Invariants (true with and without the GIL) — every field is guarded by ``_lock``:

* ``_writer`` is the ident of the thread holding the write lock, or ``None``.
* ``_readers`` holds one thread ident per read share held (a thread that holds
  two shares appears twice).  ``_writer is not None`` implies ``not _readers``.
* ``_waiting_writers`` / ``_waiting_readers`` count threads blocked in
  ``acquire_write`` / ``acquire_read``.
* ``_admitted`` counts readers that were waiting when the last writer released
  and have neither entered nor given up since; a writer may enter only when it
  is 0.  Such readers carry a ``generation`` older than ``_generation``.

Policy (phase-fair): a waiting writer blocks *new* readers, so a stream of
readers cannot starve it; when a writer releases, every reader that was
waiting at that moment enters before the next writer, so a stream of writers
cannot starve readers.  Writers among themselves are woken in arrival order
(``threading.Condition`` wakes its waiters FIFO).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import TracebackType

from racefree.sync import _hb
from racefree.sync.errors import DeadlockError, LockNotHeldError

__all__ = ["RWLock", "RWLockStatistics"]

_get_ident = threading.get_ident
_monotonic = time.monotonic


@dataclass(frozen=True)
class RWLockStatistics:
    """A point-in-time view of an :class:`RWLock`."""

    readers: int  # threads holding read shares
    writer: int | None  # ident of the thread holding the write lock
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

    When not to use it: for short critical sections a plain ``threading.Lock``
    is cheaper (an RW lock costs a lock round-trip per acquire *and* per release);
    for read-mostly data that is replaced wholesale, :class:`~racefree.sync.Snapshot`
    lets readers take no lock at all.
    """

    __slots__ = (
        "__weakref__",
        "_admitted",
        "_can_read",
        "_can_write",
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
        self._can_write = threading.Condition(self._lock)
        self._readers: list[int] = []
        self._writer: int | None = None
        self._waiting_readers = 0
        self._waiting_writers = 0
        self._admitted = 0
        self._generation = 0  # bumped by every release_write
        self._read_guard = _ReadGuard(self)
        self._write_guard = _WriteGuard(self)

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
                if self._writer == me:
                    raise DeadlockError(
                        "acquire_read() by the thread that holds the write lock would deadlock "
                        "(RWLock does not downgrade)"
                    )
                if self._writer is None and me in self._readers:
                    self._readers.append(me)  # re-entrant read: never waits behind a writer
                elif not blocking or not self._wait_read(me, timeout):
                    return False
            finally:
                lock.release()
        hb = _hb.listener
        if hb is not None:
            hb.acquire((self, "write"))
        return True

    def _wait_read(self, me: int, timeout: float) -> bool:
        generation = self._generation
        deadline = None if timeout is None or timeout < 0 else _monotonic() + timeout
        self._waiting_readers += 1
        entered = False
        try:
            # Blocked while a writer holds, or while writers wait -- unless a writer
            # released since we started waiting (then we are in the admitted batch).
            while self._writer is not None or (
                self._waiting_writers and not (self._admitted and generation != self._generation)
            ):
                remaining = None if deadline is None else deadline - _monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._can_read.wait(remaining)
            self._readers.append(me)
            entered = True
            return True
        finally:
            self._waiting_readers -= 1
            if self._admitted and generation != self._generation:
                self._admitted -= 1  # entered, or gave up, from the admitted batch
                if not entered and not self._admitted and not self._readers and self._waiting_writers:
                    self._can_write.notify()

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
            raise LockNotHeldError(
                "release_read(): the calling thread holds no read share of this RWLock"
            ) from None
        hb = _hb.listener
        if hb is not None:  # a writer cannot see the release before we unlock
            hb.release((self, "read"))
        if not readers and self._waiting_writers and not self._admitted:
            self._can_write.notify()
        lock.release()

    # -- writers -------------------------------------------------------------

    def acquire_write(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take the write lock; False if ``timeout`` expired (or, with ``blocking=False``, it would block)."""
        me = _get_ident()
        with self._lock:
            if self._writer is None and not self._readers and not self._admitted:
                self._writer = me
            else:
                if self._writer == me:
                    raise DeadlockError("acquire_write(): the calling thread already holds the write lock")
                if me in self._readers:
                    raise DeadlockError(
                        "acquire_write() by a thread that holds a read share would deadlock "
                        "(RWLock does not upgrade; release the read share first)"
                    )
                if not blocking or not self._wait_write(me, timeout):
                    return False
        hb = _hb.listener
        if hb is not None:
            hb.acquire((self, "write"))
            hb.acquire((self, "read"))
        return True

    def _wait_write(self, me: int, timeout: float) -> bool:
        deadline = None if timeout is None or timeout < 0 else _monotonic() + timeout
        self._waiting_writers += 1
        try:
            while self._writer is not None or self._readers or self._admitted:
                remaining = None if deadline is None else deadline - _monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._can_write.wait(remaining)
            self._writer = me
            return True
        finally:
            self._waiting_writers -= 1
            if self._writer != me:  # we gave up: pass on what we may have been woken for
                if not self._waiting_writers and self._waiting_readers:
                    self._can_read.notify_all()  # readers were queued behind us
                elif self._writer is None and not self._readers and not self._admitted:
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
                writer=self._writer,
                waiting_readers=self._waiting_readers,
                waiting_writers=self._waiting_writers,
            )

    def __repr__(self) -> str:
        s = self.statistics()
        state = f"write-locked by {s.writer}" if s.writer is not None else (
            f"read-locked by {s.readers} thread(s)" if s.readers else "unlocked"
        )
        return (
            f"<{type(self).__name__} {state}, waiting: {s.waiting_readers} reader(s), "
            f"{s.waiting_writers} writer(s)>"
        )
