"""The fast-path backends: which one records, and what the C one does on its own (it must agree with
the Python reference, which every other engine test checks too: see conftest.py)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from _engine_support import Box, sequential_unordered, site

from racefree.detector import Detector, speedups
from racefree.detector import runtime as rf
from racefree.detector.events import ATTR, ITEM, SIZE

S = site(1, text="c")


def cell_keys(det: Detector) -> set[tuple[Any, ...]]:
    return set(det.shadow.cells)


def test_the_chosen_backend_records(detector_backend: str) -> None:
    with Detector() as d:
        rf.write(ATTR, Box(), "x", S)
    assert d.backend == detector_backend
    assert d.statistics()["backend"] == detector_backend
    assert d.backend_why


def test_the_chosen_backend_gives_every_c_piece_or_none(detector_backend: str) -> None:
    """One chooser: on the python backend nothing of the C extension runs, clocks' join included."""
    from racefree.detector import clocks

    d = Detector()
    with d:
        join = clocks.join_into
        lock_acquired = d.lock_acquired
    assert clocks.join_into is clocks.python_join_into  # the reference again after stop
    if detector_backend == "python":
        assert join is clocks.python_join_into
        assert getattr(lock_acquired, "__func__", None) is Detector.lock_acquired
    else:
        assert join is speedups._load()[0].join_into
        assert getattr(lock_acquired, "__func__", None) is not Detector.lock_acquired  # the C LockHooks


def test_unknown_backend_is_a_value_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(speedups.ENV, "fortran")
    with pytest.raises(speedups.BackendError, match=r"RACEFREE_DETECTOR_BACKEND='fortran': expected one of"):
        Detector()


def test_auto_falls_back_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speedups, "_load", lambda: (None, "the C extension is not built (no module)"))
    monkeypatch.setenv(speedups.ENV, "auto")
    assert speedups.choose() == ("python", "the C extension is not built (no module)")
    monkeypatch.setenv(speedups.ENV, "c")
    with pytest.raises(speedups.BackendError, match="=c, but the C extension is not built"):
        speedups.choose()


def test_tuples_and_strings_are_never_recorded() -> None:
    t, s = (1, 2), "ab"
    with Detector("strict") as d:
        rf.getitem(t, 0, S)
        rf.getitem(s, 1, S)
    assert not any(k[0] in (id(t), id(s)) for k in cell_keys(d))


def test_dict_store_records_the_item_and_an_insertion_the_key_set() -> None:
    c: dict[str, int] = {"old": 1}
    with Detector("strict") as d:
        rf.setitem(c, "old", S)
        rf.setitem(c, "new", S)
    keys = cell_keys(d)
    assert {(id(c), "old"), (id(c), "new"), (id(c),)} <= keys


def test_existing_key_store_does_not_write_the_key_set() -> None:
    c = {"k": 1}

    def store() -> None:
        rf.setitem(c, "k", S)
        c["k"] = 2

    def length() -> None:
        rf.call(len, S, c)

    with Detector("strict") as d:
        sequential_unordered(store, length)
    assert d.races() == []


def test_unhashable_key_is_not_a_location() -> None:
    with Detector("strict") as d:
        rf.read(ITEM, {}, [1], S)
        rf.write(ITEM, {}, [1], S)
    assert d.internal_errors == 0
    assert len(d.shadow) == 0


def test_call_forwards_positional_and_keyword_arguments() -> None:
    items = [3, 1, 2]
    with Detector():
        assert rf.call(sorted, S, items, key=lambda v: -v, reverse=True) == [1, 2, 3]
        assert rf.call({"a": 1}.get, S, "b", 7) == 7
        out: list[int] = []
        assert rf.call(out.append, S, 5) is None
    assert out == [5]


def test_call_errors_propagate_unchanged() -> None:
    with Detector(), pytest.raises(TypeError):
        rf.call({}.get, S)


def test_append_writes_the_list_size_and_get_reads_the_item() -> None:
    lst: list[int] = []
    d1 = {"k": 1}
    with Detector("strict") as d:
        rf.call(lst.append, S, 1)
        rf.call(d1.get, S, "k")
    assert {(id(lst),), (id(d1), "k")} <= cell_keys(d)


