"""The C reader cells and the per-thread cache of ``racefree.sync._fastread``, against trivial references.

``ReaderCell`` is checked operation by operation against a Python int
(hypothesis) and under threads; the per-thread cache (a thread's cell of a
``ShardedCounter`` or of a free-threaded ``RWLock``, found without the shared
``threading.local``) is checked against a dict of counts, with more primitives
than the cache has slots, re-initialised primitives and threads that come and
go.  On the free-threaded build the threads run at once (the GIL stays off).
"""

from __future__ import annotations

import sys
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sync_helpers import ReferenceInt, SerialWorker, run_threads

from racefree.sync import LockNotHeldError, RWLock, RWLockStatistics, ShardedCounter, _fast
from racefree.sync._rwlock_ft import _SHARE, _ShardedRWLock

pytestmark = pytest.mark.skipif(_fast.FASTREAD is None, reason="racefree.sync._fastread is not built")

FREE_THREADED = not getattr(sys, "_is_gil_enabled", lambda: True)()
CACHE_WAYS = 16  # _fastread.c: more primitives than this evict each other's entries


def ReaderCell(value: int = 0):
    return _fast.FASTREAD.ReaderCell(value)  # type: ignore[union-attr]


def test_the_free_threaded_rwlock_keeps_its_readers_in_c_cells() -> None:
    assert _ShardedRWLock._Cell is _fast.FASTREAD.ReaderCell  # type: ignore[union-attr]
    rw = _ShardedRWLock()
    with rw.read():
        cell = rw._local.cell
        assert type(cell) is _fast.FASTREAD.ReaderCell  # type: ignore[union-attr]
        assert cell.load() == _SHARE  # the C guard added to this very cell
    assert cell.load() == 0


# -- ReaderCell against a Python int ------------------------------------------------------------

ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(-(2**40), 2**40)),
        st.tuples(st.just("cas_hit"), st.integers(-(2**40), 2**40)),
        st.tuples(st.just("cas_miss"), st.integers(1, 2**40)),
        st.tuples(st.just("load"), st.just(0)),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(start=st.integers(-(2**40), 2**40), steps=ops)
def test_reader_cell_matches_a_python_int(start: int, steps: list[tuple[str, int]]) -> None:
    cell, ref = ReaderCell(start), ReferenceInt(start)
    for op, arg in steps:
        if op == "add":
            assert cell.add(arg) == ref.add(arg)
        elif op == "cas_hit":
            assert cell.compare_and_swap(ref.load(), arg) is ref.compare_and_swap(ref.load(), arg) is True
        elif op == "cas_miss":
            wrong = ref.load() + arg
            assert cell.compare_and_swap(wrong, 0) is ref.compare_and_swap(wrong, 0) is False
        assert cell.load() == ref.load()
    assert repr(cell) == f"<ReaderCell {ref.load()}>"


def test_reader_cell_rejects_what_an_int64_cannot_hold() -> None:
    with pytest.raises(OverflowError):
        ReaderCell(2**63)
    cell = ReaderCell()
    with pytest.raises(TypeError):
        cell.add("1")
    with pytest.raises(TypeError):
        cell.compare_and_swap(0)
    assert cell.load() == 0


@pytest.mark.stress
def test_reader_cell_adds_and_swaps_lose_nothing_under_threads() -> None:
    if FREE_THREADED:
        assert not sys._is_gil_enabled()  # type: ignore[attr-defined]
    cell = ReaderCell()
    n, rounds = 8, 20_000

    def work(i: int) -> None:
        for _ in range(rounds):
            cell.add(3)
            while True:  # one increment by compare-and-swap
                v = cell.load()
                if cell.compare_and_swap(v, v + 1):
                    break
            cell.add(-3)

    run_threads(n, work)
    assert cell.load() == n * rounds


# -- the per-thread cache: ShardedCounter --------------------------------------------------------

adds = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 2 * CACHE_WAYS), st.integers(-5, 5)), max_size=200
)


@settings(max_examples=60, deadline=None)
@given(steps=adds, reinit=st.sets(st.integers(0, 2 * CACHE_WAYS), max_size=4))
def test_counters_sum_like_a_dict_across_threads_and_evictions(
    steps: list[tuple[int, int, int]], reinit: set[int]
) -> None:
    """Four threads add to 33 counters (twice the cache) in a fixed interleaving; some are re-initialised."""
    counters = [ShardedCounter() for _ in range(2 * CACHE_WAYS + 1)]
    expected = [0] * len(counters)
    workers = [SerialWorker() for _ in range(4)]
    try:
        for k, (thread, which, n) in enumerate(steps):
            workers[thread].run(lambda c=counters[which], n=n: c.add(n))
            expected[which] += n
            if k == len(steps) // 2:  # halfway: fresh cells for some counters, in every thread
                for which in reinit:
                    counters[which].__init__()  # type: ignore[misc]
                    expected[which] = 0
    finally:
        for w in workers:
            w.stop()
    assert [c.value() for c in counters] == expected


