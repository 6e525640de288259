"""One-shot copies (issue 8): an atomic copy is a snapshot in python mode, not an iteration.

``list(d)``, ``sorted(d)``, ``d.copy()``... of an exact ``dict``, ``list`` or ``set``
run in C in one step on both builds (under the container's critical section on
3.13t: see containers.atomic_copy), so another thread's insertion cannot make them
fail or see half of it.  Every snapshot case has an iteration twin; strict mode
reports all of them (Go's verdict: the copy reads what the other thread writes).
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable
from typing import Any

import pytest
from _engine_support import sequential_unordered, site

from racefree.detector import Detector
from racefree.detector import runtime as rf
from racefree.detector.containers import atomic_copy
from racefree.detector.events import F_COPIED, F_ITERATION, SIZE

ITER = site(1, "copier", F_ITERATION, "c")  # what the rewriter gives list(c), sorted(c), c.copy()
W = site(2, "writer", 0, "c")


class PyKey:
    """A key whose ``__eq__`` is Python code (run by a copy into a new dict or set on a hash collision)."""

    def __init__(self, v: int) -> None:
        self.v = v

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PyKey) and other.v == self.v


def _insert(c: Any) -> None:
    if isinstance(c, dict):
        rf.setitem(c, PyKey(2) if any(type(k) is PyKey for k in c) else "new", W)
    elif isinstance(c, (set,)):
        rf.call(c.add, W, "new")
    else:
        rf.call(c.append, W, 1)


Case = tuple[Callable[[], Any], Callable[[Any], Any], str]
SNAPSHOTS: dict[str, Case] = {
    "list(dict)": (lambda: {"a": 1}, lambda c: rf.call(list, ITER, c), "dict c"),
    "sorted(dict)": (lambda: {"a": 1}, lambda c: rf.call(sorted, ITER, c), "dict c"),
    "dict.copy()": (lambda: {"a": 1, (1, "b"): 2}, lambda c: rf.call(c.copy, ITER), "dict c"),
    "dict(dict)": (lambda: {"a": 1}, lambda c: rf.call(dict, ITER, c), "dict c"),
    "set(dict)": (lambda: {1: 1}, lambda c: rf.call(set, ITER, c), "dict c"),
    "list(set)": (lambda: {"a"}, lambda c: rf.call(list, ITER, c), "set c"),
    "set(set)": (lambda: {"a"}, lambda c: rf.call(set, ITER, c), "set c"),
    "frozenset(set)": (lambda: {"a"}, lambda c: rf.call(frozenset, ITER, c), "set c"),
    "set.copy()": (lambda: {"a"}, lambda c: rf.call(c.copy, ITER), "set c"),
    "sorted(set, key=...)": (lambda: {"a"}, lambda c: rf.call(sorted, ITER, c, key=str), "set c"),
    "list(list)": (lambda: [0], lambda c: rf.call(list, ITER, c), "list c"),
    "tuple(list)": (lambda: [0], lambda c: rf.call(tuple, ITER, c), "list c"),
    "list.copy()": (lambda: [0], lambda c: rf.call(c.copy, ITER), "list c"),
    "sorted(list)": (lambda: [0], lambda c: rf.call(sorted, ITER, c), "list c"),
    "list[:]": (lambda: [0], lambda c: rf.read(SIZE, c, None, ITER), "list c"),  # as the rewriter records it
}
ITERATIONS: dict[str, Case] = {
    # item by item on 3.13t
    "tuple(dict)": (lambda: {"a": 1}, lambda c: rf.call(tuple, ITER, c), "dict c"),
    "tuple(set)": (lambda: {"a"}, lambda c: rf.call(tuple, ITER, c), "set c"),
    "set(list)": (lambda: [0], lambda c: rf.call(set, ITER, c), "list c"),
    "sum(dict)": (lambda: {1: 1}, lambda c: rf.call(sum, ITER, c), "dict c"),
    "max(list)": (lambda: [0], lambda c: rf.call(max, ITER, c), "list c"),
    "for over a dict": (lambda: {"a": 1}, lambda c: rf.iterate(c, ITER), "dict c"),
    "list(defaultdict)": (lambda: defaultdict(int, a=1), lambda c: rf.call(list, ITER, c), "defaultdict c"),
    "OrderedDict.copy()": (lambda: OrderedDict(a=1), lambda c: rf.call(c.copy, ITER), "OrderedDict c"),
    "list(deque)": (lambda: deque([0]), lambda c: rf.call(list, ITER, c), "deque c"),
    "deque.copy()": (lambda: deque([0]), lambda c: rf.call(c.copy, ITER), "deque c"),
    # Python __eq__ runs while the new container is built
    "dict.copy() of Python keys": (lambda: {PyKey(1): 1}, lambda c: rf.call(c.copy, ITER), "dict c"),
    "set(dict) of Python keys": (lambda: {PyKey(1): 1}, lambda c: rf.call(set, ITER, c), "dict c"),
}


def races(mode: str, case: Case) -> list[tuple[str, str]]:
    make, copy, _ = case
    c = make()
    with Detector(mode) as d:  # type: ignore[arg-type]
        sequential_unordered(lambda: copy(c), lambda: _insert(c))
    assert d.internal_errors == 0
    return sorted({(r.kind, r.location) for r in d.races()})


@pytest.mark.parametrize("name", list(SNAPSHOTS))
def test_an_atomic_copy_is_a_snapshot_in_python_mode(name: str) -> None:
    assert races("python", SNAPSHOTS[name]) == []
    assert races("strict", SNAPSHOTS[name]) == [("data-race", SNAPSHOTS[name][2])]


@pytest.mark.parametrize("name", list(ITERATIONS))
def test_a_copy_made_item_by_item_is_an_iteration(name: str) -> None:
    assert races("python", ITERATIONS[name]) == [("iteration", ITERATIONS[name][2])]
    assert races("strict", ITERATIONS[name]) == [("data-race", ITERATIONS[name][2])]


def test_the_insertion_first_then_the_snapshot_is_clean_too() -> None:
    c: dict[str, int] = {"a": 1}
    with Detector("python") as d:
        sequential_unordered(lambda: _insert(c), lambda: rf.call(list, ITER, c))
    assert d.races() == []


def test_a_snapshot_still_counts_as_the_check_of_a_check_then_act() -> None:
    guard = site(3, "copier", F_ITERATION | 1, "c")  # events.F_GUARD: `if not list(c): c[...] = ...`
    c: dict[str, int] = {}
    with Detector("python") as d:
        sequential_unordered(lambda: rf.call(list, guard, c), lambda: _insert(c))
    assert sorted((r.kind, r.location) for r in d.races()) == [("check-then-act", "dict c")]


def test_atomic_copy_answers_by_exact_type() -> None:
    assert atomic_copy(list, {"a": 1}) and atomic_copy("copy", [1]) and atomic_copy(tuple, [1])
    assert not atomic_copy(list, defaultdict(int)) and not atomic_copy(tuple, {"a": 1})
    assert not atomic_copy("copy", {PyKey(1): 1}) and atomic_copy(list, {PyKey(1): 1})
    assert not atomic_copy(set, [1]) and not atomic_copy(list, deque())


COPIED = site(4, "copier", F_ITERATION | F_COPIED, "c")  # the `.items()` of `list(c.items())`


@pytest.mark.parametrize("view", ["keys", "values", "items"])
def test_a_view_that_list_copies_at_once_is_a_snapshot(view: str) -> None:
    c: dict[str, int] = {"a": 1}
    case: Case = (lambda: c, lambda c: rf.call(getattr(c, view), COPIED), "dict c")
    assert races("python", case) == []
    assert races("strict", case) == [("data-race", "dict c")]
    # not marked (`tuple(c.items())`, `for k in c.items()`), or a dict subclass: an iteration
    plain: Case = (lambda: c, lambda c: rf.call(getattr(c, view), ITER), "dict c")
    assert races("python", plain) == [("iteration", "dict c")]
    od: Case = (lambda: OrderedDict(a=1), lambda c: rf.call(getattr(c, view), COPIED), "OrderedDict c")
    assert races("python", od) == [("iteration", "OrderedDict c")]
