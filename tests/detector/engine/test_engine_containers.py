"""What container operations and tracked calls record (seen through strict-mode races)."""

from __future__ import annotations

import gc
import weakref
from collections import Counter, OrderedDict, defaultdict, deque
from collections.abc import Callable
from typing import Any

import pytest
from _engine_support import sequential_unordered, site

from racefree.detector import Detector
from racefree.detector import runtime as rf
from racefree.sync import _hb


def locations(mode: str, *fns: Callable[[], Any]) -> list[str]:
    with Detector(mode) as d:  # type: ignore[arg-type]
        sequential_unordered(*fns)
    return sorted(r.location for r in d.races())


S = site(1, text="c")


@pytest.mark.parametrize(
    ("make", "mutate", "observe", "expected"),
    [
        (dict, lambda c: rf.call(c.pop, S, "k", None), lambda c: rf.call(len, S, c), "dict c"),
        (dict, lambda c: rf.call(c.update, S, {"a": 1}), lambda c: rf.call(c.items, S), "dict c"),
        (dict, lambda c: rf.setitem(c, "k", S), lambda c: rf.call(c.get, S, "k"), "dict c['k']"),
        (dict, lambda c: rf.delitem(c, "k", S), lambda c: rf.contains(c, "k", S), "dict c['k']"),
        (dict, lambda c: rf.call(c.setdefault, S, "k", 1), lambda c: rf.getitem(c, "k", S), "dict c['k']"),
        (dict, lambda c: rf.call(dict.__setitem__, S, c, "k", 1), lambda c: rf.call(dict.get, S, c, "k"),
         "dict c['k']"),
        (set, lambda c: rf.call(c.add, S, 1), lambda c: rf.contains(c, 1, S), "set c[1]"),
        (set, lambda c: rf.call(c.discard, S, 1), lambda c: rf.call(sorted, S, c), "set c"),
        (list, lambda c: rf.call(c.extend, S, [1]), lambda c: rf.contains(c, 1, S), "list c"),
        (list, lambda c: rf.call(c.sort, S), lambda c: rf.call(list, S, c), "list c"),
        (list, lambda c: rf.setitem(c, slice(0, 1), S), lambda c: rf.getitem(c, slice(0, 1), S), "list c"),
        (deque, lambda c: rf.call(c.appendleft, S, 1), lambda c: rf.call(len, S, c), "deque c"),
        (deque, lambda c: rf.call(c.popleft, S), lambda c: rf.iterate(c, S), "deque c"),
        (OrderedDict, lambda c: rf.call(c.move_to_end, S, "k"), lambda c: rf.call(c.keys, S),
         "OrderedDict c"),
        (Counter, lambda c: rf.call(c.update, S, "ab"), lambda c: rf.call(c.most_common, S), "Counter c"),
        (lambda: defaultdict(list), lambda c: rf.getitem(c, "new", S), lambda c: rf.call(len, S, c),
         "defaultdict c"),
        (list, lambda c: rf.call(c.append, S, 1), lambda c: rf.call(zip, S, c, c), "list c"),
        (list, lambda c: rf.call(c.append, S, 1), lambda c: rf.call(map, S, str, c), "list c"),
        (list, lambda c: rf.call(c.append, S, 1), lambda c: rf.call(max, S, c), "list c"),
    ],
)
def test_mutation_races_with_observation(make: Any, mutate: Any, observe: Any, expected: str) -> None:
    c = make()
    if isinstance(c, dict):
        c["k"] = 0
    elif isinstance(c, (list, deque)):
        c.extend([0, 0])
    else:
        c.add(1)
    assert expected in locations("strict", lambda: mutate(c), lambda: observe(c))


def test_untracked_calls_and_values_record_nothing() -> None:
    t = (1, 2)
    text = "ab"

    def use() -> None:
        rf.call(len, S, t)
        rf.call(text.upper, S)
        rf.call(sorted, S, t)
        rf.call(max, S, 1, 2)
        rf.call(print, S, end="")
        rf.iterate(t, S)
        rf.contains(text, "a", S)

    assert locations("strict", use, use) == []


def test_distinct_list_slots_do_not_race_but_distinct_dict_keys_do_in_strict() -> None:
    results = [0, 0]
    d: dict[int, int] = {}
    assert locations(
        "strict", lambda: rf.setitem(results, 0, site(1, text="results")),
        lambda: rf.setitem(results, 1, site(2, text="results")),
    ) == []
    # Go: a map is one variable for writers
    assert locations(
        "strict", lambda: rf.setitem(d, 0, site(1, text="d")), lambda: rf.setitem(d, 1, site(2, text="d"))
    ) == ["dict d"]
    assert locations(
        "python", lambda: rf.setitem(d, 0, site(1, text="d")), lambda: rf.setitem(d, 1, site(2, text="d"))
    ) == []


