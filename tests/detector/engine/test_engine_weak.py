"""Weak and library containers (issue 8): ``WeakSet``, ``WeakKeyDictionary``,
``WeakValueDictionary`` and the other standard-library containers written in Python are
recorded at their public methods, as dict, list, set and deque are; and the detector never
keeps their elements alive."""

from __future__ import annotations

import gc
import threading
import weakref
from collections import ChainMap, UserDict, UserList
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

import pytest
from _engine_support import sequential_unordered, site

from racefree.detector import Detector, containers
from racefree.detector import runtime as rf
from racefree.detector.events import F_AUGMENTED, F_GUARD

BOTH = pytest.mark.parametrize("mode", ["python", "strict"])


class Elem:
    """A weakly referenceable element or key."""


def races(mode: str, *fns: Callable[[], Any]) -> set[tuple[str, str]]:
    with Detector(mode) as det:  # type: ignore[arg-type]
        sequential_unordered(*fns)
    assert det.internal_errors == 0
    return {(r.kind, r.location) for r in det.races()}


def built(mode: str, make: Callable[[], tuple[Callable[[], None], ...]]) -> set[tuple[str, str]]:
    """races() of the program `make` builds inside the detector (its locks are tracked)."""
    with Detector(mode) as det:  # type: ignore[arg-type]
        sequential_unordered(*make())
    assert det.internal_errors == 0
    return {(r.kind, r.location) for r in det.races()}


KEEP = [Elem() for _ in range(6)]


def weakset_program(locked: bool) -> tuple[Callable[[], None], ...]:
    instances: weakref.WeakSet[Elem] = weakref.WeakSet()
    lock = threading.Lock()
    add_site, scan_site = site(1, "register", text="_instances"), site(2, "scan", text="_instances")

    def register(i: int) -> Callable[[], None]:
        def go() -> None:
            if locked:
                with lock:
                    rf.call(instances.add, add_site, KEEP[i])
            else:
                rf.call(instances.add, add_site, KEEP[i])
        return go

    def scan() -> None:
        if locked:
            with lock:
                for _ in rf.iterate(instances, scan_site):
                    pass
        else:
            for _ in rf.iterate(instances, scan_site):
                pass

    return register(0), scan, register(1)


@BOTH
def test_a_weakset_iterated_while_another_thread_adds_is_a_race(mode: str) -> None:
    want = "iteration" if mode == "python" else "data-race"
    assert (want, "WeakSet _instances") in built(mode, lambda: weakset_program(locked=False))


@BOTH
def test_a_weakset_under_a_lock_is_no_race(mode: str) -> None:
    assert built(mode, lambda: weakset_program(locked=True)) == set()


def lazy_cache_program(locked: bool) -> tuple[Callable[[], None], ...]:
    cache: weakref.WeakValueDictionary[str, Elem] = weakref.WeakValueDictionary()
    lock = threading.Lock()

    def get_or_make(i: int) -> Callable[[], None]:
        def body() -> None:
            rf.call(cache.get, site(10, "get", F_GUARD, "cache"), "k")
            if cache.get("k") is None:
                rf.setitem(cache, "k", site(11, "get", text="cache"))
                cache["k"] = KEEP[i]

        def go() -> None:
            if locked:
                with lock:
                    body()
            else:
                body()
        return go

    return get_or_make(2), get_or_make(3)


@BOTH
def test_a_weak_value_cache_check_then_act(mode: str) -> None:
    want = "check-then-act" if mode == "python" else "data-race"
    assert (want, "WeakValueDictionary cache['k']") in built(mode, lambda: lazy_cache_program(locked=False))


@BOTH
def test_a_weak_value_cache_under_a_lock_is_no_race(mode: str) -> None:
    assert built(mode, lambda: lazy_cache_program(locked=True)) == set()


