"""Construct-then-publish (issue 8): a container one thread fills and then publishes with one
store is no python-mode race for a thread that iterates it later; one still mutated after
another thread reached it is.  Strict mode keeps Go's verdict either way."""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

import pytest
from _engine_support import Box, sequential_unordered, site

from racefree.detector import Detector
from racefree.detector import runtime as rf
from racefree.detector.events import ATTR, GLOBAL, ITEM

BOTH = pytest.mark.parametrize("mode", ["python", "strict"])


class Elem:
    """A weakly referenceable element."""


KEEP = [Elem() for _ in range(8)]  # alive for the whole test: weak containers keep them


def fill(c: Any, i: int, s: tuple[Any, ...]) -> None:
    """One insertion into `c` through the runtime, as instrumented code makes it."""
    if isinstance(c, (list, deque)):
        rf.call(c.append, s, i)
    elif isinstance(c, (set, weakref.WeakSet)):
        rf.call(c.add, s, KEEP[i])
    elif isinstance(c, weakref.WeakValueDictionary):
        rf.setitem(c, f"k{i}", s)
        c[f"k{i}"] = KEEP[i]
    else:
        rf.setitem(c, f"k{i}", s)
        c[f"k{i}"] = i


FACTORIES: dict[str, Callable[[], Any]] = {
    "list": list, "dict": dict, "set": set, "deque": deque,
    "WeakSet": weakref.WeakSet, "WeakValueDictionary": weakref.WeakValueDictionary,
}
STORES = ("attribute", "global", "dict item", "weak-dictionary entry")
G: dict[str, Any] = {}  # a module namespace for the global store
W = site(10, "build", text="c")
IT = site(20, "scan", text="c")


def publish(store: str, holder: Any, c: Any) -> None:
    if store == "attribute":
        rf.write(ATTR, holder["box"], "x", site(11, "build"))
        holder["box"].x = c
    elif store == "global":
        rf.write(GLOBAL, G, "published", site(11, "build"))
        G["published"] = c
    elif store == "dict item":
        rf.setitem(holder["d"], "c", site(11, "build", text="registry"))
        holder["d"]["c"] = c
    else:
        rf.setitem(holder["w"], "c", site(11, "build", text="cache"))
        holder["w"]["c"] = c


def fetch(store: str, holder: Any) -> Any:
    if store == "attribute":
        rf.read(ATTR, holder["box"], "x", site(21, "scan"))
        return holder["box"].x
    if store == "global":
        rf.read(GLOBAL, G, "published", site(21, "scan"))
        return G["published"]
    key = "d" if store == "dict item" else "w"
    rf.getitem(holder[key], "c", site(21, "scan", text="registry"))
    return holder[key]["c"]


class Wrapper(list):  # type: ignore[type-arg]
    """A list that a WeakValueDictionary can hold."""


def run(mode: str, kind: str, store: str, mutate_after: bool) -> list[tuple[str, str]]:
    holder: dict[str, Any] = {}
    with Detector(mode) as det:  # type: ignore[arg-type]
        holder.update(box=Box(), d={}, w=weakref.WeakValueDictionary())
        made: list[Any] = []

        def build() -> None:
            c = FACTORIES[kind]()
            for i in range(4):
                fill(c, i, W)
            made.append(c)
            # a WeakValueDictionary entry needs a weakly referenceable value: publish a wrapper
            made.append(Wrapper([c]))
            publish(store, holder, made[-1] if store == "weak-dictionary entry" else c)

        def scan() -> None:
            got = fetch(store, holder)
            c = got[0] if store == "weak-dictionary entry" else got
            for _ in rf.iterate(c, IT):
                pass

        def more() -> None:
            fill(made[0], 4, site(12, "build", text="c"))

        sequential_unordered(build, scan, *([more] if mutate_after else []))
    return sorted({(r.kind, r.location) for r in det.races() if r.location.endswith(" c")})


@pytest.mark.parametrize("kind", sorted(FACTORIES))
@pytest.mark.parametrize("store", STORES)
def test_a_container_filled_then_published_is_no_python_race(kind: str, store: str) -> None:
    assert run("python", kind, store, mutate_after=False) == []
    assert run("strict", kind, store, mutate_after=False) == [("data-race", f"{kind} c")]


@pytest.mark.parametrize("kind", sorted(FACTORIES))
@pytest.mark.parametrize("store", STORES)
def test_a_container_still_mutated_after_publication_is_an_iteration_race(kind: str, store: str) -> None:
    assert run("python", kind, store, mutate_after=True) == [("iteration", f"{kind} c")]
    assert run("strict", kind, store, mutate_after=True) == [("data-race", f"{kind} c")]


def test_writes_at_the_same_epoch_after_a_foreign_iteration_are_still_seen() -> None:
    # the filler never synchronizes: its writes before and after the other thread's
    # iteration share one epoch (the fast path must not swallow the later ones)
    items: list[int] = []
    gate = [0]

    def fill_all() -> None:
        for i in range(50):
            rf.call(items.append, W, i)
            if i == 20:
                gate[0] = 1
                deadline = time.monotonic() + 30
                while gate[0] != 2 and time.monotonic() < deadline:  # no happens-before: a plain spin
                    pass

    def scan() -> None:
        deadline = time.monotonic() + 30
        while gate[0] != 1 and time.monotonic() < deadline:
            pass
        for _ in rf.iterate(items, IT):
            pass
        gate[0] = 2

    with Detector("python") as det:
        threads = [threading.Thread(target=f) for f in (fill_all, scan)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert [(r.kind, r.location) for r in det.races()] == [("iteration", "list c")]


def test_a_size_read_first_then_a_mutation_then_an_iteration_is_reported() -> None:
    items: list[int] = []

    def build() -> None:
        for i in range(3):
            rf.call(items.append, W, i)

    with Detector("python") as det:
        sequential_unordered(
            build,
            lambda: rf.call(len, site(30, "peek", text="c"), items),  # reached: published from here on
            lambda: rf.call(items.append, W, 9),
            lambda: rf.iterate(items, IT),
        )
    assert [(r.kind, r.location) for r in det.races()] == [("iteration", "list c")]


@BOTH
def test_item_races_are_unchanged_by_publication(mode: str) -> None:
    # only the key set's pre-publication writes are forgiven: d['k'] += 1 from two threads
    d: dict[str, int] = {}
    rmw = site(40, "bump", text="d")

    def bump() -> None:
        rf.read(ITEM, d, "k", rmw)
        rf.setitem(d, "k", rmw)
        d["k"] = d.get("k", 0) + 1

    with Detector(mode) as det:  # type: ignore[arg-type]
        sequential_unordered(bump, bump)
    want = "lost-update" if mode == "python" else "data-race"
    assert want in {r.kind for r in det.races() if r.location == "dict d['k']"}