def test_a_race_through_the_fast_path_is_reported_like_the_reference() -> None:
    c: dict[str, int] = {}

    def bump() -> None:
        rf.call(c.get, S, "k", 0)
        rf.setitem(c, "k", site(2, text="c"))
        c["k"] = c.get("k", 0) + 1

    with Detector("python") as d:
        sequential_unordered(bump, bump)
    assert [(r.kind, r.location) for r in d.races()] == [("lost-update", "dict c['k']")]


def test_read_and_write_take_four_arguments(detector_backend: str) -> None:
    with Detector():
        with pytest.raises(TypeError):
            rf.read(ATTR, Box(), "x")  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            rf.write(SIZE, [], None, S, 1)  # type: ignore[call-arg]


@pytest.mark.skipif(os.environ.get("RACEFREE_EXPECT_SPEEDUPS") != "1", reason="no C compiler at install time")
def test_the_c_fast_path_was_built_when_a_compiler_was_there() -> None:
    module, why = speedups._load()
    assert module is not None, why


def test_a_thread_given_a_new_state_records_with_it() -> None:
    box = Box()
    with Detector("strict") as d:
        first = d.thread_state()
        rf.write(ATTR, box, "x", S)
        second = d._new_thread_state([], "renamed", None, ())
        rf.write(ATTR, box, "x", site(2))
    cell = d.shadow.cells[(id(box), "x")]
    assert first is not second
    assert cell.wi[0] is second


class BadHash:
    def __hash__(self) -> int:
        raise ValueError("no hash today")


def test_a_failing_key_hash_is_counted_never_raised() -> None:
    # keys reach the recorders sanitized (containers.py wraps unsafe ones), so this is a detector
    # failure: counted, and the program goes on
    with Detector("strict") as d:
        rf.read(ITEM, {}, BadHash(), S)
        rf.write(ITEM, {}, BadHash(), S)
    assert d.internal_errors == 2


class _Plain:
    def __init__(self) -> None:
        self.seen: list[tuple[Any, ...]] = []

    def method(self, *args: Any, **kwargs: Any) -> str:
        self.seen.append((args, kwargs))
        return "ok"


class _Store(dict):  # type: ignore[type-arg]
    def put(self, key: str, value: int) -> None:
        self[key] = value


def test_call_of_a_method_of_a_plain_class_is_the_plain_call() -> None:
    p = _Plain()
    with Detector() as d:
        for _ in range(2):  # the second call answers from the C table of untracked types
            assert rf.call(p.method, S, 1, k=2) == "ok"
        with pytest.raises(TypeError):  # the call's own error, unchanged
            rf.call(_Plain().method.__func__, S)
    assert p.seen == [((1,), {"k": 2})] * 2
    assert d.shadow is not None and not any(k[0] == id(p) for k in cell_keys(d))


def test_call_of_a_container_subclass_method_still_records() -> None:
    s = _Store()
    with Detector("strict") as d:
        rf.call(s.put, S, "k", 1)  # a bound method of a tracked type: the Python handler decides
        rf.call(s.put, S, "k", 2)
    assert s == {"k": 2}
    assert d.internal_errors == 0


def test_a_method_call_race_is_the_same_on_both_backends() -> None:
    s = _Store()

    def update() -> None:
        rf.call(s.update, S, {"k": 1})  # a tracked container's method: a write of s['k']

    with Detector("strict") as d:
        sequential_unordered(update, update)
    assert sorted((r.kind, r.location) for r in d.races()) == [("data-race", "_Store c"),
                                                                ("data-race", "_Store c['k']")]


def test_the_c_call_asks_once_per_type_whether_it_is_a_container(
    monkeypatch: pytest.MonkeyPatch, detector_backend: str
) -> None:
    from racefree.detector import containers

    asked: list[type] = []
    real = containers._tracked

    def counting(tp: type) -> bool:
        asked.append(tp)
        return real(tp)

    monkeypatch.setattr(containers, "_tracked", counting)
    p = _Plain()
    with Detector():
        for _ in range(3):
            rf.call(p.method, S)
    # C: the answer is kept per type; the Python reference asks at each call
    assert asked.count(_Plain) == (1 if detector_backend == "c" else 3)
