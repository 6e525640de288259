"""Lock-order inversions (potential deadlocks): what is a cycle, what is not.

Every program here runs its threads one after the other (start, join), so none
of them deadlocks: the detector must still see the cycle, as ThreadSanitizer
does.  Locks are created after ``start()`` (``threading.Lock`` is replaced only
while a detector records).
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from racefree.detector import Detector, hb_threading, speedups
from racefree.detector.findings import Deadlock

HERE = __file__


@pytest.fixture(params=["c", "python"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both back-ends: with the C one, ``with lock:`` runs in C (_speedups.lock_methods)."""
    if request.param == "c" and speedups._load()[0] is None:
        pytest.skip("C fast path not built")
    monkeypatch.setenv(speedups.ENV, request.param)
    return str(request.param)


@pytest.fixture
def detector(backend: str) -> Iterator[Detector]:
    d = Detector()
    d.start()
    try:
        yield d
    finally:
        d.stop()


def in_thread(fn: Callable[[], Any], name: str | None = None) -> None:
    t = threading.Thread(target=fn, name=name)
    t.start()
    t.join()


def line_of(fn: Callable[..., Any], text: str) -> int:
    """The line of `fn`'s source that contains `text` (so tests do not pin line numbers)."""
    import inspect

    lines, first = inspect.getsourcelines(fn)
    for i, line in enumerate(lines):
        if text in line:
            return first + i
    raise AssertionError(f"{text!r} not in {fn.__name__}")


def nested(outer: Any, inner: Any) -> None:
    with outer:  # outer  # noqa: SIM117 (two lines: two acquisition sites)
        with inner:  # inner
            pass


def test_two_lock_inversion_across_two_threads_is_reported(detector: Detector) -> None:
    a = threading.Lock()  # lock a
    b = threading.Lock()  # lock b
    in_thread(lambda: nested(a, b), "first")
    assert detector.deadlocks() == []
    in_thread(lambda: nested(b, a), "second")
    (d,) = detector.deadlocks()
    assert d.kind == "lock-order-inversion" and d.count == 1
    assert [lk.type for lk in d.locks] == ["Lock", "Lock"]
    made = line_of(test_two_lock_inversion_across_two_threads_is_reported, "# lock b")
    assert d.locks[0].created_at is not None and d.locks[0].created_at.line == made  # M1 = b
    assert d.locks[1].created_at is not None and d.locks[1].created_at.line == made - 1  # M2 = a
    closing, earlier = d.edges
    assert (closing.held, closing.acquired, closing.thread) == ("M1", "M2", "second")
    assert (earlier.held, earlier.acquired, earlier.thread) == ("M2", "M1", "first")
    outer, inner = line_of(nested, "# outer"), line_of(nested, "# inner")
    for edge in d.edges:
        assert (edge.held_stack[0].file, edge.held_stack[0].line) == (HERE, outer)
        assert (edge.acquired_stack[0].file, edge.acquired_stack[0].line) == (HERE, inner)
        assert edge.held_stack[0].function == "nested"
        assert edge.held_stack[1].function == "<lambda>"  # the caller, as race stacks show it
        assert edge.thread_created_at and edge.thread_created_at[0].function == "in_thread"
    assert detector.take_new_deadlocks() == [d]
    assert detector.take_new_deadlocks() == []


def test_three_lock_cycle_is_reported_once_with_every_edge(detector: Detector) -> None:
    a, b, c = threading.Lock(), threading.RLock(), threading.Lock()
    in_thread(lambda: nested(a, b), "ab")
    in_thread(lambda: nested(b, c), "bc")
    assert detector.deadlocks() == []
    in_thread(lambda: nested(c, a), "ca")
    (d,) = detector.deadlocks()
    assert [e.thread for e in d.edges] == ["ca", "ab", "bc"]
    assert [(e.held, e.acquired) for e in d.edges] == [("M1", "M2"), ("M2", "M3"), ("M3", "M1")]
    assert [lk.type for lk in d.locks] == ["Lock", "Lock", "RLock"]
    in_thread(lambda: nested(c, a), "again")  # the same edge again: no new report
    assert len(detector.deadlocks()) == 1 and detector.deadlocks()[0].count == 1


def test_consistent_order_is_not_a_cycle(detector: Detector) -> None:
    locks = [threading.Lock() for _ in range(4)]

    def ordered() -> None:
        for i in range(len(locks)):
            for j in range(i + 1, len(locks)):
                nested(locks[i], locks[j])
        with locks[0], locks[1], locks[2], locks[3]:
            pass

    for _ in range(3):
        in_thread(ordered)
    assert detector.deadlocks() == []
    assert detector.lock_order is not None and detector.lock_order.held_count() == 0


def test_rlock_reentry_is_not_an_edge(detector: Detector) -> None:
    r = threading.RLock()
    a = threading.Lock()

    def reenter() -> None:
        with r:  # noqa: SIM117
            with a:
                with r:  # already ours: cannot block, so no a -> r edge
                    r.acquire()
                    r.release()

    in_thread(reenter)
    in_thread(reenter)
    assert detector.deadlocks() == []
    assert detector.lock_order is not None and detector.lock_order.held_count() == 0


