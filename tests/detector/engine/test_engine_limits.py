"""Lifecycle, symmetry of the patches, bounded memory, many threads."""

from __future__ import annotations

import _thread
import concurrent.futures
import queue
import threading
from typing import Any

import pytest
from _engine_support import Box, incr_x, read_x, sequential_unordered, site, write_x

from racefree.detector import Detector
from racefree.detector import runtime as rf
from racefree.detector.events import ATTR
from racefree.sync import _hb

# captured at import: while a detector records, _thread.allocate_lock() makes a tracked lock
_raw_lock = _thread.allocate_lock


def snapshot() -> dict[str, Any]:
    return {
        "Lock": threading.Lock,
        "RLock": threading.RLock,
        "SimpleQueue": queue.SimpleQueue,
        "start": threading.Thread.__dict__["start"],
        "join": threading.Thread.__dict__["join"],
        "event_set": threading.Event.__dict__["set"],
        "sem_enter": threading.Semaphore.__dict__["__enter__"],
        "bsem_acquire": "acquire" in threading.BoundedSemaphore.__dict__,
        "q_put": queue.Queue.__dict__["_put"],
        "lifo_put": queue.LifoQueue.__dict__["_put"],
        "task_done": queue.Queue.__dict__["task_done"],
        "result": concurrent.futures.Future.__dict__["result"],
        "wait": concurrent.futures.wait,
        "read": rf.read,
        "call": rf.call,
        "listener": _hb.listener,
    }


def test_start_stop_is_symmetric_and_idempotent() -> None:
    before = snapshot()
    d = Detector()
    d.start()
    during = snapshot()
    assert during["Lock"] is not before["Lock"]
    assert during["read"] is not before["read"] and rf.recording()
    assert during["listener"] is d
    d.stop()
    d.stop()
    assert snapshot() == before
    assert not rf.recording()


def test_only_one_active_detector_and_single_start() -> None:
    with Detector() as d, pytest.raises(RuntimeError, match="already started"):
        Detector().start()
    with pytest.raises(RuntimeError, match="started only once"):
        d.start()


def test_runtime_is_a_no_op_when_stopped() -> None:
    b = Box()
    write_x(b)
    assert rf.iterate([1], site(1)) == [1]
    assert rf.call(len, site(1), [1, 2]) == 2
    assert rf.call(dict, site(1), a=1) == {"a": 1}
    f = (lambda: b)  # noqa: E731
    assert rf.cells(f)[0].cell_contents is b


def test_recording_call_passes_arguments_through() -> None:
    with Detector("strict"):
        d: dict[str, int] = {}
        assert rf.call(d.setdefault, site(1), "k", 3) == 3
        assert rf.call(sorted, site(2), [3, 1], reverse=True) == [3, 1]
        assert rf.call(dict.get, site(3), d, "k") == 3
        assert rf.call(zip, site(4), [1], [2]) is not None
        with pytest.raises(KeyError):
            rf.call({}.pop, site(5), "missing")


def test_history_size_bounds_the_shadow_memory() -> None:
    with Detector("strict", history_size=100) as d:
        boxes = [Box() for _ in range(1000)]
        for b in boxes:
            write_x(b)
        stats = d.statistics()
    assert stats["cells"] <= 100
    assert stats["evicted"] >= 900


def test_forgotten_history_never_invents_a_race() -> None:
    with Detector("strict", history_size=16) as d:
        b = Box()
        t = threading.Thread(target=write_x, args=(b,))
        t.start()
        t.join()
        for _ in range(64):
            write_x(Box())  # evicts b's cell
        read_x(b)
    assert d.races() == []


