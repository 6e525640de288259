"""Stress: 8 threads hammering one primitive; the total must be exact, every run.

These matter most on the free-threaded build, where a lost update shows up at
once (``self.n += 1`` from 4 threads loses ~65 % there).  Sizes: 8 threads x
10**6 operations each on ``AtomicInt.add`` (every back-end),
``ShardedCounter.add`` and ``ConcurrentMap.compute``.
"""

from __future__ import annotations

import threading

import pytest
from sync_helpers import run_threads

from racefree.sync import ConcurrentMap, ShardedCounter, _backend

pytestmark = pytest.mark.stress

THREADS = 8
OPS = 1_000_000


@pytest.mark.parametrize("backend", sorted(_backend.AVAILABLE))
def test_atomic_int_add(backend: str) -> None:
    a = _backend.AVAILABLE[backend].int_type(0)

    def work(i: int) -> None:
        add = a.add
        for _ in range(OPS):
            add(1)

    run_threads(THREADS, work)
    assert a.load() == THREADS * OPS


def test_sharded_counter_add() -> None:
    c = ShardedCounter()

    def work(i: int) -> None:
        add = c.add
        for _ in range(OPS):
            add(1)

    run_threads(THREADS, work)
    assert c.value() == THREADS * OPS


def test_concurrent_map_compute() -> None:
    m: ConcurrentMap[int, int] = ConcurrentMap()
    keys = 16

    def plus_one(v: int) -> int:
        return v + 1

    def work(i: int) -> None:
        compute = m.compute
        for k in range(OPS):
            compute(k % keys, plus_one, 0)

    run_threads(THREADS, work)
    assert sum(m.values()) == THREADS * OPS
    assert m.snapshot() == {k: THREADS * OPS // keys for k in range(keys)}


@pytest.mark.parametrize("timeouts", [False, True], ids=["blocking", "with-timeouts"])
def test_rwlock_invariants_under_load(timeouts: bool) -> None:
    """8 threads, 1 in 5 operations a write; tiny timeouts exercise every give-up path."""
    from racefree.sync import RWLock

    rw = RWLock()
    guard = threading.Lock()
    state = {"readers": 0, "writers": 0}
    violations: list[dict[str, int]] = []
    timeout = 0.0005 if timeouts else -1

    def check(kind: str, delta: int) -> None:
        with guard:
            state[kind] += delta
            if state["writers"] > 1 or (state["writers"] and state["readers"]):
                violations.append(dict(state))

    def work(i: int) -> None:
        for k in range(10_000):
            if (i + k) % 5 == 0:
                if rw.acquire_write(timeout=timeout):
                    check("writers", 1)
                    check("writers", -1)
                    rw.release_write()
            elif rw.acquire_read(timeout=timeout):
                check("readers", 1)
                check("readers", -1)
                rw.release_read()

    run_threads(THREADS, work)
    assert violations == []
    stats = rw.statistics()
    assert (stats.readers, stats.writer, stats.waiting_readers, stats.waiting_writers) == (0, None, 0, 0)
    assert rw.acquire_write(blocking=False)
    rw.release_write()
