"""Snapshot and ShardedCounter contracts, sequential and under threads."""

from __future__ import annotations

import threading

import pytest
from sync_helpers import run_threads

from racefree.sync import (
    ReentrantCallError,
    ShardedCounter,
    ShardedCounterStatistics,
    Snapshot,
    SnapshotStatistics,
    WrongThreadError,
)

pytestmark = pytest.mark.usefixtures("hb_mode")

# -- Snapshot --------------------------------------------------------------------------------------


def test_snapshot_get_set_update() -> None:
    s = Snapshot((1, 2))
    assert s.get() == (1, 2)
    s.set((3,))
    assert s.get() == (3,)
    assert s.update(lambda t: (*t, 4)) == (3, 4)
    assert s.get() == (3, 4)
    assert s.statistics() == SnapshotStatistics(version=2)


def test_snapshot_update_that_raises_changes_nothing() -> None:
    s = Snapshot(1)

    def boom(v: int) -> int:
        raise ValueError

    with pytest.raises(ValueError):
        s.update(boom)
    assert s.get() == 1 and s.statistics().version == 0
    s.set(2)  # the writers' lock was released
    assert s.get() == 2


def test_snapshot_update_callback_may_not_write_the_same_snapshot() -> None:
    s = Snapshot(1)
    with pytest.raises(ReentrantCallError) as info:
        s.update(lambda v: s.set(v + 1))
    assert str(info.value) == "Snapshot.set() called from inside an update() callback on the same snapshot"
    assert s.update(lambda v: v + s.get()) == 2  # reading is fine


def test_snapshot_concurrent_updates_lose_nothing() -> None:
    s = Snapshot(0)

    def work(i: int) -> None:
        for _ in range(2000):
            s.update(lambda v: v + 1)

    run_threads(4, work)
    assert s.get() == 8000 and s.statistics().version == 8000


def test_snapshot_readers_see_whole_values_only() -> None:
    s = Snapshot((0, 0))
    done = threading.Event()

    def writer() -> None:
        for i in range(1, 20_000):
            s.set((i, i))
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    torn = 0
    while not done.is_set():
        a, b = s.get()
        torn += a != b
    t.join()
    assert torn == 0


def test_snapshot_repr() -> None:
    s = Snapshot({"debug": True})
    s.set({"debug": False})
    assert repr(s) == "<Snapshot version=1 value={'debug': False}>"


# -- ShardedCounter ----------------------------------------------------------------------------------


def test_counter_starts_at_zero_and_adds() -> None:
    c = ShardedCounter()
    assert c.value() == 0
    assert c.statistics() == ShardedCounterStatistics(value=0, cells=0)
    c.add()
    c.add(41)
    c.add(-2)
    assert c.value() == 40
    assert c.statistics() == ShardedCounterStatistics(value=40, cells=1)
    assert repr(c) == "<ShardedCounter value=40 cells=1>"


def test_counter_is_exact_once_writers_have_finished() -> None:
    c = ShardedCounter()

    def work(i: int) -> None:
        add = c.add
        for _ in range(20_000):
            add()
        add(i)

    run_threads(4, work)
    assert c.value() == 4 * 20_000 + (0 + 1 + 2 + 3)
    assert 1 <= c.statistics().cells <= 4


def test_counter_keeps_the_counts_of_threads_that_ended() -> None:
    c = ShardedCounter()
    for _ in range(20):
        t = threading.Thread(target=c.add, args=(5,))
        t.start()
        t.join()
    assert c.value() == 100
    # one cell per ident in use: ended threads' idents are reused, so cells do not pile up
    assert c.statistics().cells <= 20


def test_counter_value_while_writers_run_is_bounded_by_the_true_counts() -> None:
    c = ShardedCounter()
    done = threading.Event()
    n = 50_000

    def writer() -> None:
        for _ in range(n):
            c.add()
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    readings = []
    while not done.is_set():
        readings.append(c.value())
    t.join()
    assert all(0 <= r <= n for r in readings)
    assert readings == sorted(readings)  # one writer adding 1s: the total never goes back
    assert c.value() == n


def test_handles_add_into_their_threads_cell_and_scale_out() -> None:
    c = ShardedCounter()
    c.add(1)

    def work(i: int) -> None:
        handle = c.handle()
        for _ in range(10_000):
            handle.add()
        c.add(2)  # the counter's add and the handle share the thread's cell

    run_threads(4, work)
    h = c.handle()
    h.add(5)
    assert c.value() == 1 + 4 * (10_000 + 2) + 5
    assert c.statistics().cells <= 5
    assert repr(h) == f"<ShardedCounterHandle thread={threading.get_ident()} cell=6>"


def test_a_handle_refuses_other_threads() -> None:
    c = ShardedCounter()
    h = c.handle()
    errors: list[BaseException] = []

    def other() -> None:
        try:
            h.add()
        except WrongThreadError as exc:
            errors.append(exc)

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert [str(e) for e in errors] == [
        "ShardedCounterHandle.add() called from a thread other than the one that took the handle; "
        "call counter.handle() in each thread"
    ]
    assert c.value() == 0
