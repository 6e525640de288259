"""Stress: 8 threads hammering one primitive; the total must be exact, every run.

These matter most on the free-threaded build, where a lost update shows up at
once (``self.n += 1`` from 4 threads loses ~65 % there).  Sizes: 8 threads x
10**6 operations each on ``AtomicInt.add`` (every back-end),
``ShardedCounter.add`` and ``ConcurrentMap.compute``.
"""

from __future__ import annotations

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
