"""Report content: both stacks, thread names and creation sites, locations, counts, dedup."""

from __future__ import annotations

import _thread
import os
import threading
from typing import Any

from _engine_support import Box, sequential_unordered, site

from racefree.detector import Detector, Race
from racefree.detector import runtime as rf
from racefree.detector.events import ATTR, CELL, F_AUGMENTED, GLOBAL, ITEM

# captured at import: while a detector records, _thread.allocate_lock() makes a tracked lock
_raw_lock = _thread.allocate_lock

HERE = os.path.abspath(__file__)


def inner_write(b: Any) -> None:
    rf.write(ATTR, b, "x", site(11, "inner_write"))


def outer_write(b: Any) -> None:
    inner_write(b)


def inner_read(b: Any) -> None:
    rf.read(ATTR, b, "x", site(21, "inner_read"))


def outer_read(b: Any) -> None:
    inner_read(b)


def only(d: Detector) -> Race:
    races = d.races()
    assert len(races) == 1, races
    return races[0]


def test_both_accesses_have_their_own_stack_and_thread() -> None:
    b = Box()
    with Detector("strict") as d:
        rf.write(ATTR, b, "x", site(5, "main"))  # initialized by main: the threads share it
        sequential_unordered(lambda: outer_write(b), lambda: outer_read(b))
    race = only(d)
    cur, prev = race.current, race.previous
    assert (cur.op, cur.thread) == ("read", "T1")
    assert (prev.op, prev.thread) == ("write", "T0")
    # stack[0] is the access site from the site tuple; then the user's callers, innermost first
    assert [(f.function, f.line) for f in cur.stack[:1]] == [("inner_read", 21)]
    assert [f.function for f in cur.stack[1:3]] == ["outer_read", "<lambda>"]
    assert [(f.function, f.line) for f in prev.stack[:1]] == [("inner_write", 11)]
    assert [f.function for f in prev.stack[1:3]] == ["outer_write", "<lambda>"]
    assert {f.file for f in cur.stack[1:3]} == {HERE}


def test_stack_of_an_access_made_before_the_location_was_shared() -> None:
    # the first thread's accesses to a location only it has touched record no stack (that is
    # what keeps thread-private objects cheap); the report has the site, and a repeat of the
    # same race with a recorded stack completes it
    b = Box()
    with Detector("strict") as d:
        sequential_unordered(lambda: outer_write(b), lambda: outer_read(b))
        race = only(d)
        assert [f.line for f in race.previous.stack] == [11]
        sequential_unordered(lambda: outer_write(b), lambda: outer_read(b))
    race = only(d)
    assert race.count == 2
    assert [f.function for f in race.previous.stack[:3]] == ["inner_write", "outer_write", "<lambda>"]
    assert race.previous.thread != race.current.thread  # the pair is replaced as a whole


def test_detector_and_thread_machinery_frames_are_hidden() -> None:
    b = Box()
    with Detector("strict") as d:
        sequential_unordered(lambda: outer_write(b), lambda: outer_read(b))
    race = only(d)
    for access in (race.current, race.previous):
        for f in (*access.stack, *access.thread_created_at):
            assert "racefree/detector" not in f.file
            assert not f.file.endswith("threading.py")
            assert "_pytest" not in f.file and "pluggy" not in f.file  # the test runner's frames


def test_thread_creation_site() -> None:
    b = Box()
    with Detector("strict") as d:
        sequential_unordered(lambda: outer_write(b), lambda: outer_read(b))
    race = only(d)
    created = race.current.thread_created_at
    assert created and created[0].function == "sequential_unordered"
    assert created[1].function == "test_thread_creation_site"
    assert created[1].file == HERE


def test_main_thread_has_no_creation_stack() -> None:
    b = Box()
    done = _raw_lock()
    done.acquire()
    with Detector("strict") as d:

        def child() -> None:
            outer_write(b)
            done.release()

        t = threading.Thread(target=child, name="worker")
        t.start()
        done.acquire()  # raw: no edge
        outer_read(b)
        t.join()
    race = only(d)
    assert race.current.thread == "MainThread"
    assert race.current.thread_created_at == ()
    assert race.previous.thread == "worker"
    assert race.previous.thread_created_at[0].function == "test_main_thread_has_no_creation_stack"


