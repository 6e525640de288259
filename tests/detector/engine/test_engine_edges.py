"""Happens-before edges of issue 8: raw locks, thread ends observed, asyncio hand-offs, annotations;
and issue 9's "the program cannot see the detector" for what the edges keep.

Each edge has a race twin (the same program without the edge is reported) and a no-race twin.
``runtime.entering``/``runtime.lockcall`` are called the way rewritten code calls them.
"""

from __future__ import annotations

import _thread
import asyncio
import copy
import pickle
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from _engine_support import Box, incr_x, sequential_unordered

import racefree
from racefree.detector import Detector
from racefree.detector import runtime as rf

_raw_lock = _thread.allocate_lock  # captured at import: the raw factory
_raw_rlock = _thread.RLock
_raw_threading_lock = threading._allocate_lock  # type: ignore[attr-defined]


@pytest.fixture(params=["strict", "python"])
def det(request: pytest.FixtureRequest) -> Iterator[Detector]:
    d = Detector(request.param)
    d.start()
    try:
        yield d
    finally:
        d.stop()


def locations(d: Detector) -> list[str]:
    return [r.location for r in d.races()]


def two_threads(a: Callable[[], Any], b: Callable[[], Any]) -> None:
    """Both started together (no order between them), then joined."""
    ts = [threading.Thread(target=a, name="A"), threading.Thread(target=b, name="B")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


# ------------------------------------------------------------------ raw locks

@pytest.mark.parametrize("factory", ["allocate_lock", "allocate", "LockType", "RLock"])
def test_thread_module_factories_make_tracked_locks(det: Detector, factory: str) -> None:
    if not hasattr(_thread, factory) or (factory == "LockType" and not _lock_type_callable()):
        pytest.skip(f"_thread.{factory} cannot make a lock here")
    lock = getattr(_thread, factory)()
    b = Box()

    def bump() -> None:
        with lock:
            incr_x(b)

    two_threads(bump, bump)
    assert det.races() == []


def _lock_type_callable() -> bool:
    try:
        type(_raw_lock())()
    except TypeError:
        return False
    return True


@pytest.mark.parametrize("factory", [_raw_lock, _raw_rlock, _raw_threading_lock])
@pytest.mark.parametrize("how", ["with", "calls"])
def test_raw_lock_made_before_start_orders_instrumented_sections(
    det: Detector, factory: Callable[[], Any], how: str
) -> None:
    lock = factory()  # raw even while recording: the factory was captured before start
    assert type(lock) in (type(_raw_lock()), type(_raw_rlock()))
    b = Box()

    def bump() -> None:
        if how == "with":
            with rf.entering(lock):
                incr_x(b)
        else:
            rf.lockcall(lock.acquire)()
            incr_x(b)
            rf.lockcall(lock.release)()

    sequential_unordered(bump, bump)
    _settle()
    assert det.races() == []


@pytest.mark.parametrize("factory", [_raw_lock, _raw_rlock])
def test_raw_lock_on_one_side_only_is_a_race(det: Detector, factory: Callable[[], Any]) -> None:
    lock = factory()
    b = Box()

    def locked() -> None:
        with rf.entering(lock):
            incr_x(b)

    sequential_unordered(locked, lambda: incr_x(b))
    _settle()
    assert locations(det) == ["Box.x"]


def test_two_raw_locks_do_not_order_each_other(det: Detector) -> None:
    l1, l2 = _raw_lock(), _raw_lock()
    b = Box()

    def one() -> None:
        with rf.entering(l1):
            incr_x(b)

    def two() -> None:
        rf.lockcall(l2.acquire)(True, -1)
        incr_x(b)
        rf.lockcall(l2.release)()

    sequential_unordered(one, two)
    _settle()
    assert locations(det) == ["Box.x"]


def test_entering_and_lockcall_pass_everything_else_through(det: Detector) -> None:
    box = Box()
    assert rf.entering(box) is box
    sem = threading.Semaphore(1)
    assert rf.lockcall(sem.acquire)(blocking=False) is True
    rf.lockcall(sem.release)()
    lock = _raw_lock()
    assert rf.lockcall(lock.acquire)(False) is True
    assert rf.lockcall(lock.acquire)(blocking=False) is False  # a failed try gives nothing
    rf.lockcall(lock.release)()
    with pytest.raises(RuntimeError):
        rf.lockcall(lock.release)()  # the raw lock's own error, unchanged
    with rf.entering(lock) as entered:
        assert entered is True and lock.locked()
    assert not lock.locked()


def _settle() -> None:
    """sequential_unordered returns before its last thread ends: wait for it (no edge)."""
    deadline = time.monotonic() + 10
    while len(threading._active) > 1 and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.001)


