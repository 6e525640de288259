"""Reports that explain themselves (issue 9): grouped keys, the lost update's read, partial stacks, names."""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

from _engine_support import Box, sequential_unordered, site

from racefree.detector import Detector, Race, format_race, stacks
from racefree.detector import runtime as rf
from racefree.detector.events import ATTR, F_AUGMENTED, F_GUARD, ITEM, SIZE
from racefree.detector.findings import KEY_SAMPLE

CHECK = site(7, "work", F_GUARD, text="seen")
ADD = site(8, "work", text="seen")


def check_then_add(seen: set[int], keys: range, lock: Any = None) -> None:
    """``for i in keys: if i not in seen: seen.add(i)`` as the rewriter records it."""
    for i in keys:
        if lock is not None:
            lock.acquire()
        rf.contains(seen, i, CHECK)
        if i not in seen:
            rf.call(seen.add, ADD, i)
        if lock is not None:
            lock.release()


def only(d: Detector) -> Race:
    races = d.races()
    assert len(races) == 1, [(r.kind, r.location) for r in races]
    return races[0]


# -- one race per (kind, container, pair of code sites) ---------------------------------------------


def test_two_hundred_keys_between_two_sites_are_one_race() -> None:
    with Detector("python") as d:
        seen: set[int] = set()
        keys = range(200)
        sequential_unordered(lambda: check_then_add(seen, keys), lambda: check_then_add(seen, keys))
    race = only(d)
    assert (race.kind, race.location, race.container) == ("check-then-act", "set seen[*]", "set seen")
    assert race.keys == 200
    assert race.key_sample == tuple(str(i) for i in range(KEY_SAMPLE))
    assert race.count == 200
    text = format_race(race)
    assert "On 200 keys of set seen: 0, 1, 2, 3, 4, ...\n" in text
    assert text.count("WARNING: DATA RACE") == 1
    doc = race.as_dict()
    assert (doc["location"], doc["keys"]) == ("set seen[*]", 200)
    assert doc["key_sample"] == ["0", "1", "2", "3", "4"]


def test_the_same_keys_under_a_lock_are_no_race() -> None:
    with Detector("python") as d:
        seen: set[int] = set()
        lock = threading.Lock()
        sequential_unordered(lambda: check_then_add(seen, range(200), lock),
                             lambda: check_then_add(seen, range(200), lock))
    assert d.races() == []


def test_a_race_on_one_key_keeps_its_location() -> None:
    with Detector("python") as d:
        seen: set[int] = set()
        one = range(7, 8)
        sequential_unordered(lambda: check_then_add(seen, one), lambda: check_then_add(seen, one))
    race = only(d)
    assert (race.location, race.keys, race.key_sample) == ("set seen[7]", 1, ("7",))
    assert "keys of" not in format_race(race)


def test_other_sites_or_the_container_size_are_other_races() -> None:
    other_add = site(9, "work", text="seen")

    def adds(s: tuple[Any, ...], d: dict[int, int], keys: tuple[int, ...] = (0, 1, 2)) -> None:
        for i in keys:
            rf.setitem(d, i, s)
            d[i] = i

    with Detector("strict") as det:
        d: dict[int, int] = {}
        sequential_unordered(lambda: adds(ADD, d), lambda: adds(other_add, d, (0, 1, 2, 9)))
    # per kind of location: the keys (one group), the key set (dict d, not a key)
    found = sorted((r.location, r.keys) for r in det.races())
    assert found == [("dict seen", 1), ("dict seen[*]", 3)], found


# -- a lost update shows its read --------------------------------------------------------------------

RMW = site(30, "incr", F_AUGMENTED)


def incr(box: Any) -> None:
    rf.read(ATTR, box, "x", RMW)
    v = box.x
    rf.write(ATTR, box, "x", RMW)
    box.x = v + 1


def test_a_lost_update_reports_the_read_the_write_came_from() -> None:
    b = Box()
    with Detector("python") as d:
        rf.write(ATTR, b, "x", site(5, "main"))
        sequential_unordered(lambda: incr(b), lambda: incr(b))
    race = only(d)
    assert race.kind == "lost-update" and race.read is not None
    read, other, write = race.sides() or ()
    assert (read.op, read.thread, read.stack[0].line) == ("read", "T1", 30)
    assert (other.op, other.thread) == ("write", "T0")
    assert (write.op, write.thread) == ("write", "T1")
    text = format_race(race)
    assert text.index("Read at Box.x by thread T1:") < text.index(
        "Write at Box.x by thread T0, not ordered with that read:") < text.index(
        "Write at Box.x by thread T1, of a value computed from its read "
        "(it can overwrite the write of thread T0):")
    doc = race.as_dict()
    assert doc["read"]["op"] == "read" and doc["read_by"] == "current"


def test_a_blind_write_against_a_read_modify_write_shows_that_thread_s_read() -> None:
    b = Box()
    blind = site(40, "reset")
    with Detector("python") as d:
        rf.write(ATTR, b, "x", site(5, "main"))
        sequential_unordered(lambda: incr(b), lambda: rf.write(ATTR, b, "x", blind))
    race = only(d)
    assert race.kind == "lost-update" and race.read_of == "previous"
    read, other, write = race.sides() or ()
    assert (read.thread, other.thread, write.thread) == ("T0", "T1", "T0")
    assert other.stack[0].line == 40 and write.stack[0].line == 30