def test_internal_failure_never_reaches_the_program(monkeypatch: pytest.MonkeyPatch) -> None:
    box = {"k": 0}
    with Detector("strict") as d:
        monkeypatch.setattr(d.registry, "by_site", None)  # report() will fail
        sequential_unordered(lambda: rf.setitem(box, "k", S), lambda: rf.getitem(box, "k", S))
    assert d.internal_errors >= 1
    assert d.statistics()["internal_errors"] == d.internal_errors


def test_racefree_sync_channels_and_weak_keys() -> None:
    class Primitive:
        pass

    p = Primitive()
    box = {"k": 0}
    with Detector("strict") as d:
        listener = _hb.listener
        assert listener is d
        # a release on the "readers" channel does not order an acquire on "writers"
        sequential_unordered(
            lambda: (rf.setitem(box, "k", S), listener.release((p, "readers"))),
            lambda: (listener.acquire((p, "writers")), rf.getitem(box, "k", S)),
        )
        assert len(d.take_new_races()) == 1
        sequential_unordered(
            lambda: (rf.setitem(box, "k", site(2)), listener.release((p, "readers"))),
            lambda: (listener.acquire((p, "readers")), rf.getitem(box, "k", site(3))),
        )
        assert d.take_new_races() == []
        listener.release([1])  # unhashable keys still work
        listener.acquire([1])


def test_racefree_sync_clocks_do_not_keep_primitives_alive() -> None:
    class Primitive:
        pass

    with Detector("strict") as d:
        p = Primitive()
        assert _hb.listener is d
        _hb.listener.release((p, "channel"))
        _hb.listener.acquire_release(p)
        assert len(d._hb_weak) == 1
        ref = weakref.ref(p)
        del p
        gc.collect()
        assert ref() is None
        assert len(d._hb_weak) == 0


def test_the_detector_never_runs_the_programs_hash_or_eq() -> None:
    calls: list[str] = []

    class Key:
        def __hash__(self) -> int:
            calls.append("hash")
            return 1

        def __eq__(self, other: object) -> bool:
            calls.append("eq")
            return self is other

    k = Key()
    d: dict[Any, int] = {}
    dd: defaultdict[Any, int] = defaultdict(int)
    s: set[Any] = set()
    with Detector("strict"):
        rf.setitem(d, k, S)
        rf.delitem(d, k, S)
        rf.getitem(dd, k, S)
        rf.contains(s, k, S)
        rf.call(s.add, S, k)  # the real add hashes once
    assert calls == ["hash"]


def test_program_defined_keys_are_locations_by_identity() -> None:
    class Key:
        def __hash__(self) -> int:
            return 1

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Key)

    k = Key()
    d: dict[Any, int] = {k: 0}
    s = site(1, text="d")
    assert locations("strict", lambda: rf.setitem(d, k, s), lambda: rf.getitem(d, k, s)) == ["dict d[<Key>]"]
    # an equal but distinct key object is another location: a missed race, never an invented one
    assert locations("strict", lambda: rf.setitem(d, k, s), lambda: rf.getitem(d, Key(), s)) == []


@pytest.mark.parametrize(
    "update",
    [
        lambda c: rf.call(c.update, S, n=1),
        lambda c: rf.call(c.update, S, {"n": 1}),
        lambda c: rf.call(dict.update, S, c, {"n": 1}),
    ],
    ids=["keyword", "dict-argument", "unbound"],
)
def test_dict_update_writes_the_keys_it_stores(update: Callable[[Any], Any]) -> None:
    d: dict[str, int] = {"n": 0}
    assert locations("strict", lambda: update(d), lambda: rf.getitem(d, "n", S)) == ["dict c['n']"]


def test_dict_update_racing_a_read_modify_write_is_a_lost_update() -> None:
    d: dict[str, int] = {"n": 0}
    rmw = site(5, "bump", text="c")

    def bump() -> None:
        rf.call(d.get, rmw, "n", 0)
        rf.setitem(d, "n", rmw)

    with Detector("python") as det:
        sequential_unordered(bump, lambda: rf.call(d.update, S, n=5))
    assert [(r.kind, r.location) for r in det.races()] == [("lost-update", "dict c['n']")]
