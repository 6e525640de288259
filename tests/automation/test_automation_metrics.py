"""Metrics: initial state, each update, snapshots being immutable copies, exact totals under stress."""

from __future__ import annotations

import threading
import time

import pytest

from racefree.automation import Metrics, MetricsSnapshot


def test_initial_state() -> None:
    before = time.time()
    m = Metrics()
    snap = m.snapshot()
    assert (snap.tasks_processed, snap.errors, snap.bytes_processed, snap.requests) == (0, 0, 0, 0)
    assert dict(snap.tasks_by_type) == {}
    assert snap.active_workers == frozenset()
    assert before <= snap.last_activity <= snap.taken_at
    assert snap.error_rate == 0.0


def test_each_counter_counts_separately() -> None:
    m = Metrics()
    m.increment_tasks_processed()
    m.increment_tasks_processed()
    m.increment_errors()
    m.add_bytes_processed(1024)
    m.increment_requests()
    assert (m.tasks_processed(), m.errors(), m.bytes_processed(), m.requests()) == (2, 1, 1024, 1)
    assert m.snapshot().error_rate == 0.5


def test_negative_bytes_are_rejected() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        Metrics().add_bytes_processed(-1)


def test_record_task_counts_task_request_bytes_and_type() -> None:
    m = Metrics()
    m.record_task("email_send", 10)
    m.record_task("email_send", 0)
    m.record_task("db_update", 5)
    assert m.tasks_processed() == 3
    assert m.requests() == 3
    assert m.bytes_processed() == 15
    assert m.tasks_by_type() == {"email_send": 2, "db_update": 1}


def test_record_task_type_moves_last_activity() -> None:
    m = Metrics()
    first = m.last_activity()
    time.sleep(0.002)
    m.record_task_type("x")
    assert m.last_activity() > first


def test_workers_register_idempotently() -> None:
    m = Metrics()
    m.register_worker(1)
    m.register_worker(1)
    m.register_worker(2)
    assert m.active_workers() == 2
    m.unregister_worker(1)
    m.unregister_worker(99)  # unknown: no error, no change
    assert m.active_workers() == 1
    assert m.snapshot().active_workers == frozenset({2})


def test_snapshot_is_an_immutable_copy() -> None:
    m = Metrics()
    m.record_task("a", 1)
    m.register_worker(7)
    snap = m.snapshot()
    m.record_task("a", 1)
    m.record_task("b", 1)
    m.unregister_worker(7)
    assert snap.tasks_processed == 1
    assert dict(snap.tasks_by_type) == {"a": 1}
    assert snap.active_workers == frozenset({7})
    with pytest.raises(TypeError):
        snap.tasks_by_type["a"] = 5  # type: ignore[index]
    with pytest.raises(AttributeError):
        snap.tasks_processed = 0  # type: ignore[misc]


def test_getters_return_copies() -> None:
    m = Metrics()
    m.record_task_type("a")
    copy = m.tasks_by_type()
    copy["a"] = 100
    assert m.tasks_by_type() == {"a": 1}


def test_snapshot_as_dict_is_plain_and_fresh() -> None:
    m = Metrics()
    m.record_task("a", 3)
    m.register_worker(2)
    d = m.snapshot().as_dict()
    assert d["tasks_by_type"] == {"a": 1} and d["active_workers"] == [2]
    assert isinstance(d["tasks_by_type"], dict)


@pytest.mark.stress
def test_totals_exact_under_concurrent_updates_and_snapshots_consistent() -> None:
    m = Metrics()
    threads, per_thread = 8, 2000
    bad: list[MetricsSnapshot] = []
    stop = threading.Event()

    def worker(i: int) -> None:
        m.register_worker(i)
        for j in range(per_thread):
            m.record_task(f"t{j % 3}", 2)
            if j % 4 == 0:
                m.increment_errors()
        m.unregister_worker(i)

    def monitor() -> None:
        while not stop.is_set():
            snap = m.snapshot()
            # record_task counts the task before its type; snapshot reads types first.
            if sum(snap.tasks_by_type.values()) > snap.tasks_processed:
                bad.append(snap)

    mon = threading.Thread(target=monitor)
    mon.start()
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    stop.set()
    mon.join()
    total = threads * per_thread
    snap = m.snapshot()
    assert snap.tasks_processed == total
    assert snap.requests == total
    assert snap.bytes_processed == 2 * total
    assert snap.errors == threads * (per_thread // 4)
    assert sum(snap.tasks_by_type.values()) == total
    assert snap.active_workers == frozenset()
    assert bad == []
