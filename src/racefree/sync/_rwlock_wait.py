"""RWLock's slow path, shared by every implementation: the claim, the drain, parked readers.

Everything here runs under ``_lock``; the implementations (``rwlock.py``,
``_rwlock_ft.py``) differ only in how a reader records its share, behind the
four hooks of :class:`_RWLockCore`.

Invariants (true with and without the GIL):

* ``_writer`` is the ident of the writer that holds the lock *or has claimed
  it and waits for the readers inside to leave*, else ``None``.  Only one
  writer claims at a time; it claims first and then waits for the readers to
  drain, so once it holds, no reader holds a share.
* ``_waiting_writers`` counts the writers queued in ``_wait_claim`` behind the
  claimant (in arrival order: ``threading.Condition`` wakes FIFO).  They block
  no reader: only the claim does.
* Read shares (the hooks): one per share held, by thread.  Only a thread
  removes its own; it adds its own, except that a parked reader's share is
  added by the thread that admits it.
* ``_read_waiters`` lists the readers parked in ``acquire_read``, each on a
  queue of its own.  A reader parks only while a writer holds or claims, so the
  list is empty whenever ``_writer`` is ``None`` and ``_lock`` is free.  The
  thread that ends a claim (a releasing writer, or a claimant giving up)
  *admits* every parked reader at once: it adds their shares itself under
  ``_lock`` and unparks them once it has released ``_lock`` (``_admitted``
  holds them in between).  So that batch is in before the next writer can
  claim -- that writer waits for them to leave -- and a woken reader touches
  no shared lock.  A reader whose timeout expires takes ``_lock`` and leaves the
  list, unless it was admitted meanwhile (then it holds its share and reports
  success).
* Every field here is written under ``_lock``.
"""

from __future__ import annotations

import threading
import time
from _queue import Empty, SimpleQueue  # the C type itself: a detector replaces queue.SimpleQueue
from typing import TYPE_CHECKING, Any

from racefree.sync import _fast, _hb
from racefree.sync.errors import DeadlockError, LockNotHeldError

_get_ident = threading.get_ident
_monotonic = time.monotonic

NOT_A_READER = "release_read(): the calling thread holds no read share of this RWLock"


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


class _PyGuardHolder:
    """The pure-Python base of :class:`_RWLockCore`: the contract of ``_fastread.GuardHolder``."""

    __slots__ = ("_read_guard", "_write_guard")

    _read_guard: Any
    _write_guard: Any

    def read(self) -> Any:
        """``with rw.read():`` holds a read share for the block."""
        return self._read_guard

    def write(self) -> Any:
        """``with rw.write():`` holds the write lock for the block."""
        return self._write_guard


# read() and write() are one C call each when racefree.sync._fastread is built (see _fast).
if TYPE_CHECKING:  # the checker sees the Python base; both have the same members
    _GuardBase = _PyGuardHolder
else:
    _GuardBase = _PyGuardHolder if _fast.FASTREAD is None else _fast.FASTREAD.GuardHolder


