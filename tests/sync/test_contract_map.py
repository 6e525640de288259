"""ConcurrentMap's contract against a dict (the sequential oracle) and under threads.

Every test runs with no detector and with one attached (``hb_mode``), so both
code paths of every method are held to the same contract.
"""

from __future__ import annotations

import threading
from collections.abc import MutableMapping

import pytest
from sync_helpers import run_threads

from racefree.sync import ConcurrentMap, ConcurrentMapStatistics, ReentrantCallError

pytestmark = pytest.mark.usefixtures("hb_mode")


def test_initial_state() -> None:
    assert len(ConcurrentMap()) == 0
    assert dict(ConcurrentMap({"a": 1})) == {"a": 1}
    assert dict(ConcurrentMap([("a", 1), ("b", 2)])) == {"a": 1, "b": 2}
    assert isinstance(ConcurrentMap(), MutableMapping)


def test_single_key_operations_behave_like_a_dict() -> None:
    m: ConcurrentMap[str, int] = ConcurrentMap()
    d: dict[str, int] = {}
    for target in (m, d):
        target["a"] = 1
        target["b"] = 2
        target["a"] = 3
        del target["b"]
    assert dict(m) == d == {"a": 3}
    assert m["a"] == 3
    assert m.get("a") == 3 and m.get("zz") is None and m.get("zz", 7) == 7
    assert "a" in m and "zz" not in m
    assert len(m) == 1
    with pytest.raises(KeyError):
        m["zz"]
    with pytest.raises(KeyError):
        del m["zz"]
    assert m == {"a": 3}  # Mapping equality


def test_compute_read_modify_writes_one_key() -> None:
    m = ConcurrentMap({"n": 1})
    assert m.compute("n", lambda v: v + 10) == 11
    assert m["n"] == 11
    assert m.compute("new", lambda v: v + 1, default=100) == 101
    assert m["new"] == 101


def test_compute_of_an_absent_key_without_default_raises_and_does_not_call_fn() -> None:
    m: ConcurrentMap[str, int] = ConcurrentMap()
    calls: list[int] = []
    with pytest.raises(KeyError):
        m.compute("n", lambda v: calls.append(v) or v)
    assert calls == [] and "n" not in m


def test_compute_leaves_the_map_unchanged_when_fn_raises() -> None:
    m = ConcurrentMap({"n": 1})

    def boom(v: int) -> int:
        raise ValueError("no")

    with pytest.raises(ValueError):
        m.compute("n", boom)
    assert m.snapshot() == {"n": 1}
    m["n"] = 2  # and the lock was released
    assert m["n"] == 2


def test_compute_callback_touching_the_map_raises_instead_of_deadlocking() -> None:
    m = ConcurrentMap({"n": 1})
    with pytest.raises(ReentrantCallError) as info:
        m.compute("n", lambda v: m.compute("x", lambda w: w, default=0))
    assert str(info.value) == (
        "ConcurrentMap.compute() called from inside a compute() callback on the same map; "
        "the callback must not touch the map"
    )
    with pytest.raises(ReentrantCallError, match=r"ConcurrentMap\.__setitem__\(\) called from inside"):
        m.compute("n", lambda v: m.__setitem__("x", v))
    with pytest.raises(ReentrantCallError, match=r"ConcurrentMap\.snapshot\(\) called from inside"):
        m.compute("n", lambda v: len(list(m)))
    assert m.snapshot() == {"n": 1}
    # reads from the callback are fine: they take no lock
    assert m.compute("n", lambda v: v + m["n"]) == 2


def test_setdefault_pop_popitem_clear_update() -> None:
    m: ConcurrentMap[str, int] = ConcurrentMap()
    assert m.setdefault("a", 1) == 1
    assert m.setdefault("a", 2) == 1
    assert m.pop("a") == 1
    assert m.pop("a", None) is None
    with pytest.raises(KeyError):
        m.pop("a")
    m.update({"x": 1}, y=2)
    m.update([("z", 3)])
    assert m.snapshot() == {"x": 1, "y": 2, "z": 3}
    assert m.popitem() == ("z", 3)
    m.clear()
    assert len(m) == 0
    with pytest.raises(KeyError):
        m.popitem()


def test_snapshot_is_an_independent_copy() -> None:
    m = ConcurrentMap({"a": 1})
    snap = m.snapshot()
    m["b"] = 2
    snap["c"] = 3
    assert snap == {"a": 1, "c": 3} and m.snapshot() == {"a": 1, "b": 2}
    assert type(snap) is dict


def test_iteration_walks_a_snapshot_so_mutation_during_it_is_safe() -> None:
    m = ConcurrentMap({i: i for i in range(10)})
    seen = []
    for key in m:
        seen.append(key)
        m[key + 100] = key  # a dict would raise "changed size during iteration"
    assert seen == list(range(10))
    assert len(m) == 20