def test_a_thousand_threads() -> None:
    b = Box()
    with Detector("python") as d:
        lock = threading.Lock()

        def work() -> None:
            with lock:
                incr_x(b)

        threads = [threading.Thread(target=work) for _ in range(1000)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        read_x(b)
    assert b.x == 1000
    assert d.races() == []
    assert d.statistics()["threads"] == 1001


def test_a_thousand_racing_threads_report_one_race() -> None:
    b = Box()
    with Detector("python") as d:
        threads = [threading.Thread(target=incr_x, args=(b,)) for _ in range(1000)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    races = d.races()
    assert [(r.kind, r.location) for r in races] == [("lost-update", "Box.x")]


def test_weakly_referenced_objects_do_not_inherit_a_dead_objects_history() -> None:
    # Box instances support weak references: a new object at a reused address starts clean
    with Detector("strict") as d:
        for _ in range(50):
            sequential_unordered(lambda: write_x(Box()), lambda: read_x(Box()))
    assert d.races() == []


def test_statistics_and_repr() -> None:
    d = Detector("strict")
    assert "new" in repr(d)
    with d:
        sequential_unordered(lambda: rf.write(ATTR, d, "x", site(1)))
        assert d.started
    assert d.statistics()["mode"] == "strict"
    assert "stopped" in repr(d)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_fork_child_can_keep_recording() -> None:
    import os
    import time
    import warnings

    with Detector("strict") as d:
        d._lock.acquire()  # as if another thread held it at fork time
        d.registry.lock.acquire()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # "multi-threaded process forked"
            pid = os.fork()
        if pid == 0:  # child: must not deadlock on the inherited locks, and must go on recording
            code = 1  # an exception below
            try:
                before = len(d.races())
                box = Box()
                sequential_unordered(lambda: write_x(box), lambda: write_x(box))
                d.release(object())
                with d.registry.lock:
                    pass
                code = 0 if len(d.races()) > before else 2  # 2: the child's race went unseen
            finally:
                os._exit(code)
        d._lock.release()
        d.registry.lock.release()
        deadline = time.monotonic() + 30
        while (waited := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        if waited[0] == 0:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child deadlocked in the detector")
    assert os.waitstatus_to_exitcode(waited[1]) == 0


def test_dropped_temporaries_are_forgotten_live_containers_are_not() -> None:
    import racefree.detector.shadow as shadow_module

    shared: dict[str, int] = {"k": 0}
    stats: dict[str, Any] = {}

    def temporaries() -> None:
        for i in range(3 * shadow_module.SWEEP_EVERY):
            tmp = {"i": i}  # a temporary dict (no weak references: held strongly by its cell)
            rf.getitem(tmp, "i", site(2, text="tmp"))
            del tmp
        stats.update(d.statistics())

    with Detector("strict") as d:
        # three unordered threads: the shared dict's history must survive the sweeps
        sequential_unordered(
            lambda: rf.setitem(shared, "k", site(1, text="shared")),
            temporaries,
            lambda: rf.getitem(shared, "k", site(3, text="shared")),
        )
    assert d.shadow.swept >= shadow_module.SWEEP_EVERY
    assert stats["cells"] < 2 * shadow_module.SWEEP_EVERY
    assert [r.location for r in d.races()] == ["dict shared['k']"]


def test_simultaneous_racing_accesses_are_never_lost() -> None:
    # On the free-threaded build the two accesses really run at once: the cell's stripe
    # lock keeps one from erasing the other's record, so each round reports exactly once.
    rounds = 150
    with Detector("strict") as d:
        for _ in range(rounds):
            b = Box()
            gate = _raw_lock()
            gate.acquire()

            def go(fn: Any, b: Any = b, gate: Any = gate) -> None:
                gate.acquire()
                gate.release()
                fn(b)

            threads = [threading.Thread(target=go, args=(f,)) for f in (write_x, read_x)]
            for t in threads:
                t.start()
            gate.release()
            for t in threads:
                t.join()
    races = d.races()
    assert len(races) == 1
    assert races[0].count == rounds


def test_a_failed_start_leaves_nothing_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    from racefree.detector import hb_futures

    before = snapshot()

    def broken(detector: Any) -> Any:
        raise OSError("cannot patch")

    monkeypatch.setattr(hb_futures, "install", broken)
    d = Detector()
    with pytest.raises(OSError, match="cannot patch"):
        d.start()
    assert snapshot() == before
    monkeypatch.undo()
    with Detector():  # the failed one is not left active
        pass


def test_dead_weakly_referenced_objects_leave_the_history_live_ones_stay() -> None:
    # Objects that support weak references are not kept alive by their cells; once one
    # dies its cells go at once (no later access can reach it), instead of filling the
    # history until evicted.  A live object's history survives, and still races.
    live = Box()

    def temporaries() -> None:
        tmps = [Box() for _ in range(1000)]  # all alive at once: no id is reused
        for tmp in tmps:
            write_x(tmp)
            read_x(tmp)
        del tmp, tmps

    with Detector("strict") as d:
        sequential_unordered(lambda: write_x(live), temporaries, lambda: read_x(live))
        cells = len(d.shadow)
    assert d.shadow.evicted == 0
    assert cells < 100  # 1000 dead Boxes would have left 1000 cells
    assert [r.location for r in d.races()] == ["Box.x"]


def test_a_location_evicted_while_in_the_c_table_is_recorded_in_the_shadow_again() -> None:
    # the C back-end keeps a per-thread table of recent cells; after a new epoch it
    # records into the table's cell without a shadow lookup, unless that cell was evicted
    b = Box()
    with Detector("strict", history_size=16) as d:
        lock = threading.Lock()  # tracked: made while the detector records
        write_x(b)  # b.x's cell is made
        write_x(b)  # and found: now in this thread's table
        d.shadow.history_size = 0
        d.shadow._evict()  # every cell goes, b.x's too
        d.shadow.history_size = 16
        assert (id(b), "x") not in d.shadow.cells
        with lock:  # a new epoch
            pass
        write_x(b)  # lands in a cell the shadow holds, or the next write finds no history
        assert (id(b), "x") in d.shadow.cells
        assert d.shadow.cells[(id(b), "x")].w == d.thread_state().epoch


def test_after_fork_the_registry_and_the_shadow_take_fresh_locks() -> None:
    from racefree.detector.races import Registry
    from racefree.detector.shadow import Shadow

    registry, shadow = Registry(), Shadow(8)
    registry.lock.acquire()  # as if a thread that does not survive the fork held them
    shadow.lock.acquire()
    registry.after_fork_in_child()
    shadow.after_fork_in_child()
    assert registry.lock.acquire(blocking=False) and shadow.lock.acquire(blocking=False)