# --------------------------------------------------------- thread end observed

def _finished_thread(b: Box) -> threading.Thread:
    t = threading.Thread(target=lambda: incr_x(b), name="W")
    t.start()
    return t


@pytest.mark.parametrize("how", ["is_alive", "join_timeout", "enumerate"])
def test_observing_a_thread_ended_orders_its_run(det: Detector, how: str) -> None:
    b = Box()
    t = _finished_thread(b)
    if how == "is_alive":
        while t.is_alive():
            time.sleep(0.001)
    elif how == "join_timeout":
        t.join(60.0)  # returns with the thread dead
    else:
        while t in threading.enumerate():
            time.sleep(0.001)
    incr_x(b)
    assert det.races() == []


def test_a_live_thread_observed_orders_nothing(det: Detector) -> None:
    b = Box()
    stop = _raw_lock()
    stop.acquire()

    def work() -> None:
        incr_x(b)
        stop.acquire()  # raw: no edge

    t = threading.Thread(target=work, name="W")
    t.start()
    while not t.is_alive():
        time.sleep(0.001)
    time.sleep(0.01)
    assert t.is_alive() and t in threading.enumerate()
    incr_x(b)
    stop.release()
    _wait_dead(t)
    assert locations(det) == ["Box.x"]


def _wait_dead(t: threading.Thread) -> None:
    # without is_alive/join (which would be edges): the raw tstate lock
    deadline = time.monotonic() + 10
    while t.ident in threading._active and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.001)


# ---------------------------------------------------------------- annotations

def test_annotations_order_what_the_detector_cannot_see(det: Detector) -> None:
    b = Box()

    def first() -> None:
        incr_x(b)
        racefree.happens_before(b)

    def second() -> None:
        racefree.happens_after(b)
        incr_x(b)

    sequential_unordered(first, second)
    _settle()
    assert det.races() == []


def test_annotation_on_another_object_orders_nothing(det: Detector) -> None:
    b = Box()

    def first() -> None:
        incr_x(b)
        racefree.happens_before("channel-1")

    def second() -> None:
        racefree.happens_after("channel-2")
        incr_x(b)

    sequential_unordered(first, second)
    _settle()
    assert locations(det) == ["Box.x"]


def test_synchronized_by_is_a_lock_the_detector_cannot_see(det: Detector) -> None:
    b = Box()

    def section() -> None:
        with racefree.synchronized_by(("db", "row", 7)):
            incr_x(b)

    sequential_unordered(section, section)
    _settle()
    assert det.races() == []


def test_annotations_are_free_without_a_detector() -> None:
    from racefree.detector import happens_after, happens_before, synchronized_by

    assert happens_before is racefree.happens_before and happens_after is racefree.happens_after
    assert synchronized_by is racefree.synchronized_by
    happens_before(object())
    happens_after(object())
    with synchronized_by("x"):
        pass
    unhashable: Any = {}  # never touched (not hashed, not stored) without a detector
    happens_before(unhashable)
    happens_after(unhashable)