def test_views_come_from_a_snapshot() -> None:
    m = ConcurrentMap({"a": 1})
    keys, values, items = m.keys(), m.values(), m.items()
    m["b"] = 2
    assert list(keys) == ["a"] and list(values) == [1] and list(items) == [("a", 1)]


def test_it_is_a_dict_whose_copies_are_plain_dicts() -> None:
    m = ConcurrentMap({"a": 1, "b": 2})
    assert isinstance(m, dict)
    assert m == {"a": 1, "b": 2} and dict(m) == {"a": 1, "b": 2} and {**m} == {"a": 1, "b": 2}
    assert type(m.copy()) is dict and m.copy() == {"a": 1, "b": 2}
    assert list(reversed(m)) == ["b", "a"]
    m |= {"c": 3}
    assert isinstance(m, ConcurrentMap) and m.snapshot() == {"a": 1, "b": 2, "c": 3}
    with pytest.raises(TypeError):
        hash(m)


def test_pickle_round_trip() -> None:
    import pickle

    m = ConcurrentMap({"a": 1})
    clone = pickle.loads(pickle.dumps(m))
    assert isinstance(clone, ConcurrentMap) and clone.snapshot() == {"a": 1}
    clone.compute("a", lambda v: v + 1)  # a working map, with its own locks
    assert clone["a"] == 2 and m["a"] == 1


def test_repr_and_statistics() -> None:
    m = ConcurrentMap({"a": 1})
    assert repr(m) == "<ConcurrentMap size=1 {'a': 1}>"
    assert m.statistics() == ConcurrentMapStatistics(size=1)


# -- under threads ---------------------------------------------------------------------------------


def test_callbacks_of_other_threads_do_not_count_as_reentrant() -> None:
    m = ConcurrentMap({0: 0, 1: 0})  # small ints hash to themselves: stripes 0 and 1
    inside, done = threading.Event(), threading.Event()

    def slow(v: int) -> int:
        inside.set()
        assert done.wait(30)
        return v + 1

    t = threading.Thread(target=lambda: m.compute(0, slow))
    t.start()
    assert inside.wait(30)
    m.compute(1, lambda v: v + 1)  # another stripe, while a callback runs in another thread
    m[2] = 1
    done.set()
    t.join(30)
    assert m.snapshot() == {0: 1, 1: 1, 2: 1}


def test_concurrent_compute_loses_no_update() -> None:
    m: ConcurrentMap[int, int] = ConcurrentMap()

    def work(i: int) -> None:
        for k in range(2000):
            m.compute(k % 10, lambda v: v + 1, default=0)

    run_threads(4, work)
    assert m.snapshot() == {k: 800 for k in range(10)}


def test_concurrent_setdefault_inserts_once() -> None:
    m: ConcurrentMap[int, object] = ConcurrentMap()
    winners: list[list[object]] = [[] for _ in range(4)]

    def work(i: int) -> None:
        for k in range(500):
            winners[i].append(m.setdefault(k, object()))

    run_threads(4, work)
    for k in range(500):
        assert len({id(w[k]) for w in winners}) == 1  # every thread got the same object


def test_concurrent_pop_hands_each_key_to_one_thread() -> None:
    m = ConcurrentMap({k: k for k in range(4000)})
    got: list[list[int]] = [[] for _ in range(4)]

    def work(i: int) -> None:
        for k in range(4000):
            v = m.pop(k, None)
            if v is not None:
                got[i].append(v)

    run_threads(4, work)
    assert sorted(v for part in got for v in part) == list(range(4000))
    assert len(m) == 0


def test_snapshots_never_see_half_of_an_update() -> None:
    m = ConcurrentMap({"a": 0, "b": 0})
    done = threading.Event()

    def writer() -> None:
        for i in range(1, 3000):
            m.update({"a": i, "b": i})
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    torn = 0
    while not done.is_set():
        snap = m.snapshot()
        torn += snap["a"] != snap["b"]
        items = dict(m.items())  # items() comes from one snapshot too
        torn += items["a"] != items["b"]
        values = list(m.values())
        torn += values[0] != values[1]
    t.join()
    assert torn == 0


def test_readers_never_see_a_missing_key_while_others_are_written() -> None:
    m = ConcurrentMap({k: k for k in range(100)})
    stop = threading.Event()
    errors: list[int] = []

    def writer() -> None:
        i = 0
        while not stop.is_set():
            m[1000 + i % 50] = i
            m.pop(1000 + (i + 25) % 50, None)
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        for _ in range(20):
            for k in range(100):
                if m.get(k) != k or k not in m or m[k] != k:
                    errors.append(k)
    finally:
        stop.set()
        t.join()
    assert errors == []
