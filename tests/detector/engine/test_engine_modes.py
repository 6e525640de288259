"""The two modes' definitions (issue 4): python reports lost updates, check-then-act and
iteration during mutation; strict reports every unordered pair with a write."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import pytest
from _engine_support import Box, incr_x, read_x, sequential_unordered, site, write_x

from racefree.detector import Detector
from racefree.detector import runtime as rf
from racefree.detector.events import ATTR, F_AUGMENTED, F_GUARD, F_ITERATION, GLOBAL, SIZE


def run(mode: str, *fns: Callable[[], Any]) -> list[tuple[str, str]]:
    with Detector(mode) as d:  # type: ignore[arg-type]
        sequential_unordered(*fns)
    return sorted((r.kind, r.location) for r in d.races())


BOTH = pytest.mark.parametrize("mode", ["python", "strict"])


def test_lost_update_read_modify_write() -> None:
    b = Box()
    assert run("python", lambda: incr_x(b), lambda: incr_x(b)) == [("lost-update", "Box.x")]
    b = Box()
    assert run("strict", lambda: incr_x(b), lambda: incr_x(b)) == [("data-race", "Box.x")]


def test_lost_update_against_a_blind_write_in_either_order() -> None:
    b = Box()
    assert run("python", lambda: write_x(b), lambda: incr_x(b)) == [("lost-update", "Box.x")]
    b = Box()
    assert run("python", lambda: incr_x(b), lambda: write_x(b)) == [("lost-update", "Box.x")]


def test_python_mode_ignores_single_read_vs_single_write() -> None:
    b = Box()
    assert run("python", lambda: write_x(b), lambda: read_x(b)) == []
    b = Box()
    assert run("python", lambda: read_x(b), lambda: write_x(b)) == []
    b = Box()
    assert run("strict", lambda: read_x(b), lambda: write_x(b)) == [("data-race", "Box.x")]


def test_python_mode_ignores_blind_writes() -> None:
    b = Box()
    assert run("python", lambda: write_x(b), lambda: write_x(b)) == []
    b = Box()
    assert run("strict", lambda: write_x(b), lambda: write_x(b)) == [("data-race", "Box.x")]


def test_read_then_sync_then_write_is_not_a_lost_update() -> None:
    b = Box()

    load, store = site(50, "update"), site(52, "update")

    def careful() -> None:
        read_x(b, load)
        with threading.Lock():  # a synchronization operation of its own between the read and the write
            pass
        write_x(b, store)

    assert run("python", lambda: write_x(b), careful) == []
    b = Box()
    assert run("python", lambda: write_x(b), lambda: (read_x(b, load), write_x(b, store))) == [
        ("lost-update", "Box.x")
    ]


def test_read_in_another_function_does_not_feed_a_blind_write() -> None:
    # the thread read the field in a getter, later stored it blindly in another function:
    # no stale value is written back (issue 4's exercise 3, `last_processed`)
    b = Box()
    getter, setter = site(60, "stats"), site(70, "process")

    def work() -> None:
        read_x(b, getter)
        write_x(b, setter)

    assert run("python", work, work) == []
    assert set(run("strict", work, work)) == {("data-race", "Box.x")}
    # ... but the same getter read followed by a read-modify-write in one function still counts
    b = Box()
    incr = site(80, "process", F_AUGMENTED)

    def work2() -> None:
        read_x(b, getter)
        read_x(b, incr)
        write_x(b, incr)

    assert run("python", work2, work2) == [("lost-update", "Box.x")]


def test_append_racing_append_is_strict_only() -> None:
    results: list[int] = []
    s = site(40, "add", text="results")

    def add() -> None:
        rf.call(results.append, s, 1)

    assert run("python", add, add) == []
    assert run("strict", add, add) == [("data-race", "list results")]


def test_dict_get_then_set_is_a_lost_update() -> None:
    counts: dict[str, int] = {}
    s = site(50, "count", text="counts")

    def count() -> None:
        n = rf.call(counts.get, s, "k", 0)
        rf.setitem(counts, "k", s)
        counts["k"] = n + 1

    assert run("python", count, count) == [("lost-update", "dict counts['k']")]


def test_check_then_act_reported_even_when_one_thread_writes() -> None:
    b = Box()
    b.x = None  # type: ignore[assignment]
    guard = site(60, "get", F_GUARD)

    def lazy_init() -> None:
        rf.read(ATTR, b, "x", guard)
        if b.x is None:
            write_x(b, site(61, "get"))

    # the second thread's check sees the value and does not write
    assert run("python", lazy_init, lazy_init) == [("check-then-act", "Box.x")]


def test_check_then_act_when_the_check_comes_first() -> None:
    b = Box()
    guard = site(60, "get", F_GUARD)
    assert run("python", lambda: rf.read(ATTR, b, "x", guard), lambda: write_x(b)) == [
        ("check-then-act", "Box.x")
    ]


def test_unguarded_check_is_not_check_then_act() -> None:
    b = Box()
    assert run("python", lambda: read_x(b), lambda: write_x(b)) == []


def test_membership_check_then_insert() -> None:
    registry: dict[str, int] = {}
    guard = site(70, "register", F_GUARD, "registry")

    def register() -> None:
        rf.contains(registry, "cfg", guard)
        if "cfg" not in registry:
            rf.setitem(registry, "cfg", site(71, "register", text="registry"))
            registry["cfg"] = 1

    assert run("python", register, register) == [("check-then-act", "dict registry['cfg']")]


def test_iteration_during_mutation() -> None:
    items = [1, 2, 3]
    s = site(80, "scan", text="items")

    def scan() -> None:
        for _ in rf.iterate(items, s):
            pass

    def grow() -> None:
        rf.call(items.append, site(81, "grow", text="items"), 4)

    assert run("python", scan, grow) == [("iteration", "list items")]
    # grown after another thread could have reached it (construct-then-publish: tests/detector/engine/
    # test_engine_publish.py)
    assert run("python", grow, lambda: rf.call(sum, s, items), grow) == [("iteration", "list items")]
    assert run("strict", scan, grow) == [("data-race", "list items")]
    # a slice reads the whole container: the rewriter records it as a SIZE read flagged F_ITERATION;
    # of an exact list it is copied at once (a snapshot, test_engine_snapshots.py), of a deque it is not
    sliced = site(82, "head", F_ITERATION, "items")
    assert run("python", lambda: rf.read(SIZE, items, None, sliced), grow) == []
    assert run("strict", lambda: rf.read(SIZE, items, None, sliced), grow) == [("data-race", "list items")]
    q = deque([1, 2])
    assert run("python", lambda: rf.read(SIZE, q, None, sliced), lambda: rf.call(q.append, s, 3)) == [
        ("iteration", "deque items")]  # (named by the site's text)
    assert run("python", lambda: rf.read(SIZE, items, None, site(83, "size")), grow) == []


def test_size_writes_never_lose_updates() -> None:
    d: dict[int, int] = {}
    s = site(90, "f", text="d")

    def fill() -> None:
        rf.call(len, s, d)
        rf.setitem(d, 1, s)
        d[1] = 1

    assert run("python", fill, fill) == []


@BOTH
def test_locked_read_modify_write_is_silent(mode: str) -> None:
    b = Box()
    lock = None

    def make() -> None:
        nonlocal lock
        lock = threading.Lock()

    def locked() -> None:
        assert lock is not None
        with lock:
            incr_x(b)

    with Detector(mode) as d:  # type: ignore[arg-type]
        make()
        sequential_unordered(locked, locked, locked)
    assert d.races() == []


@BOTH
def test_globals_and_module_attributes_are_one_location(mode: str) -> None:
    import types

    mod = types.ModuleType("shared_mod")
    mod.total = 0  # type: ignore[attr-defined]
    via_attr = site(100, "f", text="shared_mod")
    via_global = site(101, "g")

    def through_attribute() -> None:
        rf.read(ATTR, mod, "total", via_attr)
        rf.write(ATTR, mod, "total", via_attr)

    def through_globals() -> None:
        rf.read(GLOBAL, mod.__dict__, "total", via_global)
        rf.write(GLOBAL, mod.__dict__, "total", via_global)

    expected = "lost-update" if mode == "python" else "data-race"
    assert run(mode, through_attribute, through_globals) == [(expected, "global total")]


def test_mode_is_validated() -> None:
    with pytest.raises(ValueError, match="mode must be 'python' or 'strict'"):
        Detector("go")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="history_size"):
        Detector(history_size=0)


def test_size_location_of_len_guard() -> None:
    cache: dict[int, int] = {}
    guard = site(110, "put", F_GUARD, "cache")

    def put() -> None:
        rf.read(SIZE, cache, None, guard)
        if len(cache) < 10:
            rf.setitem(cache, 1, site(111, "put", text="cache"))
            cache[1] = 1

    assert run("python", put, put) == [("check-then-act", "dict cache")]


def test_write_after_several_unordered_readers_races_with_each() -> None:
    b = Box()
    with Detector("strict") as d:
        reader = lambda: (read_x(b), read_x(b))  # noqa: E731  (a repeat in the same epoch is free)
        sequential_unordered(reader, reader, reader, lambda: write_x(b))
    races = d.races()
    assert [(r.current.op, r.previous.op) for r in races] == [("write", "read")]
    assert races[0].count == 3  # one per reader thread, all remembered (read-shared state)
    assert {r.previous.thread for r in races} <= {"T0", "T1", "T2"}