@pytest.mark.parametrize("factory", ["Lock", "RLock", None])
def test_condition_wait_gives_back_and_retakes_without_edges(detector: Detector, factory: str | None) -> None:
    # looked up now: threading.Lock is the tracked class only while the detector records
    cond = threading.Condition(getattr(threading, factory)() if factory is not None else None)
    other = threading.Lock()
    items: list[int] = []

    def consumer() -> None:
        with cond:
            with other:  # cond -> other
                # waiting while holding `other`: the re-acquire of cond is a restore, not other -> cond
                while not items:
                    cond.wait(0.01)
            while len(items) < 2:
                cond.wait(0.01)
        assert detector.lock_order is not None and detector.lock_order.held_count() == 0

    def producer() -> None:
        for i in range(2):
            with cond:
                items.append(i)
                cond.notify_all()

    t = threading.Thread(target=consumer)
    t.start()
    producer()
    t.join()
    assert items == [0, 1]
    assert detector.deadlocks() == []
    # cond's entry came back under its original acquisition: other is still only after cond
    in_thread(lambda: nested(cond, other))
    assert detector.deadlocks() == []
    in_thread(lambda: nested(other, cond))
    (d,) = detector.deadlocks()
    # the consumer's edge: cond taken at `with cond:`, other under it (stacks from the user's frames)
    consumer_edge = d.edges[1]
    assert consumer_edge.held_stack[0].line == line_of(consumer, "with cond:")
    assert consumer_edge.acquired_stack[0].line == line_of(consumer, "with other:")


@pytest.mark.parametrize("how", ["blocking=False", "timeout"])
def test_try_acquire_adds_no_edge_but_counts_as_held(detector: Detector, how: str) -> None:
    a, b = threading.Lock(), threading.Lock()

    def try_b_under_a() -> None:
        with a:
            ok = b.acquire(blocking=False) if how == "blocking=False" else b.acquire(timeout=0.5)
            assert ok
            b.release()

    in_thread(try_b_under_a)
    in_thread(lambda: nested(b, a))
    assert detector.deadlocks() == []

    def a_under_tried_b() -> None:  # b was try-acquired, then a blocks under it: b -> a is an edge
        assert b.acquire(False)
        with a:
            pass
        b.release()

    c = threading.Lock()
    in_thread(lambda: nested(c, b))
    in_thread(a_under_tried_b)
    assert detector.deadlocks() == []  # b -> a and c -> b: still no cycle
    in_thread(lambda: nested(a, c))
    assert len(detector.deadlocks()) == 1  # a -> c -> b -> a


def test_gate_lock_prevents_the_report_until_an_ungated_inversion(detector: Detector) -> None:
    gate, a, b = threading.Lock(), threading.Lock(), threading.Lock()

    def gated(x: Any, y: Any) -> None:
        with gate:
            nested(x, y)

    in_thread(lambda: gated(a, b), "gated-ab")
    in_thread(lambda: gated(b, a), "gated-ba")
    in_thread(lambda: gated(b, a), "gated-ba-again")
    assert detector.deadlocks() == []
    in_thread(lambda: nested(b, a), "ungated-ba")  # b -> a now also taken without the gate
    (d,) = detector.deadlocks()
    # the edge keeps its first occurrence's stacks; the ungated one only narrowed its guards
    assert sorted(e.thread for e in d.edges) == ["gated-ab", "gated-ba"]


def test_gate_taken_after_the_first_lock_does_not_protect(detector: Detector) -> None:
    gate, a, b = threading.Lock(), threading.Lock(), threading.Lock()

    def late_gate(x: Any, y: Any) -> None:
        with x:  # noqa: SIM117
            with gate:
                with y:
                    pass

    in_thread(lambda: late_gate(a, b))
    in_thread(lambda: late_gate(b, a))
    assert len(detector.deadlocks()) >= 1


def test_lock_released_by_another_thread_leaves_no_stale_edge(detector: Detector) -> None:
    handoff, m = threading.Lock(), threading.Lock()
    handoff.acquire()  # the main thread takes it; a worker gives it back (a binary-semaphore pattern)
    in_thread(handoff.release)
    with m:  # would be handoff -> m if the main thread still believed it held handoff
        pass
    in_thread(lambda: nested(m, handoff))
    assert detector.deadlocks() == []


def test_semaphores_are_not_part_of_the_lock_order(detector: Detector) -> None:
    sem, a = threading.Semaphore(1), threading.Lock()
    in_thread(lambda: nested(sem, a))
    in_thread(lambda: nested(a, sem))
    assert detector.deadlocks() == []


def transfer(src: Any, dst: Any) -> None:
    with src.lock:  # noqa: SIM117
        with dst.lock:
            src.n -= 1
            dst.n += 1


class Account:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.n = 10


def test_one_report_per_cycle_of_lock_sites_with_a_count(detector: Detector) -> None:
    accounts = [Account() for _ in range(6)]
    for x, y in zip(accounts[::2], accounts[1::2]):
        in_thread(lambda x=x, y=y: transfer(x, y))
        in_thread(lambda x=x, y=y: transfer(y, x))
    (d,) = detector.deadlocks()
    assert d.count == 3
    assert {lk.created_at.function for lk in d.locks if lk.created_at} == {"__init__"}