class _RWLockCore(_GuardBase):
    """The state and slow paths of :class:`~racefree.sync.RWLock`; subclasses keep the read shares."""

    __slots__ = (
        "__weakref__",
        "_admitted",
        "_can_write",
        "_drained",
        "_draining",
        "_lock",
        "_read_waiters",
        "_readers",
        "_waiting_writers",
        "_writer",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._can_write = threading.Condition(self._lock)  # queued writers waiting to claim
        self._drained = threading.Condition(self._lock)  # the claimant waiting for readers to leave
        self._draining = False  # the claimant is waiting in _drain
        self._readers: list[int] = []  # the reference's read shares (unused by the sharded one)
        self._writer: int | None = None
        self._read_waiters: list[_Waiter] = []  # parked readers, in arrival order
        self._admitted: list[_Waiter] = []  # admitted, to be unparked once _lock is released
        self._waiting_writers = 0

    # -- read shares: each implementation keeps them its own way (all under _lock) --

    def _shares(self, me: int) -> int:
        """How many read shares thread ``me`` (the caller) holds."""
        raise NotImplementedError

    def _add_share(self, ident: int) -> None:
        """Give thread ``ident`` (the caller, or a parked reader being admitted) one more read share."""
        raise NotImplementedError

    def _readers_inside(self) -> bool:
        """Whether any thread holds a read share."""
        raise NotImplementedError

    def _writers_changed(self) -> None:
        """``_writer`` changed; called before the new state is acted on."""

    # -- readers that find a claim ------------------------------------------------

    def _read_contended(
        self, me: int, blocking: bool, timeout: float | None, waiter: _Waiter | None = None
    ) -> bool:
        """Called holding ``_lock`` (and releases it): a writer holds or claims, or did.

        ``waiter``: one made before taking ``_lock``, to hold it for less time.
        """
        try:
            if self._writer == me:
                raise DeadlockError(
                    "acquire_read() by the thread that holds the write lock would deadlock "
                    "(RWLock does not downgrade)"
                )
            if self._shares(me) or self._writer is None:
                # Re-entrant read: the claimant can only be draining (we hold a share),
                # and it would wait for us forever if we queued behind it.
                # Or the claim ended since the caller looked: nothing to wait for.
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
            return True  # admitted: the thread that ended the claim gave us our share
        except Empty:
            pass
        with self._lock:
            if waiter.admitted:  # admitted as the timeout expired: we hold the share
                return True
            self._read_waiters.remove(waiter)
            return False

    def _unpark(self, admitted: list[_Waiter]) -> None:
        """Wake readers admitted under ``_lock`` (called after releasing it)."""
        for waiter in admitted:
            waiter.park.put(None)

    # -- writers ------------------------------------------------------------------

    def acquire_write(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take the write lock; False if ``timeout`` expired (or, with ``blocking=False``, it would block)."""
        admitted: list[_Waiter] = []
        try:
            with self._lock:
                try:
                    got = self._acquire_write(blocking, timeout)
                finally:  # giving the claim back admits the readers parked behind it
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
            self._claim(me)
        elif not blocking or not self._wait_claim(me, deadline):
            return False
        return self._drain(blocking, deadline)

    def _claim(self, me: int) -> None:
        """Under ``_lock``, the claim free: take it; readers arriving from now on wait."""
        self._writer = me
        self._writers_changed()

    def _wait_claim(self, me: int, deadline: float | None) -> bool:
        """Under ``_lock``: wait in line until the claim is free and we are first, then claim."""
        self._waiting_writers += 1
        try:
            while self._writer is not None:
                remaining = None if deadline is None else deadline - _monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._can_write.wait(remaining)
            self._claim(me)
            return True
        finally:
            self._waiting_writers -= 1
            if self._writer is None:  # we gave up, maybe woken for nothing: pass it on
                self._claim_ended()

    def _drain(self, blocking: bool, deadline: float | None) -> bool:
        """Under ``_lock``, holding the claim: wait until the readers inside (the admitted ones too) leave."""
        self._draining = True
        try:
            while self._readers_inside():
                remaining = None if deadline is None else deadline - _monotonic()
                if not blocking or (remaining is not None and remaining <= 0):
                    self._give_claim_back()
                    return False
                self._drained.wait(remaining)
            return True
        finally:
            self._draining = False

    def _give_claim_back(self) -> None:
        """Under ``_lock``: the claimant gives up (a timeout, or ``blocking=False``): the claim is free."""
        self._writer = None
        self._writers_changed()
        self._claim_ended()

    def _claim_ended(self) -> None:
        """Under ``_lock``, the claim free: admit the parked readers, then wake the next writer in line.

        The readers go first: they hold their shares before that writer can
        claim, and it waits for them to leave (phase-fair).
        """
        if self._read_waiters:
            waiters, self._read_waiters = self._read_waiters, []
            for waiter in waiters:  # in arrival order
                self._add_share(waiter.ident)
                waiter.admitted = True
            # Woken by _unpark once _lock is released, so that a reader that wakes,
            # reads and comes back does not find _lock still held by this thread.
            self._admitted.extend(waiters)
        if self._waiting_writers:
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
            self._writers_changed()
            self._claim_ended()
            admitted, self._admitted = self._admitted, []
        self._unpark(admitted)