def test_one_report_per_site_pair_with_a_count() -> None:
    b = Box()
    with Detector("strict") as d:
        sequential_unordered(*[(lambda: (outer_write(b), outer_read(b))) for _ in range(5)])
    races = d.races()
    # write/write between line 11 and itself, read/write between lines 21 and 11
    assert sorted((r.current.stack[0].line, r.previous.stack[0].line) for r in races) == [(11, 11), (11, 21)]
    assert all(r.count == 4 for r in races)


def test_distinct_site_pairs_are_distinct_races_and_take_new() -> None:
    b, c = Box(), Box()
    with Detector("strict") as d:
        sequential_unordered(lambda: outer_write(b), lambda: outer_read(b))
        first = d.take_new_races()
        sequential_unordered(lambda: outer_write(c), lambda: outer_read(c))  # same sites: same race
        assert d.take_new_races() == []
        sequential_unordered(lambda: rf.write(ATTR, c, "x", site(77, "other")), lambda: outer_read(c))
        second = d.take_new_races()
    assert len(first) == 1 and len(second) == 1
    assert second[0].previous.stack[0].line == 77
    assert d.races() == first + second
    assert first[0].count == 2


def test_location_strings() -> None:
    registry: dict[str, int] = {}
    results = [0, 0, 0, 0]
    glob: dict[str, int] = {"total": 0}

    def make_cell() -> Any:
        total = 0

        def f() -> int:
            return total

        return f.__closure__[0]  # type: ignore[index]

    cell = make_cell()

    class Counter:
        n = 0

    def writes() -> None:
        rf.setitem(registry, "cfg", site(1, text="registry"))
        rf.setitem(results, 3, site(2, text="results"))
        rf.call(results.append, site(3, text="results"), 1)
        rf.write(GLOBAL, glob, "total", site(4))
        rf.write(CELL, cell, "total", site(5))
        rf.write(ATTR, Counter, "n", site(6))
        rf.write(ATTR, Counter(), "n", site(7))

    with Detector("strict") as d:
        sequential_unordered(writes, writes)
    assert sorted(r.location for r in d.races()) == [
        "Counter.n",
        "closure total",
        "dict registry",
        "dict registry['cfg']",
        "global total",
        "list results",
        "list results[3]",
    ]


def test_negative_list_index_is_the_same_slot() -> None:
    results = [0, 0, 0]
    with Detector("strict") as d:
        sequential_unordered(
            lambda: rf.setitem(results, -1, site(1, text="results")),
            lambda: rf.getitem(results, 2, site(2, text="results")),
        )
    assert [r.location for r in d.races()] == ["list results[2]"]


def test_immutable_containers_and_unhashable_keys_are_ignored() -> None:
    t = (1, 2)
    s = "abc"
    d2: dict[Any, int] = {}
    with Detector("strict") as d:
        sequential_unordered(
            lambda: (rf.getitem(t, 0, site(1)), rf.getitem(s, 0, site(2)), rf.read(ITEM, d2, [1], site(3))),
            lambda: (rf.setitem(t, 0, site(4)), rf.delitem(s, 0, site(5)), rf.write(ITEM, d2, [1], site(6))),
        )
    assert d.races() == []


def test_report_kind_and_ops_in_python_mode() -> None:
    b = Box()
    s = site(30, "incr", F_AUGMENTED)

    def incr() -> None:
        rf.read(ATTR, b, "x", s)
        rf.write(ATTR, b, "x", s)

    with Detector("python") as d:
        sequential_unordered(incr, incr)
    race = only(d)
    assert (race.kind, race.current.op, race.previous.op) == ("lost-update", "write", "write")
    assert race.as_dict()["current"]["stack"][0] == {"file": "/src/app.py", "line": 30, "function": "incr"}


def test_renamed_thread_is_reported_under_its_current_name() -> None:
    b = Box()
    with Detector("strict") as d:

        def a() -> None:
            threading.current_thread().name = "renamed"
            outer_write(b)

        sequential_unordered(a, lambda: outer_read(b))
    assert only(d).previous.thread == "renamed"
