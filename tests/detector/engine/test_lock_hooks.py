"""Tracked locks on the C back-end: ``with lock:`` and the clock steps run in C, and agree with Python.

``_speedups.LockHooks`` is ``Detector.lock_acquired``/``lock_released`` in C, and
``_speedups.lock_methods`` is ``_TrackedLock.__enter__``/``__exit__``; the Python
methods stay the reference (the Python back-end runs them).  These tests hold the
C ones to the same clocks, step by step.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from racefree.detector import Detector, hb_threading, speedups


def test_with_runs_in_c_only_on_the_c_backend(detector_backend: str) -> None:
    python_enter = hb_threading._TrackedLock.__dict__["__enter__"]
    with Detector():
        installed = hb_threading._TrackedLock.__dict__["__enter__"]
        assert (installed is not python_enter) == (detector_backend == "c")
        lock = threading.Lock()
        with lock:
            assert lock.locked()
        assert not lock.locked()
    assert hb_threading._TrackedLock.__dict__["__enter__"] is python_enter


def _snapshot(d: Detector, *locks: Any) -> tuple[Any, ...]:
    ts = d.thread_state()
    clocks = tuple(None if lk._clock is None else (list(lk._clock.vc), lk._clock.last) for lk in locks)
    return ts.clock, list(ts.vc), ts.epoch, clocks


def _scenario(monkeypatch: pytest.MonkeyPatch, backend: str) -> list[tuple[Any, ...]]:
    monkeypatch.setenv(speedups.ENV, backend)
    steps: list[tuple[Any, ...]] = []
    with Detector() as d:
        a, r = threading.Lock(), threading.RLock()
        steps.append(_snapshot(d, a, r))
        with a:
            steps.append(_snapshot(d, a, r))
        steps.append(_snapshot(d, a, r))
        with r:
            with r:  # re-entered: the raw RLock answers 1, still an acquire
                steps.append(_snapshot(d, a, r))
            steps.append(_snapshot(d, a, r))
        steps.append(_snapshot(d, a, r))
        assert a.acquire(timeout=1)
        a.release()
        steps.append(_snapshot(d, a, r))

        def other() -> None:
            with a:
                pass
            with r:
                pass

        t = threading.Thread(target=other)
        t.start()
        t.join()
        steps.append(_snapshot(d, a, r))
        with a:  # the other thread's release: already known through join, no join needed
            steps.append(_snapshot(d, a, r))
        with pytest.raises(RuntimeError):
            a.__exit__(None, None, None)  # not held: nothing recorded, the raw lock raises
        steps.append(_snapshot(d, a, r))
    return steps


def test_c_and_python_clock_steps_agree(monkeypatch: pytest.MonkeyPatch, detector_backend: str) -> None:
    if detector_backend != "c":
        pytest.skip("compares the C back-end with the reference")
    assert _scenario(monkeypatch, "c") == _scenario(monkeypatch, "python")


def test_a_lock_from_a_stopped_detector_gets_a_fresh_clock(detector_backend: str) -> None:
    with Detector() as first:
        lock = threading.Lock()
        for _ in range(3):
            with lock:
                pass
        stale = lock._clock
    assert stale is not None and stale.gen == first.gen and stale.vc is not None and max(stale.vc) > 2
    with Detector() as second:
        ts = second.thread_state()
        expected = list(ts.vc)
        expected[ts.tid] = ts.clock + 1
        second.lock_acquired(lock)  # the first detector's clock is not this one's: no join, a tick
        assert ts.vc == expected and ts.clock == expected[ts.tid]
        published = (list(ts.vc), ts.epoch)
        second.lock_released(lock)
        assert lock._clock is not stale and lock._clock.gen == second.gen != first.gen
        assert (lock._clock.vc, lock._clock.last) == published
        assert ts.clock == published[0][ts.tid] + 1


def _atomic_scenario(monkeypatch: pytest.MonkeyPatch, backend: str) -> list[tuple[Any, ...]]:
    from racefree.sync import AtomicInt

    monkeypatch.setenv(speedups.ENV, backend)
    steps: list[tuple[Any, ...]] = []

    def snap(d: Detector, a: Any) -> None:
        ts = d.thread_state()
        clock = a._hb_clock
        mine = None if clock is None else (list(clock.vc), clock.last)
        steps.append((ts.clock, list(ts.vc), ts.epoch, mine))

    with Detector() as d:
        a = AtomicInt()
        snap(d, a)
        a.add(1)  # the first exchange makes the atomic's clock
        snap(d, a)
        a.increment()  # the thread's own last release: no join
        snap(d, a)

        def other() -> None:
            a.add(2)

        t = threading.Thread(target=other)
        t.start()
        t.join()
        a.compare_and_swap(4, 5)  # the other thread's release, known through join
        snap(d, a)
        vc = d.publish_clock()  # a queue item's clock
        snap(d, a)
        d.absorb_clock(vc)
        d.absorb_clock(None)
        snap(d, a)
        steps.append((list(vc), a.load()))
    return steps


def test_c_and_python_atomic_and_item_clocks_agree(
    monkeypatch: pytest.MonkeyPatch, detector_backend: str
) -> None:
    if detector_backend != "c":
        pytest.skip("compares the C back-end with the reference")
    assert _atomic_scenario(monkeypatch, "c") == _atomic_scenario(monkeypatch, "python")


def test_atomic_and_item_clock_steps_run_in_c_on_the_c_backend(detector_backend: str) -> None:
    with Detector() as d:
        in_c = type(d.acquire_release).__name__ == "builtin_function_or_method"
        assert in_c == (detector_backend == "c")
        assert (type(d.publish_clock).__name__ == "builtin_function_or_method") == in_c
        assert (type(d.absorb_clock).__name__ == "builtin_function_or_method") == in_c


def test_acquire_release_of_a_key_without_its_own_clock_uses_the_reference(detector_backend: str) -> None:
    key = object()
    with Detector() as d:
        ts = d.thread_state()
        before = ts.clock
        d.acquire_release(key)  # a racefree.sync key clock kept by the detector (Python on both)
        d.acquire_release(key)
        assert ts.clock == before + 2


def test_condition_enter_runs_in_c_on_the_c_backend(detector_backend: str) -> None:
    python_enter = hb_threading._condition_enter
    with Detector() as d:
        installed = threading.Condition.__dict__["__enter__"]
        assert (installed is not python_enter) == (detector_backend == "c")
        raw = threading.Condition(hb_threading._allocate_lock())  # a raw lock (a Queue's): its own __enter__
        with raw as entered:
            assert entered is True
        tracked = threading.Condition()  # a tracked RLock: the lock-order path (Python on both)
        with tracked as entered:
            assert entered is True
            assert d.lock_order is None or d.lock_order.held_count() == 1
        assert d.lock_order is None or d.lock_order.held_count() == 0