def test_importing_racefree_for_annotations_stays_light() -> None:
    code = (
        "import sys, racefree; racefree.happens_before(1); racefree.happens_after(1); "
        "print(sorted(m for m in sys.modules if m.startswith('racefree')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['racefree', 'racefree.annotations']"


# ------------------------------------------------------------------- asyncio

def test_call_soon_threadsafe_orders_the_callback(det: Detector) -> None:
    b = Box()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        done = asyncio.Event()

        def deliver() -> None:
            incr_x(b)
            done.set()

        def worker() -> None:
            incr_x(b)
            loop.call_soon_threadsafe(deliver)

        t = threading.Thread(target=worker)
        t.start()
        await done.wait()
        await asyncio.to_thread(t.join)

    asyncio.run(main())
    assert det.races() == []


def test_call_soon_threadsafe_orders_only_what_came_before(det: Detector) -> None:
    b = Box()
    loop_wrote = _raw_lock()
    loop_wrote.acquire()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        done = asyncio.Event()

        def deliver() -> None:
            incr_x(b)
            loop_wrote.release()  # raw: no edge
            done.set()

        def worker() -> None:
            loop.call_soon_threadsafe(deliver)
            loop_wrote.acquire()
            incr_x(b)

        t = threading.Thread(target=worker)
        t.start()
        await done.wait()
        await asyncio.to_thread(t.join)

    asyncio.run(main())
    assert locations(det) == ["Box.x"]


def test_run_coroutine_threadsafe_both_ways(det: Detector) -> None:
    b = Box()

    async def step() -> int:
        incr_x(b)
        return 1

    async def main() -> None:
        loop = asyncio.get_running_loop()

        def worker() -> None:
            incr_x(b)
            assert asyncio.run_coroutine_threadsafe(step(), loop).result() == 1
            incr_x(b)

        t = threading.Thread(target=worker)
        t.start()
        await asyncio.to_thread(t.join)

    asyncio.run(main())
    assert det.races() == []


# ------------------------------------------------ invisible to the program (issue 9)

def _used_queue() -> queue.Queue[int]:
    q: queue.Queue[int] = queue.Queue()
    t = threading.Thread(target=lambda: q.put(1))
    t.start()
    t.join()
    assert q.get() == 1
    q.put(2)
    q.task_done()
    return q


def test_a_queue_used_under_the_detector_shows_nothing(det: Detector) -> None:
    q = _used_queue()
    plain: queue.Queue[int] = queue.Queue()
    assert [n for n in dir(q) if "racefree" in n] == []
    assert set(vars(q)) == set(vars(plain))
    clone = copy.copy(q)
    assert set(vars(clone)) == set(vars(plain))
    deep = copy.deepcopy(q.queue)
    assert list(deep) == [2]


def test_synchronizers_used_under_the_detector_show_nothing(det: Detector) -> None:
    objs: list[Any] = [threading.Event(), threading.Semaphore(), threading.BoundedSemaphore(),
                       threading.Barrier(1)]
    e, s, bs, bar = objs
    e.set()
    e.wait()
    s.release()
    s.acquire()
    bs.acquire()
    bs.release()
    bar.wait()
    t = threading.Thread(target=lambda: None)
    t.start()
    t.join()
    t.is_alive()
    for obj in [*objs, t]:
        assert [n for n in vars(obj) if "racefree" in n] == [], obj
        assert [n for n in dir(obj) if "racefree" in n] == [], obj


def test_an_object_pickled_after_synchronizing_on_it(det: Detector) -> None:
    class Job:
        def __init__(self) -> None:
            self.n = 0

    racefree.happens_before(Job)
    job = Box()
    racefree.happens_before(job)
    racefree.happens_after(job)
    assert pickle.loads(pickle.dumps(vars(job))) == {"x": 0}
    assert vars(job) == {"x": 0}


# ---------------------------------------------------------------- lock order

def _nested(outer: Any, inner: Any) -> None:
    with outer:  # noqa: SIM117
        with inner:
            pass


def test_a_cycle_made_by_one_thread_alone_is_not_reported(det: Detector) -> None:
    a, b = threading.Lock(), threading.Lock()
    _nested(a, b)
    _nested(b, a)
    assert det.deadlocks() == []


def test_a_one_thread_cycle_is_reported_once_another_thread_takes_part(det: Detector) -> None:
    a, b = threading.Lock(), threading.Lock()
    _nested(a, b)
    _nested(b, a)
    t = threading.Thread(target=_nested, args=(a, b), name="other")
    t.start()
    t.join()
    (d,) = det.deadlocks()
    assert d.count == 1
    assert {e.thread for e in d.edges} == {"MainThread", "other"}


def test_one_thread_cycles_on_request() -> None:
    d = Detector()
    with d:
        assert d.lock_order is not None
        d.lock_order.same_thread_cycles = True
        a, b = threading.Lock(), threading.Lock()
        _nested(a, b)
        _nested(b, a)
    assert len(d.deadlocks()) == 1


def test_a_reader_writer_lock_of_two_locks_in_one_thread_is_no_deadlock(det: Detector) -> None:
    class RWLock:  # readers counted under one lock, the first reader takes the resource lock
        def __init__(self) -> None:
            self.counter = threading.Lock()
            self.resource = threading.Lock()
            self.readers = 0

        def acquire_read(self) -> None:
            with self.counter:
                self.readers += 1
                if self.readers == 1:
                    self.resource.acquire()

        def release_read(self) -> None:
            with self.counter:
                self.readers -= 1
                if self.readers == 0:
                    self.resource.release()

    rw = RWLock()
    for _ in range(3):
        rw.acquire_read()
        rw.acquire_read()
        rw.release_read()
        rw.release_read()
    assert det.deadlocks() == []


def test_queue_mutex_taken_by_user_code_is_in_the_lock_order(det: Detector) -> None:
    q: queue.Queue[int] = queue.Queue()
    user = threading.Lock()

    def mutex_then_user() -> None:
        with rf.entering(q.mutex):  # noqa: SIM117 (`with q.mutex:` in instrumented code)
            with user:
                pass

    def user_then_put() -> None:
        with user:
            q.put(1)

    for fn, name in ((mutex_then_user, "A"), (user_then_put, "B")):
        t = threading.Thread(target=fn, name=name)
        t.start()
        t.join()
    (d,) = det.deadlocks()
    assert {e.thread for e in d.edges} == {"A", "B"}


def test_overridden_put_taking_a_lock_is_an_inversion_with_get_under_it(det: Detector) -> None:
    user = threading.Lock()

    class Tracked(queue.Queue[int]):
        def _put(self, item: int) -> None:
            with user:
                super()._put(item)

    q = Tracked()

    def plain_put() -> None:
        q.put(1)

    def get_under_user_lock() -> None:
        with user:  # A in put holds the mutex and waits for `user`; this waits for the mutex
            assert q.get() == 1

    for fn, name in ((plain_put, "A"), (get_under_user_lock, "B")):
        t = threading.Thread(target=fn, name=name)
        t.start()
        t.join()
    (d,) = det.deadlocks()
    assert {e.thread for e in d.edges} == {"A", "B"}


def test_queue_mutex_in_a_consistent_order_is_no_cycle(det: Detector) -> None:
    q: queue.Queue[int] = queue.Queue()
    user = threading.Lock()

    def put_under_user_lock() -> None:
        with user:
            q.put(1)

    def get_under_user_lock() -> None:
        with user:
            q.get()

    for fn, name in ((put_under_user_lock, "A"), (get_under_user_lock, "B")):
        t = threading.Thread(target=fn, name=name)
        t.start()
        t.join()
    assert det.deadlocks() == []


def test_queue_put_and_get_keep_their_name_doc_and_signature(det: Detector, detector_backend: str) -> None:
    import inspect

    q: queue.Queue[int] = queue.Queue()
    for name in ("put", "get"):
        method = getattr(queue.Queue, name)
        original = method.__wrapped__
        assert method.__name__ == original.__name__ == name
        assert method.__doc__ == original.__doc__
        assert inspect.signature(getattr(q, name)) == inspect.signature(original.__get__(q))
    # C back-end: the put/get wrapper is _speedups.HoldingMethod; Python: a function
    assert (type(queue.Queue.__dict__["put"]).__name__ == "HoldingMethod") == (detector_backend == "c")


def test_queue_put_that_raises_leaves_the_mutex_not_held(det: Detector) -> None:
    q: queue.Queue[int] = queue.Queue(maxsize=1)
    user = threading.Lock()
    order = det.lock_order
    assert order is not None
    q.put(1)
    with user, pytest.raises(queue.Full):
        q.put(2, block=False)  # raises inside put: the mutex's stand-in is let go all the same
    assert order.held_count() == 0
    with pytest.raises(queue.Empty):
        q.get(), q.get(block=False)
    assert order.held_count() == 0
    assert det.deadlocks() == []


def test_queue_put_holds_the_mutex_stand_in_while_it_runs(det: Detector) -> None:
    seen: list[int] = []
    order = det.lock_order
    assert order is not None

    class Probe(queue.Queue[int]):
        def _put(self, item: int) -> None:
            seen.append(order.held_count())  # the stand-in of self.mutex, as a held lock
            super()._put(item)

    q = Probe()
    q.put(1)
    assert seen == [1] and order.held_count() == 0 and q.get() == 1
