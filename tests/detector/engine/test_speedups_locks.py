"""The C back-end's own locks and lock bookkeeping: ``_speedups.Stripe`` and the held-list memory.

``Stripe`` guards the detector's cells (``Detector.stripes``) on the C back-end: a
reentrant lock the C slow path takes without a method call.  Held to the contract of
``_thread.RLock`` (the reference it replaces) by a property test, and to mutual
exclusion by a stress test (meaningful on the free-threaded build).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from racefree.detector import Detector, hb_threading, speedups

_speedups: Any = speedups._load()[0]
needs_c = pytest.mark.skipif(_speedups is None, reason="C fast path not built")


@needs_c
def test_stripe_is_reentrant_and_only_its_holder_releases() -> None:
    s = _speedups.Stripe()
    assert s.acquire() is True
    with s:
        assert s._is_owned()
    assert s._is_owned()
    errors: list[BaseException] = []

    def other() -> None:
        try:
            s.release()
        except RuntimeError as exc:
            errors.append(exc)
        assert not s._is_owned()

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert [str(e) for e in errors] == ["cannot release un-acquired lock"]
    s.release()
    assert not s._is_owned()
    with pytest.raises(RuntimeError, match="un-acquired"):
        s.release()
    with pytest.raises(TypeError):
        _speedups.Stripe(1)


@needs_c
@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["acquire", "release", "enter", "exit"]), max_size=40))
def test_stripe_counts_like_an_rlock(ops: list[str]) -> None:
    """One thread's acquire/release sequence: the same outcomes as ``_thread.RLock``."""
    import _thread

    mine, ref = _speedups.Stripe(), _thread.RLock()

    def step(lock: Any, op: str) -> str:
        try:
            if op in ("acquire", "enter"):
                (lock.acquire if op == "acquire" else lock.__enter__)()
            else:
                (lock.release if op == "release" else lambda: lock.__exit__(None, None, None))()
        except RuntimeError:
            return "error"
        return "ok" if lock._is_owned() else "free"

    assert [step(mine, op) for op in ops] == [step(ref, op) for op in ops]


@needs_c
def test_stripe_excludes_other_threads() -> None:
    s = _speedups.Stripe()
    box = {"n": 0}
    per_thread = 2000

    def work() -> None:
        for _ in range(per_thread):
            with s:
                v = box["n"]
                if v % 97 == 0:
                    threading.Event().wait(0)  # give the others a chance to break in
                box["n"] = v + 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert box["n"] == 4 * per_thread


def test_the_c_backend_guards_cells_with_stripes(detector_backend: str) -> None:
    with Detector() as d:
        kinds = {type(s).__name__ for s in d.stripes}
    assert kinds == ({"Stripe"} if detector_backend == "c" else {"RLock"})


def _inversion(a: Any, b: Any) -> None:
    """Two threads, one after the other: a then b, and b then a (a lock-order cycle)."""

    def ab() -> None:
        with a, b:
            pass

    def ba() -> None:
        with b, a:
            pass

    for fn in (ab, ba):
        t = threading.Thread(target=fn)
        t.start()
        t.join()


def test_a_second_detector_records_lock_order_in_its_own_held_lists(detector_backend: str) -> None:
    # the C `with lock:` remembers each thread's held list; a new detector (a new list) must be seen
    for _ in range(2):
        with Detector() as d:
            a = threading.Lock()
            _inversion(a, threading.Lock())
            with a:
                assert d.lock_order is not None and d.lock_order.held_count() == 1
        assert len(d.deadlocks()) == 1
    assert hb_threading._held_gen >= 4
