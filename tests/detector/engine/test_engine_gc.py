"""The detector never keeps alive what the program dropped (issue 9): garbage cycles of
containers it cannot weakly reference are freed by the collection that would free them
without it, with the same counts; and a new object at a freed address starts clean."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from _engine_support import sequential_unordered, site

from racefree.detector import Detector
from racefree.detector import runtime as rf
from racefree.detector.events import SIZE


@contextmanager
def gc_paused() -> Iterator[None]:
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def self_referencing(n: int) -> None:
    """`n` self-referencing lists and dicts, each touched as instrumented code touches it."""
    s = site(1, "make", text="x")
    for _ in range(n):
        lst: list[Any] = []
        rf.call(lst.append, s, lst)
        lst.append(lst)
        d: dict[str, Any] = {}
        rf.setitem(d, "self", s)
        d["self"] = d
        rf.getitem(d, "self", s)
    del lst, d


def alive() -> int:
    return sum(
        1 for o in gc.get_objects()
        if (type(o) is list and o and o[0] is o) or (type(o) is dict and o.get("self") is o)
    )


def collected(make: Callable[[], None], generation: int = 2) -> int:
    """What one collection after `make()` frees (automatic collections paused)."""
    with gc_paused():
        gc.collect()
        make()
        return gc.collect(generation)


@pytest.mark.parametrize("mode", ["python", "strict"])
def test_self_referencing_containers_are_freed_by_a_collection(mode: str) -> None:
    with Detector(mode):  # type: ignore[arg-type]
        self_referencing(2000)
        gc.collect()
        assert alive() == 0


def test_a_collection_frees_as_much_as_without_the_detector() -> None:
    plain = collected(lambda: self_referencing(300))
    with Detector("python"):
        watched = collected(lambda: self_referencing(300))
    assert watched == plain


def test_a_young_collection_counts_the_garbage_it_would_without_the_detector() -> None:
    # prometheus_client's GC collector test: two self-referencing lists, then gc.collect(0)
    def two() -> None:
        for _ in range(2):
            a: list[Any] = []
            rf.call(a.append, site(2, text="a"), a)
            a.append(a)
            del a

    def young_collected() -> int:
        with gc_paused():
            gc.collect()
            before = gc.get_stats()[0]["collected"]
            two()
            gc.collect(0)
            return int(gc.get_stats()[0]["collected"] - before)

    plain = young_collected()
    with Detector("python"):
        watched = young_collected()
    assert watched == plain == 2


def test_a_cycle_through_a_weakly_referenceable_object_is_freed() -> None:
    class Node:
        def __init__(self) -> None:
            self.children: list[Node] = []

    with Detector("strict"), gc_paused():
        for _ in range(100):
            n = Node()
            rf.call(n.children.append, site(3, text="children"), n)
            n.children.append(n)
        del n
        gc.collect()
        assert not [o for o in gc.get_objects() if type(o) is Node]


def test_a_live_cycle_keeps_its_history() -> None:
    lst: list[Any] = []
    lst.append(lst)

    def write() -> None:
        rf.call(lst.append, site(4, "w", text="lst"), 1)

    def collect_then_read() -> None:
        gc.collect()
        rf.read(SIZE, lst, None, site(5, "r", text="lst"))

    with Detector("strict") as det:
        sequential_unordered(write, collect_then_read)
    assert [(r.kind, r.location) for r in det.races()] == [("data-race", "list lst")]


def test_a_new_list_at_a_freed_cycles_address_starts_clean() -> None:
    # The writer's cycle is freed by a collection and a new list takes its address (in the
    # same thread: the allocator reuses it there first); another thread, unordered, reading
    # the new list must not meet the dead list's write.
    box: dict[str, Any] = {}
    reused = 0
    with Detector("strict") as det:
        for _ in range(20):

            def writer() -> None:
                nonlocal reused
                lst: list[Any] = []
                rf.call(lst.append, site(6, "w", text="lst"), lst)
                lst.append(lst)
                old = id(lst)
                del lst
                gc.collect()  # frees the cycle
                made = []
                for _ in range(2000):
                    fresh: list[Any] = []
                    if id(fresh) == old:
                        reused += 1
                        box["fresh"] = fresh
                        break
                    made.append(fresh)

            def reader() -> None:
                fresh = box.pop("fresh", None)
                if fresh is not None:
                    rf.read(SIZE, fresh, None, site(7, "r", text="fresh"))

            sequential_unordered(writer, reader)
    assert det.races() == []
    assert reused, "the allocator never reused the freed list's address: the test proved nothing"


def test_the_gc_callback_goes_with_the_detector() -> None:
    before = list(gc.callbacks)
    with Detector("python"):
        assert len(gc.callbacks) == len(before) + 1
    assert gc.callbacks == before