def _loop(box: Any, write_line: int, read_line: int, times: int = 3) -> None:
    """One function: writes ``box.x = 0`` on one line and reads ``box.x`` on another, in a loop."""
    for _ in range(times):
        if read_line < write_line:
            rf.read(ATTR, box, "x", site(read_line, "loop"))
        rf.write(ATTR, box, "x", site(write_line, "loop"))
        if read_line > write_line:
            rf.read(ATTR, box, "x", site(read_line, "loop"))


def test_a_store_after_a_read_of_an_earlier_iteration_is_not_a_lost_update() -> None:
    b = Box()
    with Detector("python") as d:
        rf.write(ATTR, b, "x", site(5, "main"))
        sequential_unordered(lambda: _loop(b, 10, 20), lambda: _loop(b, 10, 20))
    assert d.races() == []


def test_a_read_on_an_earlier_line_of_the_function_feeds_the_write() -> None:
    b = Box()
    with Detector("python") as d:
        rf.write(ATTR, b, "x", site(5, "main"))
        sequential_unordered(lambda: _loop(b, 20, 10), lambda: _loop(b, 20, 10))
    assert [r.kind for r in d.races()] == ["lost-update"]


def test_a_read_on_a_later_line_of_the_same_statement_feeds_the_write(tmp_path: Path) -> None:
    src = tmp_path / "multi.py"
    src.write_text("def f(b):\n    b.x = (\n        b.x + 1\n    )\n    if b.x:\n        pass\n")
    w = (str(src), 2, "f", 0, "b")
    r_same, r_later = (str(src), 3, "f", 0, "b"), (str(src), 5, "f", 0, "b")

    def rmw(box: Any, read_site: tuple[Any, ...]) -> None:
        for _ in range(2):
            rf.read(ATTR, box, "x", read_site)
            rf.write(ATTR, box, "x", w)

    def loop(box: Any) -> None:
        for _ in range(2):
            rf.write(ATTR, box, "x", w)
            rf.read(ATTR, box, "x", r_later)

    b, c = Box(), Box()
    with Detector("python") as d:
        rf.write(ATTR, b, "x", site(5, "main"))
        rf.write(ATTR, c, "x", site(5, "main"))
        sequential_unordered(lambda: rmw(b, r_same), lambda: rmw(b, r_same))
        sequential_unordered(lambda: loop(c), lambda: loop(c))
    assert [(r.kind, r.read is not None and r.read.stack[0].line) for r in d.races()] == [("lost-update", 3)]


# -- partial stacks ----------------------------------------------------------------------------------


def _deep(n: int, fn: Any) -> None:
    if n == 0:
        fn()
    else:
        _deep(n - 1, fn)


def test_a_stack_recorded_before_the_location_was_shared_is_marked_partial() -> None:
    b = Box()
    with Detector("strict") as d:
        sequential_unordered(lambda: rf.write(ATTR, b, "x", site(11, "w")),
                             lambda: rf.read(ATTR, b, "x", site(21)))
    race = only(d)
    assert race.previous.partial == stacks.PARTIAL_NOT_RECORDED and race.current.partial is None
    assert race.as_dict()["previous"]["stack_partial"] == stacks.PARTIAL_NOT_RECORDED
    text = format_race(race)
    assert f"  w() /src/app.py:11\n  [partial stack: {stacks.PARTIAL_NOT_RECORDED}]\n" in text
    assert text.count("[partial stack:") == 1


def test_a_stack_cut_at_the_depth_limit_is_marked_partial_and_a_shallow_one_is_not() -> None:
    b = Box()
    with Detector("strict") as d:
        rf.write(ATTR, b, "x", site(5, "main"))
        deep = stacks.MAX_DEPTH + 5
        sequential_unordered(lambda: _deep(deep, lambda: rf.write(ATTR, b, "x", site(11, "w"))),
                             lambda: _deep(2, lambda: rf.read(ATTR, b, "x", site(21, "r"))))
    race = only(d)
    assert race.previous.partial == stacks.PARTIAL_DEPTH
    assert race.current.partial is None
    assert f"[partial stack: {stacks.PARTIAL_DEPTH}]" in format_race(race)


# -- one naming rule ---------------------------------------------------------------------------------


class ReaderWriterLock:
    def __init__(self) -> None:
        self._pending_writers: deque[int] = deque()
        self._instances: defaultdict[str, int] = defaultdict(int)
        self._writer: object = None

    def touch(self) -> None:
        rf.write(SIZE, self._pending_writers, None, site(50, "touch", text="self._pending_writers"))
        rf.write(ITEM, self._instances, "x", site(51, "touch", text="self._instances"))
        rf.write(ATTR, self, "_writer", site(52, "touch", text="self"))


def test_an_object_has_one_name_its_class_then_the_attribute() -> None:
    lk = ReaderWriterLock()
    with Detector("strict") as d:
        sequential_unordered(lk.touch, lk.touch)
    assert sorted(r.location for r in d.races()) == [
        "ReaderWriterLock._writer",
        "defaultdict ReaderWriterLock._instances['x']",
        "deque ReaderWriterLock._pending_writers",
    ]


def test_a_variable_keeps_its_name_and_a_module_attribute_its_expression() -> None:
    registry: dict[str, int] = {}

    def touch() -> None:
        rf.write(ITEM, registry, "cfg", site(60, "touch", text="registry"))
        rf.write(SIZE, registry, None, site(61, "touch", text="threading.registry"))

    with Detector("strict") as d:
        sequential_unordered(touch, touch)
    assert sorted(r.location for r in d.races()) == ["dict registry['cfg']", "dict threading.registry"]
