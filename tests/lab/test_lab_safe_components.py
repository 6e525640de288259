"""The lab's safe counterparts (counters, configuration managers): one contract suite, exact under stress."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from racefree.automation import ConfigStats, ConfigStore
from racefree.lab.config_managers import ConfigurationManager, LockedConfigurationManager
from racefree.lab.counters import AtomicCounter, MutexCounter

COUNTERS: list[Callable[[], Any]] = [AtomicCounter, MutexCounter]
MANAGERS: list[Callable[..., Any]] = [ConfigStore, ConfigurationManager, LockedConfigurationManager]


def _threads(n: int, body: Callable[[int], None]) -> None:
    ts = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


@pytest.mark.parametrize("make", COUNTERS)
def test_counter_contract(make: Callable[[], Any]) -> None:
    c = make()
    assert c.value() == 0
    c.increment()
    c.add(41)
    assert c.value() == 42


def test_atomic_counter_compare_and_swap() -> None:
    c = AtomicCounter()
    assert c.compare_and_swap(0, 7) is True
    assert c.compare_and_swap(0, 9) is False
    assert c.value() == 7


@pytest.mark.stress
@pytest.mark.parametrize("make", COUNTERS)
def test_counter_exact_under_contention(make: Callable[[], Any]) -> None:
    c = make()

    def body(_: int) -> None:
        for _ in range(5000):
            c.increment()

    _threads(8, body)
    assert c.value() == 40_000


@pytest.mark.parametrize("make", MANAGERS)
def test_manager_contract(make: Callable[..., Any]) -> None:
    m = make({"a": "1"})
    assert m.get("a") == "1" and m.get("zz") is None
    m.set("b", "2")
    assert m.delete("a") is True
    assert m.delete("a") is False
    everything = m.get_all()
    everything["c"] = "3"  # a copy
    assert m.get_all() == {"b": "2"}
    assert m.stats() == ConfigStats(reads=4, writes=3)


@pytest.mark.stress
@pytest.mark.parametrize("make", MANAGERS)
def test_manager_exact_under_readers_and_writers(make: Callable[..., Any]) -> None:
    m = make({"fixed": "1"})
    readers, writers, ops = 6, 2, 1000

    def body(i: int) -> None:
        if i < readers:
            for j in range(ops):
                assert m.get("fixed") == "1"
                if j % 100 == 0:
                    assert "fixed" in m.get_all()
        else:
            for j in range(ops // 10):
                m.set(f"w{i}_{j}", "v")
                if j % 10 == 0 and j:
                    m.delete(f"w{i}_{j - 1}")

    _threads(readers + writers, body)
    deletes = len(range(10, ops // 10, 10))
    stats = m.stats()
    assert stats.reads == readers * (ops + ops // 100)
    assert stats.writes == writers * (ops // 10 + deletes)
    assert len(m.get_all()) == 1 + writers * (ops // 10 - deletes)