def test_a_reinitialised_counter_counts_from_zero_in_a_thread_that_had_cached_its_cell() -> None:
    c = ShardedCounter()
    c.add(5)
    c.__init__()  # type: ignore[misc]
    c.add(2)
    assert c.value() == 2
    assert c.statistics().cells == 1


def test_a_new_thread_never_inherits_another_threads_cell() -> None:
    c = ShardedCounter()
    for i in range(20):  # idents are reused as threads come and go
        t = threading.Thread(target=c.add, args=(i,))
        t.start()
        t.join()
    assert c.value() == sum(range(20))
    c.add(100)
    assert c.value() == sum(range(20)) + 100


@pytest.mark.stress
def test_counters_under_threads_sum_exactly() -> None:
    if FREE_THREADED:
        assert not sys._is_gil_enabled()  # type: ignore[attr-defined]
    counters = [ShardedCounter() for _ in range(CACHE_WAYS + 3)]

    def work(i: int) -> None:
        for k in range(3000):
            counters[(i + k) % len(counters)].add(1)

    run_threads(8, work)
    assert sum(c.value() for c in counters) == 8 * 3000


# -- the per-thread cache: the RWLock read guard ---------------------------------------------------

rw_ops = st.lists(st.tuples(st.sampled_from(["enter", "exit", "write"]), st.integers(0, 2 * CACHE_WAYS)),
                  max_size=120)


@settings(max_examples=80, deadline=None)
@given(steps=rw_ops)
def test_read_shares_across_many_locks_match_a_count_per_lock(steps: list[tuple[str, int]]) -> None:
    """One thread, 33 locks (twice the cache): ``with``-guard steps against a count of shares per lock."""
    locks = [RWLock() for _ in range(2 * CACHE_WAYS + 1)]
    shares = [0] * len(locks)
    for op, which in steps:
        rw, guard = locks[which], locks[which].read()
        if op == "enter":
            guard.__enter__()
            shares[which] += 1
        elif op == "exit":
            if shares[which]:
                guard.__exit__(None, None, None)
                shares[which] -= 1
            else:
                with pytest.raises(LockNotHeldError):
                    guard.__exit__(None, None, None)
        elif not shares[which]:  # a writer gets in only when this thread holds no share
            assert rw.acquire_write(timeout=5)
            rw.release_write()
        assert [lk.statistics().readers for lk in locks] == [int(s > 0) for s in shares]
    for which, n in enumerate(shares):
        for _ in range(n):
            locks[which].read().__exit__(None, None, None)
    assert all(lk.statistics().readers == 0 for lk in locks)


@pytest.mark.stress
def test_readers_of_many_locks_and_a_writer_each_never_overlap() -> None:
    if FREE_THREADED:
        assert not sys._is_gil_enabled()  # type: ignore[attr-defined]
    locks = [RWLock() for _ in range(CACHE_WAYS + 3)]
    records = [[0, 0] for _ in locks]
    torn: list[int] = []

    def work(i: int) -> None:
        for k in range(2000):
            which = (i * 7 + k) % len(locks)
            if i == 0 and k % 10 == 0:
                with locks[which].write():
                    records[which][0] += 1
                    records[which][1] += 1
            else:
                with locks[which].read():
                    a, b = records[which]
                    if a != b:
                        torn.append(which)

    run_threads(6, work)
    assert torn == []
    assert all(lk.statistics().readers == 0 and lk.statistics().writer is None for lk in locks)


def test_a_flagged_cell_sends_the_c_guard_to_the_slow_path() -> None:
    rw = _ShardedRWLock()
    inside = threading.Event()

    def reader() -> None:
        with rw.read():  # first with-block: cell made, cached; second: found in the cache
            pass
        with rw.read():
            inside.set()

    assert rw.acquire_write()
    t = threading.Thread(target=reader)
    t.start()
    deadline = time.monotonic() + 30
    while rw.statistics().waiting_readers == 0:  # it parked behind the writer, in the slow path
        assert time.monotonic() < deadline, "the reader never queued"
        time.sleep(0.001)
    assert not inside.is_set()
    rw.release_write()  # admits it
    t.join(30)
    assert inside.is_set() and not t.is_alive()
    assert rw.statistics() == RWLockStatistics(readers=0, writer=None, waiting_readers=0, waiting_writers=0)
