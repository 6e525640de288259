"""RWLock's fairness policy, on every implementation: who blocks whom, and that neither side starves.

Starvation is measured in turns, never in time: the side that could starve the
other runs hand over hand (each thread stays inside until another of its kind
has come in or queued, or the other side is seen parked), so without the policy
the lock is never free for the other side.  Each request of the other side
gets a budget of the looping side's turns, counted from the request on: it must
be granted before the budget is used up.  Under starvation it is granted only
once the budget has run out and the loop stopped, and the assertion says so.
(The policy's own bound is one or two turns; the budget leaves room for a
requester that the OS does not schedule for a while.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from test_rwlock import LONG, MODES, start, wait_until

from racefree.sync import RWLock

pytestmark = pytest.mark.usefixtures("hb_mode")

modes = pytest.mark.parametrize("make_rw", [MODES[k] for k in sorted(MODES)], ids=sorted(MODES))

POLLS = 1000  # a thread left alone inside polls this often before it leaves anyway (a safety valve)
YIELD = 0.0002  # seconds slept between polls: a real yield (``sleep(0)`` may keep the GIL), never a bound


class Turns:
    """Turns taken by the looping side, counted under a guard; a request's budget stops the loop."""

    def __init__(self, budget: int) -> None:
        self._guard = threading.Lock()
        self.budget = budget
        self.count = 0
        self.requested_at: int | None = None  # the turn count when the pending request was made
        self.stop = threading.Event()

    def enter(self) -> int:
        """Count a turn; return its number (the turns before it)."""
        with self._guard:
            n = self.count
            self.count += 1
            if self.requested_at is not None and self.count - self.requested_at >= self.budget:
                self.stop.set()
            return n

    def request(self) -> None:
        """The other side is about to ask for the lock: its budget starts now."""
        with self._guard:
            self.requested_at = self.count

    def granted(self) -> int:
        """The other side is in: how many turns its request took (the budget stops running)."""
        with self._guard:
            assert self.requested_at is not None
            took, self.requested_at = self.count - self.requested_at, None
            return took

    def stay_until_passed(self, n: int, passed: Callable[[], bool] | None = None) -> None:
        """Inside turn ``n``: poll until a later turn began (or ``passed()``), at most POLLS times."""
        for _ in range(POLLS):
            if self.count > n + 1 or (passed is not None and passed()) or self.stop.is_set():
                return
            time.sleep(YIELD)


def run_loopers(count: int, loop: Callable[[], None]) -> list[threading.Thread]:
    return [start(loop) for _ in range(count)]


def join(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.join(LONG)
        assert not t.is_alive()


@modes
def test_a_writer_gets_in_within_a_bounded_number_of_reader_turns(make_rw: type[RWLock]) -> None:
    """Eight readers keep the lock read-held hand over hand; ten writes must each get in within budget.

    Without a claim that blocks new readers there is always a reader inside, and
    the writer would wait until the readers' budget of turns is used up.
    """
    rw = make_rw()
    turns = Turns(budget=20_000)
    started = threading.Barrier(9, timeout=LONG)

    def reader() -> None:
        started.wait()
        while not turns.stop.is_set():
            with rw.read():
                # Leave once a later reader is in, or readers park (a claim blocks them).
                turns.stay_until_passed(turns.enter(), lambda: rw.statistics().waiting_readers > 0)

    readers = run_loopers(8, reader)
    took: list[int] = []  # reader turns during each write request
    try:
        started.wait()
        for _ in range(10):
            flowing = turns.count + 8
            wait_until(lambda f=flowing: turns.count >= f)  # the stream runs (again) before we ask
            turns.request()
            with rw.write():
                took.append(turns.granted())
            if turns.stop.is_set():
                break
    finally:
        turns.stop.set()
        join(readers)
    assert max(took) < turns.budget and len(took) == 10, f"writer starved: reader turns per write {took}"


@modes
def test_readers_get_in_while_three_writers_loop_back_to_back(make_rw: type[RWLock]) -> None:
    """Three writers hold the lock back to back (each leaves once another is queued); a reader reads 20 times.

    Without the admission of waiting readers when a write ends, a writer is
    always queued and the reader would wait until the writers' budget is used up.
    """
    rw = make_rw()
    turns = Turns(budget=20_000)
    started = threading.Barrier(4, timeout=LONG)

    def writer() -> None:
        started.wait()
        while not turns.stop.is_set():
            with rw.write():
                # Leave once another writer is queued (or a later one is in).
                turns.stay_until_passed(turns.enter(), lambda: rw.statistics().waiting_writers > 0)

    writers = run_loopers(3, writer)
    took: list[int] = []  # writer turns during each read request
    try:
        started.wait()
        for _ in range(20):
            flowing = turns.count + 3
            wait_until(lambda f=flowing: turns.count >= f)  # the writers run (again) before we ask
            turns.request()
            with rw.read():
                took.append(turns.granted())
            if turns.stop.is_set():
                break
    finally:
        turns.stop.set()
        join(writers)
    assert max(took) < turns.budget and len(took) == 20, f"reader starved: writer turns per read {took}"


@modes
def test_a_claiming_writer_blocks_new_readers(make_rw: type[RWLock]) -> None:
    rw = make_rw()
    rw.acquire_read()  # the claimant waits for this share
    got_write = threading.Event()

    def writer() -> None:
        with rw.write():
            got_write.set()

    t = start(writer)
    wait_until(lambda: rw.statistics().waiting_writers == 1)
    new_reader: list[bool] = []
    r = start(lambda: new_reader.append(rw.acquire_read(blocking=False)))
    r.join(LONG)
    assert new_reader == [False]
    assert rw.acquire_read(blocking=False)  # ...but a thread that already reads may read again
    rw.release_read()
    rw.release_read()
    assert got_write.wait(LONG)
    t.join(LONG)


@modes
def test_a_writer_queued_behind_the_claimant_blocks_no_reader(make_rw: type[RWLock]) -> None:
    """The claimant gives up while a second writer is queued: the reader parked behind the claim gets in.

    It gets in while this thread still holds its share, so before the queued
    writer (which must wait for that share) can have held the lock: only the
    claim blocked the reader, never the writer queued behind it.
    """
    rw = make_rw()
    rw.acquire_read()  # the claimant drains in vain, the queued writer cannot get in
    outcomes: dict[str, bool] = {}
    reader_in, writer2_in = threading.Event(), threading.Event()

    def claimant() -> None:
        outcomes["claimant"] = rw.acquire_write(timeout=0.5)

    def writer2() -> None:
        with rw.write():
            writer2_in.set()

    def reader() -> None:
        with rw.read():
            reader_in.set()

    c = start(claimant)
    wait_until(lambda: rw.statistics().waiting_writers == 1)  # claimed, draining
    w = start(writer2)
    wait_until(lambda: rw.statistics().waiting_writers == 2)  # queued behind it
    r = start(reader)
    wait_until(lambda: rw.statistics().waiting_readers == 1)  # parked behind the claim
    c.join(LONG)
    assert outcomes == {"claimant": False}
    assert reader_in.wait(LONG), "the reader stayed parked behind a queued writer"
    assert not writer2_in.is_set()
    r.join(LONG)
    rw.release_read()
    assert writer2_in.wait(LONG)
    w.join(LONG)