def test_dead_locks_leave_the_graph_and_reused_ids_make_no_cycle(detector: Detector) -> None:
    order = detector.lock_order
    assert order is not None

    def pair() -> None:
        a, b = threading.Lock(), threading.Lock()
        nested(a, b)

    def reversed_pair() -> None:
        c, d = threading.Lock(), threading.Lock()
        nested(d, c)

    for _ in range(300):
        in_thread(pair)
        in_thread(reversed_pair)  # c, d may get a, b's ids: they are other locks all the same
    gc.collect()
    in_thread(pair)  # purges the dead
    assert detector.deadlocks() == []
    assert order.edges <= 2, order.edges


def test_off_switch_records_nothing(tmp_path: Any) -> None:
    d = Detector(lock_order=False)
    d.start()
    try:
        assert hb_threading._order is None
        a, b = threading.Lock(), threading.Lock()
        in_thread(lambda: nested(a, b))
        in_thread(lambda: nested(b, a))
    finally:
        d.stop()
    assert d.lock_order is None
    assert d.deadlocks() == [] and d.take_new_deadlocks() == []


def test_detector_stop_uninstalls_the_graph(detector: Detector) -> None:
    assert hb_threading._order is detector.lock_order
    detector.stop()
    assert hb_threading._order is None


def test_many_threads_consistent_order_concurrently(detector: Detector) -> None:
    """Stress (meant for the free-threaded build): concurrent nested acquires in one global order."""
    locks = [threading.Lock() if i % 2 else threading.RLock() for i in range(6)]
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def work(seed: int) -> None:
        import random

        rng = random.Random(seed)
        try:
            start.wait()
            for _ in range(300):
                picked = sorted(rng.sample(range(len(locks)), rng.randint(1, 3)))
                held = [locks[i] for i in picked]
                for lk in held:
                    lk.acquire()
                for lk in reversed(held):
                    lk.release()
            assert detector.lock_order is not None and detector.lock_order.held_count() == 0
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert detector.deadlocks() == []
    assert detector.internal_errors == 0


def test_many_threads_gated_inversions_concurrently(detector: Detector) -> None:
    """Stress: threads invert two locks concurrently, always under one gate: safe, never reported."""
    gate, a, b = threading.Lock(), threading.Lock(), threading.Lock()
    start = threading.Barrier(4)

    def work(flip: bool) -> None:
        start.wait()
        for _ in range(300):
            with gate:
                nested(b, a) if flip else nested(a, b)

    threads = [threading.Thread(target=work, args=(i % 2 == 0,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert detector.deadlocks() == []


def test_report_identity_ignores_rotation() -> None:
    from racefree.detector.findings import Frame, LockEdge, LockInfo

    f1, f2 = Frame("/a.py", 1, "f"), Frame("/a.py", 2, "g")
    locks = (LockInfo("M1", "Lock", f1), LockInfo("M2", "Lock", f2))
    rotated = (LockInfo("M1", "Lock", f2), LockInfo("M2", "Lock", f1))
    edge = LockEdge("M1", "M2", "T", (f1,), (f2,))
    assert Deadlock(locks, (edge,)).key() == Deadlock(rotated, (edge,)).key()


def test_no_detector_frames_in_stacks(detector: Detector) -> None:
    a, b = threading.Lock(), threading.Lock()
    in_thread(lambda: nested(a, b))
    in_thread(lambda: nested(b, a))
    (d,) = detector.deadlocks()
    files = {f.file for e in d.edges for f in (*e.held_stack, *e.acquired_stack)}
    assert files == {HERE}, files
    assert sys.modules["racefree.detector.lockorder"].__file__ not in files


def test_concurrent_inversions_are_all_counted(detector: Detector) -> None:
    """Stress: 6 threads record 60 inversions concurrently (each pair inverted by another thread
    after a barrier, so nothing deadlocks); one report per cycle of sites, counting every pair."""
    n_threads, per_thread = 6, 10
    pairs = [(threading.Lock(), threading.Lock()) for _ in range(n_threads * per_thread)]
    phase = threading.Barrier(n_threads)

    def work(i: int) -> None:
        mine = pairs[i * per_thread:(i + 1) * per_thread]
        theirs = pairs[((i + 1) % n_threads) * per_thread:((i + 1) % n_threads + 1) * per_thread]
        for x, y in mine:
            nested(x, y)
        phase.wait()
        for x, y in theirs:
            nested(y, x)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (d,) = detector.deadlocks()
    assert d.count == n_threads * per_thread
    assert detector.internal_errors == 0


def test_stopping_while_threads_take_locks_raises_nothing() -> None:
    """Stress: threads keep taking tracked locks (nested) while the detector stops under them."""
    d = Detector()
    d.start()
    a, b = threading.Lock(), threading.RLock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            while not stop.is_set():
                nested(a, b)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    import time

    time.sleep(0.05)
    d.stop()
    time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert d.deadlocks() == []
