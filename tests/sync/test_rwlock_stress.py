"""RWLock under load, on every implementation: exclusion, consistency, timeouts, give-ups.

Written for the free-threaded build (where readers really run at once), and
run on both.  Exclusion is checked twice: by invariant counters under a guard
lock, and by a two-field record that a writer updates in two steps (a reader
that ever sees the fields differ was let in during a write).  Nothing here
measures time.
"""

from __future__ import annotations

import threading
import time

import pytest
from sync_helpers import run_threads
from test_rwlock import MODES

from racefree.sync import RWLock, RWLockStatistics
from racefree.sync._rwlock_ft import _ShardedRWLock

READERS, WRITERS = 8, 2
READ_OPS, WRITE_OPS = 10_000, 1000

modes = pytest.mark.parametrize("make_rw", [MODES[k] for k in sorted(MODES)], ids=sorted(MODES))


class Record:
    """Two fields a writer keeps equal; only a torn write (a reader inside a write) shows them apart."""

    def __init__(self) -> None:
        self.a = 0
        self.b = 0


class Census:
    """Who is inside, counted under a guard lock: the invariant is checked at every entry."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self.readers = self.writers = self.max_readers = 0
        self.violations: list[tuple[int, int]] = []

    def enter(self, writer: bool) -> None:
        with self._guard:
            if writer:
                self.writers += 1
            else:
                self.readers += 1
                self.max_readers = max(self.max_readers, self.readers)
            if self.writers > 1 or (self.writers and self.readers):
                self.violations.append((self.readers, self.writers))

    def leave(self, writer: bool) -> None:
        with self._guard:
            if writer:
                self.writers -= 1
            else:
                self.readers -= 1


def _hammer(rw: RWLock, timeout: float) -> tuple[Census, Record, list[int], list[int]]:
    census, record = Census(), Record()
    torn: list[int] = []
    done = [0] * (READERS + WRITERS)

    def work(i: int) -> None:
        if i < WRITERS:
            for k in range(WRITE_OPS):
                if not rw.acquire_write(timeout=timeout):
                    continue
                census.enter(True)
                record.a += 1
                if k % 8 == 0:
                    time.sleep(0)  # give a reader the chance to slip in, if the lock let it
                record.b += 1
                census.leave(True)
                rw.release_write()
                done[i] += 1
        else:
            for k in range(READ_OPS):
                if not rw.acquire_read(timeout=timeout):
                    continue
                census.enter(False)
                a, b = record.a, record.b
                if a != b:
                    torn.append(a - b)
                if k % 64 == 0:
                    time.sleep(0)
                census.leave(False)
                rw.release_read()
                done[i] += 1

    run_threads(READERS + WRITERS, work)
    return census, record, torn, done


def _assert_quiet(rw: RWLock) -> None:
    assert rw.statistics() == RWLockStatistics(0, None, 0, 0)
    if isinstance(rw, _ShardedRWLock):  # every mark was taken back, every cell is empty and unflagged
        assert rw._pending.load() == 0
        assert [cell.load() for cell in rw._cells.values()] == [0] * len(rw._cells)
    assert rw.acquire_write(blocking=False)
    rw.release_write()


@modes
def test_eight_readers_and_two_writers(make_rw: type[RWLock]) -> None:
    rw = make_rw()
    census, record, torn, done = _hammer(rw, timeout=-1)
    assert census.violations == [] and torn == []
    assert done == [WRITE_OPS] * WRITERS + [READ_OPS] * READERS
    assert record.a == record.b == WRITERS * WRITE_OPS
    _assert_quiet(rw)


@modes
def test_eight_readers_and_two_writers_with_tiny_timeouts(make_rw: type[RWLock]) -> None:
    """Timeouts of 0.2 ms: most give-ups happen mid-drain or mid-queue, the paths that hand back state."""
    rw = make_rw()
    census, record, torn, done = _hammer(rw, timeout=0.0002)
    assert census.violations == [] and torn == []
    assert record.a == record.b == sum(done[:WRITERS])
    _assert_quiet(rw)


@modes
def test_writers_that_give_up_while_draining(make_rw: type[RWLock]) -> None:
    """Readers hold long enough that writers time out mid-drain, again and again; then one waits it out."""
    rw = make_rw()
    census = Census()
    stop = threading.Event()
    gave_up = [0]

    def reader(i: int) -> None:
        while not stop.is_set():
            with rw.read():
                census.enter(False)
                time.sleep(0.0005)
                census.leave(False)

    def writer(i: int) -> None:
        for _ in range(200):
            if rw.acquire_write(timeout=0.0001):
                census.enter(True)
                census.leave(True)
                rw.release_write()
            else:
                gave_up[0] += 1
        assert rw.acquire_write(timeout=30), "writer starved"
        census.enter(True)
        census.leave(True)
        rw.release_write()

    readers = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(4)]
    for t in readers:
        t.start()
    try:
        run_threads(2, writer)
    finally:
        stop.set()
        for t in readers:
            t.join(30)
    assert census.violations == []
    assert gave_up[0] > 0  # the give-up path ran
    _assert_quiet(rw)


@modes
def test_a_thread_that_dies_holding_a_share_keeps_the_lock_read_locked(make_rw: type[RWLock]) -> None:
    rw = make_rw()
    t = threading.Thread(target=rw.acquire_read)
    t.start()
    t.join()
    assert rw.statistics().readers == 1
    assert not rw.acquire_write(blocking=False)

    def later_thread() -> None:  # often given the dead thread's ident again
        with rw.read():
            pass

    t = threading.Thread(target=later_thread)
    t.start()
    t.join()
    assert rw.statistics().readers == 1
    assert not rw.acquire_write(blocking=False)
