"""The deliberately unsafe components: correct alone, and losing updates without the GIL."""

from __future__ import annotations

import random
import threading

import pytest

from racefree._build import gil_enabled
from racefree.automation import ProcessingError
from racefree.lab.pitfalls import UnsafeTypeCounter
from racefree.lab.unsafe import UnsafeCounter, UnsafeProcessor, UnsafeTaskRegistry

needs_free_threading = pytest.mark.skipif(
    gil_enabled(), reason="with the GIL these races rarely lose an update; the loss is asserted without it")


def test_unsafe_counter_is_correct_on_one_thread() -> None:
    c = UnsafeCounter()
    for _ in range(10):
        c.increment()
    assert c.value == c.read() == 10


def test_unsafe_registry_is_correct_on_one_thread() -> None:
    r = UnsafeTaskRegistry()
    r.register("t1", "Task 1")
    assert r.get("t1") == "Task 1" and r.get("t2") is None
    assert r.all() == {"t1": "Task 1"} and r.all() is not r.tasks


def test_unsafe_processor_is_correct_on_one_thread() -> None:
    p = UnsafeProcessor(error_rate=0.5, work_time=0, rng=random.Random(1))
    raised = 0
    for i in range(100):
        try:
            p.process(str(i))
        except ProcessingError:
            raised += 1
    s = p.stats()
    assert (s.tasks_processed, s.errors_occurred) == (100, raised)
    assert p.tasks_processed == 100 and p.last_processed is not None


def test_unsafe_type_counter_is_correct_on_one_thread() -> None:
    c = UnsafeTypeCounter()
    for t in "abab":
        c.record(t)
    assert c.counts == {"a": 2, "b": 2}


def _hammer(threads: int, target: object) -> None:
    barrier = threading.Barrier(threads)

    def body() -> None:
        barrier.wait()
        target()  # type: ignore[operator]

    ts = [threading.Thread(target=body) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


@pytest.mark.stress
@needs_free_threading
def test_unsafe_counter_loses_increments_without_the_gil() -> None:
    threads, per_thread = 4, 50_000
    for _attempt in range(5):
        c = UnsafeCounter()

        def run(c: UnsafeCounter = c) -> None:
            for _ in range(per_thread):
                c.increment()

        _hammer(threads, run)
        if c.read() < threads * per_thread:
            return
    pytest.fail("five stress runs of the unsafe counter lost no increment without the GIL")


@pytest.mark.stress
@needs_free_threading
def test_unsafe_processor_loses_counts_without_the_gil() -> None:
    threads, per_thread = 4, 20_000
    for _attempt in range(5):
        p = UnsafeProcessor(error_rate=0.0, work_time=0)

        def run(p: UnsafeProcessor = p) -> None:
            for i in range(per_thread):
                p.process(str(i))

        _hammer(threads, run)
        if p.stats().tasks_processed < threads * per_thread:
            return
    pytest.fail("five stress runs of the unsafe processor lost no count without the GIL")