@BOTH
def test_a_weak_key_dictionary_read_modify_write(mode: str) -> None:
    counts: weakref.WeakKeyDictionary[Elem, int] = weakref.WeakKeyDictionary()
    key = KEEP[4]
    s = site(20, "bump", F_AUGMENTED, "counts")

    def bump() -> None:
        rf.call(counts.get, s, key, 0)
        rf.setitem(counts, key, s)
        counts[key] = counts.get(key, 0) + 1

    want = "lost-update" if mode == "python" else "data-race"
    assert (want, "WeakKeyDictionary counts[<Elem>]") in races(mode, bump, bump)


@BOTH
def test_library_containers_in_python_are_tracked_too(mode: str) -> None:
    # the same mechanism, not a list of names: UserDict, UserList, ChainMap
    for make, text in ((UserDict, "UserDict"), (UserList, "UserList"), (ChainMap, "ChainMap")):
        c = make()
        s = site(30, "f", text="c")

        def grow(c: Any = c, s: tuple[Any, ...] = s) -> None:
            if isinstance(c, UserList):
                rf.call(c.append, s, 1)
            else:
                rf.setitem(c, len(c), s)
                c[len(c)] = 1

        def scan(c: Any = c) -> None:
            for _ in rf.iterate(c, site(31, "g", text="c")):
                pass

        want = "iteration" if mode == "python" else "data-race"
        assert (want, f"{text} c") in races(mode, grow, scan, grow), text


class MyWeakSet(weakref.WeakSet):  # type: ignore[type-arg]
    def add(self, item: Any) -> None:  # the program's own code: instrumented, recorded inside
        super().add(item)


class MyMapping(MutableMapping):  # type: ignore[type-arg]
    """A user-written mapping: its methods are the program's code (instrumented)."""

    def __init__(self) -> None:
        self.d: dict[Any, Any] = {}

    def __getitem__(self, k: Any) -> Any:
        return self.d[k]

    def __setitem__(self, k: Any, v: Any) -> None:
        self.d[k] = v

    def __delitem__(self, k: Any) -> None:
        del self.d[k]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.d)

    def __len__(self) -> int:
        return len(self.d)


def test_only_the_standard_librarys_own_methods_are_recorded_at_the_call() -> None:
    assert containers._lookup(weakref.WeakSet, "add") == "ins"
    assert containers._lookup(MyWeakSet, "add") is None  # overridden: recorded inside the override
    assert containers._lookup(MyWeakSet, "discard") == "del"  # inherited
    assert containers._lookup(weakref.WeakValueDictionary, "itervaluerefs") == "it"
    assert not containers._tracked(MyMapping)  # user code, even though a MutableMapping
    assert not containers._tracked(Elem)


@pytest.mark.parametrize("mode", ["python", "strict"])
def test_the_detector_keeps_no_weak_container_element_alive(mode: str) -> None:
    instances: weakref.WeakSet[Elem] = weakref.WeakSet()
    keyed: weakref.WeakKeyDictionary[Elem, int] = weakref.WeakKeyDictionary()
    with Detector(mode):  # type: ignore[arg-type]
        for _ in range(50):
            e = Elem()
            rf.call(instances.add, site(40, text="instances"), e)
            instances.add(e)
            rf.setitem(keyed, e, site(41, text="keyed"))
            keyed[e] = 1
            rf.contains(instances, e, site(42, text="instances"))
            rf.getitem(keyed, e, site(43, text="keyed"))
            del e
        gc.collect()
        assert len(instances) == 0
        assert len(keyed) == 0


def test_a_dict_does_not_keep_a_deleted_object_key_alive() -> None:
    d: dict[Elem, int] = {}
    with Detector("strict"):
        k = Elem()
        rf.setitem(d, k, site(50, text="d"))
        d[k] = 1
        rf.getitem(d, k, site(51, text="d"))
        rf.delitem(d, k, site(52, text="d"))
        del d[k]
        ref = weakref.ref(k)
        del k
        assert ref() is None
