"""Every synchronization mechanism gives its happens-before edge; its absence gives a report.

Each test orders two threads in real time; the detector must stay silent exactly
when the ordering goes through a mechanism the program can rely on.  Runs in
strict mode, where any unordered write/read pair is a race.
"""

from __future__ import annotations

import _thread
import concurrent.futures
import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from _engine_support import Box, read_x, sequential_unordered, write_x

from racefree.detector import Detector
from racefree.sync import _hb

# captured at import: while a detector records, _thread.allocate_lock() makes a tracked lock
_raw_lock = _thread.allocate_lock


@pytest.fixture
def det() -> Iterator[Detector]:
    d = Detector("strict")
    d.start()
    try:
        yield d
    finally:
        d.stop()


def locations(d: Detector) -> list[str]:
    return [r.location for r in d.races()]


def test_unordered_threads_race(det: Detector) -> None:
    b = Box()
    sequential_unordered(lambda: write_x(b), lambda: read_x(b))
    assert locations(det) == ["Box.x"]


def test_thread_start_orders_parent_before_child(det: Detector) -> None:
    b = Box()
    write_x(b)
    t = threading.Thread(target=read_x, args=(b,))
    t.start()
    t.join()
    assert det.races() == []


def test_parent_after_start_races_with_child(det: Detector) -> None:
    b = Box()
    gate = _raw_lock()
    gate.acquire()

    def child() -> None:
        gate.acquire()
        read_x(b)

    t = threading.Thread(target=child)
    t.start()
    write_x(b)
    gate.release()
    t.join()
    assert locations(det) == ["Box.x"]


def test_join_orders_child_before_parent(det: Detector) -> None:
    b = Box()
    t = threading.Thread(target=write_x, args=(b,))
    t.start()
    t.join()
    read_x(b)
    assert det.races() == []


def test_finished_but_not_joined_races(det: Detector) -> None:
    b = Box()
    done = _raw_lock()
    done.acquire()

    def child() -> None:
        write_x(b)
        done.release()

    t = threading.Thread(target=child)
    t.start()
    done.acquire()  # raw: the detector does not see it
    read_x(b)
    t.join()
    assert locations(det) == ["Box.x"]


# factories are looked up while the detector records (threading.Lock is replaced then)
@pytest.mark.parametrize("factory", ["Lock", "RLock"])
def test_lock_orders_critical_sections(det: Detector, factory: str) -> None:
    b = Box()
    lock = getattr(threading, factory)()

    def a() -> None:
        with lock:
            write_x(b)

    def c() -> None:
        lock.acquire()
        try:
            read_x(b)
        finally:
            lock.release()

    sequential_unordered(a, c)
    assert det.races() == []


def test_rlock_reentrant_and_repr(det: Detector) -> None:
    lock = threading.RLock()
    with lock, lock:
        assert lock._is_owned()  # type: ignore[attr-defined]
    assert "RLock" in repr(lock)
    plain = threading.Lock()
    assert not plain.locked()
    assert "unlocked" in repr(plain)


def test_different_locks_do_not_order(det: Detector) -> None:
    b = Box()
    l1, l2 = threading.Lock(), threading.Lock()

    def a() -> None:
        with l1:
            write_x(b)

    def c() -> None:
        with l2:
            read_x(b)

    sequential_unordered(a, c)
    assert locations(det) == ["Box.x"]


@pytest.mark.parametrize("with_lock", [None, "Lock", "RLock"])
def test_condition_notify_wait(det: Detector, with_lock: str | None) -> None:
    b = Box()
    lock = getattr(threading, with_lock)() if with_lock else None
    cond = threading.Condition(lock)
    ready: list[bool] = []

    def consumer() -> None:
        with cond:
            cond.wait_for(lambda: bool(ready))
        read_x(b)

    t = threading.Thread(target=consumer)
    t.start()
    write_x(b)
    with cond:
        ready.append(True)
        cond.notify_all()
    t.join()
    assert det.races() == []


@pytest.mark.parametrize("factory", [threading.Semaphore, threading.BoundedSemaphore])
def test_semaphore_release_acquire(det: Detector, factory: Any) -> None:
    # Semaphore classes are wrapped in place: objects and names from before start() work too
    b = Box()
    sem = factory(1)
    sem.acquire()

    def a() -> None:
        write_x(b)
        sem.release()

    def c() -> None:
        with sem:
            read_x(b)

    sequential_unordered(a, c)
    assert det.races() == []


def test_event_set_wait(det: Detector) -> None:
    b = Box()
    ev = threading.Event()

    def a() -> None:
        write_x(b)
        ev.set()

    def c() -> None:
        assert ev.wait(5)
        read_x(b)

    sequential_unordered(a, c)
    assert det.races() == []


def test_event_wait_that_times_out_gives_no_edge(det: Detector) -> None:
    b = Box()
    ev = threading.Event()
    sequential_unordered(lambda: write_x(b), lambda: (ev.wait(0), read_x(b)))
    assert locations(det) == ["Box.x"]


