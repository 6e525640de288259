"""ConfigStore: the Go ConfigurationManager's contract, copies, statistics, and exact counts under stress."""

from __future__ import annotations

import threading

import pytest

from racefree.automation import ConfigStats, ConfigStore


def test_initial_contents_are_copied() -> None:
    initial = {"a": "1"}
    store = ConfigStore(initial)
    initial["b"] = "2"
    assert store.get_all() == {"a": "1"}
    assert store.stats() == ConfigStats(reads=1, writes=0)


def test_get_set_delete_and_counts() -> None:
    store = ConfigStore()
    assert store.get("missing") is None
    assert store.get("missing", "dflt") == "dflt"
    store.set("k", "v")
    assert store.get("k") == "v"
    assert store.delete("k") is True
    assert store.delete("k") is False  # counted as a write anyway, as in the module
    assert "k" not in store and len(store) == 0
    assert store.stats() == ConfigStats(reads=3, writes=3)


def test_get_all_returns_a_copy_not_the_live_mapping() -> None:
    store = ConfigStore({"a": "1"})
    snapshot = store.get_all()
    snapshot["a"] = "changed"
    store.set("b", "2")
    assert snapshot == {"a": "changed"}
    assert store.get_all() == {"a": "1", "b": "2"}


def test_read_write_ratio() -> None:
    assert ConfigStats(reads=10, writes=4).read_write_ratio == 2.5
    assert ConfigStats(reads=3, writes=0).read_write_ratio == float("inf")
    assert ConfigStats(reads=0, writes=0).read_write_ratio == 0.0


def test_repr_shows_state() -> None:
    store = ConfigStore({"a": "1"})
    store.get("a")
    assert repr(store) == "<ConfigStore keys=1 reads=1 writes=0>"


@pytest.mark.stress
def test_no_write_is_lost_and_counts_are_exact_under_concurrency() -> None:
    # Copy-on-write loses a write if two writers copy the same version; the store
    # serializes writers, so every key written (and not deleted) is there at the end,
    # and every version a reader sees still holds the key no writer touches.
    store = ConfigStore({"fixed": "yes"})
    readers, writers, reads_each, writes_each = 6, 3, 2000, 300
    missing: list[dict[str, str]] = []

    def reader() -> None:
        for j in range(reads_each):
            if j % 2:
                store.get("fixed")
            else:
                version = store.get_all()
                if version.get("fixed") != "yes":
                    missing.append(version)

    def writer(w: int) -> None:
        for j in range(writes_each):
            store.set(f"k{w}_{j}", "v")
            if j % 10 == 0:
                store.delete(f"k{w}_{j}")

    ts = [threading.Thread(target=reader) for _ in range(readers)]
    ts += [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert missing == []
    deletes = len(range(0, writes_each, 10))
    assert store.stats() == ConfigStats(reads=readers * reads_each, writes=writers * (writes_each + deletes))
    final = store.get_all()
    assert len(final) == 1 + writers * (writes_each - deletes)
    assert all(f"k{w}_{j}" in final for w in range(writers) for j in range(writes_each) if j % 10)