def test_barrier(det: Detector) -> None:
    b = Box()
    barrier = threading.Barrier(2)

    def a() -> None:
        write_x(b)
        barrier.wait()

    def c() -> None:
        barrier.wait()
        read_x(b)

    ts = [threading.Thread(target=a), threading.Thread(target=c)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert det.races() == []


def test_timer_is_a_thread(det: Detector) -> None:
    b = Box()
    write_x(b)
    t = threading.Timer(0.001, write_x, args=(b,))
    t.start()
    t.join()
    read_x(b)
    assert det.races() == []


# queue.SimpleQueue (a C type) is replaced while recording: look it up after start()
@pytest.mark.parametrize("cls", ["Queue", "LifoQueue", "PriorityQueue", "SimpleQueue"])
def test_queue_put_get_of_the_item(det: Detector, cls: str) -> None:
    b = Box()
    q = getattr(queue, cls)()

    def a() -> None:
        write_x(b)
        q.put(1)

    def c() -> None:
        assert q.get(timeout=5) == 1
        read_x(b)

    sequential_unordered(a, c)
    assert det.races() == []


@pytest.mark.parametrize("cls", ["Queue", "SimpleQueue"])
def test_queue_get_of_another_item_gives_no_edge(det: Detector, cls: str) -> None:
    # the queue's internal mutex must not order A's put before B's get of main's item
    b = Box()
    q = getattr(queue, cls)()
    q.put("main")

    def a() -> None:
        write_x(b)
        q.put("a")

    def c() -> None:
        assert q.get(timeout=5) == "main"
        read_x(b)

    sequential_unordered(a, c)
    assert locations(det) == ["Box.x"]


def test_queue_task_done_join(det: Detector) -> None:
    b = Box()
    q: queue.Queue[int] = queue.Queue()

    def worker() -> None:
        q.get()
        write_x(b)
        q.task_done()

    t = threading.Thread(target=worker, daemon=True)
    t.start()
    q.put(1)
    q.join()
    read_x(b)
    assert det.races() == []
    t.join()


def test_futures_submit_and_result(det: Detector) -> None:
    b = Box()
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        write_x(b)
        assert ex.submit(read_x, b).result() == 1
        ex.submit(write_x, b).result()
        read_x(b)
        f = ex.submit(write_x, b)
        assert f.exception() is None
        read_x(b)
    assert det.races() == []


def test_futures_wait_as_completed_map_shutdown(det: Detector) -> None:
    boxes = [Box() for _ in range(4)]
    ex = concurrent.futures.ThreadPoolExecutor(2)
    fs = [ex.submit(write_x, boxes[0]), ex.submit(write_x, boxes[1])]
    done, _ = concurrent.futures.wait(fs)
    assert len(done) == 2
    read_x(boxes[0])
    for _f in concurrent.futures.as_completed([ex.submit(write_x, boxes[2])]):
        read_x(boxes[2])
    list(ex.map(write_x, [boxes[3]]))
    read_x(boxes[3])
    last = Box()
    ex.submit(write_x, last)
    ex.shutdown(wait=True)
    read_x(last)
    assert det.races() == []


def test_future_done_without_result_races(det: Detector) -> None:
    b = Box()
    done = _raw_lock()
    done.acquire()
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        ex.submit(lambda: (write_x(b), done.release()))
        done.acquire()
        read_x(b)
    assert locations(det) == ["Box.x"]


def test_executor_bookkeeping_gives_no_edge(det: Detector) -> None:
    # task 1 ends (the worker releases the executor's idle semaphore); a later submit
    # acquires it; that must not order task 1 before the submitter.
    b = Box()
    done = _raw_lock()
    done.acquire()
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        ex.submit(lambda: (write_x(b), done.release()))
        done.acquire()
        ex.submit(lambda: None)  # no result(): only the idle semaphore could order
        read_x(b, ("/src/app.py", 99, "main", 0, "b"))
    assert locations(det) == ["Box.x"]


def test_racefree_sync_hook(det: Detector) -> None:
    b = Box()
    key = object()
    assert _hb.listener is det

    def a() -> None:
        write_x(b)
        assert _hb.listener is not None
        _hb.listener.release(key)

    def c() -> None:
        assert _hb.listener is not None
        _hb.listener.acquire(key)
        read_x(b)

    sequential_unordered(a, c)
    assert det.races() == []
    sequential_unordered(lambda: (_hb.listener.acquire_release(key), write_x(b)),  # type: ignore[union-attr]
                         lambda: read_x(b))
    assert locations(det) == ["Box.x"]


def test_threading_local_is_never_shared(det: Detector) -> None:
    from racefree.detector import runtime as rf
    from racefree.detector.events import ATTR

    loc = threading.local()

    def use() -> None:
        rf.read(ATTR, loc, "v", ("/src/app.py", 1, "f", 0, "loc"))
        rf.write(ATTR, loc, "v", ("/src/app.py", 2, "f", 0, "loc"))
        loc.v = 1

    sequential_unordered(use, use, use)
    assert det.races() == []


def test_an_atomic_carries_its_own_clock() -> None:
    from racefree.sync import AtomicInt, AtomicRef

    with Detector() as d:
        a = AtomicInt()
        r: AtomicRef[int] = AtomicRef()
        a.add(1)
        r.store(1)
    assert a._hb_clock is not None and a._hb_clock.gen == d.gen
    assert r._hb_clock is not None and r._hb_clock.gen == d.gen
    assert a not in d._hb_weak and r not in d._hb_weak  # not in the shared table
