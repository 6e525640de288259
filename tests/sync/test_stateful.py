"""Hypothesis stateful tests: random operation sequences against the reference oracles.

A ConcurrentMap must behave like a dict, and an AtomicInt (on every back-end)
like :class:`ReferenceInt`, for every sequence hypothesis can find —
including failing operations (absent keys, overflow, raising callbacks).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sync_helpers import ReferenceInt

from racefree.sync import ConcurrentMap, _backend
from racefree.sync._atomic_py import INT64_MAX, INT64_MIN

KEYS = st.sampled_from(["a", "b", "c", "d", 1, 2, (1, 2)])
VALUES = st.integers(-5, 5)
SETTINGS = settings(max_examples=60, stateful_step_count=40, deadline=None)


class Boom(Exception):
    pass


class MapMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.map: ConcurrentMap[Any, int] = ConcurrentMap()
        self.ref: dict[Any, int] = {}

    @rule(k=KEYS, v=VALUES)
    def set(self, k: Any, v: int) -> None:
        self.map[k] = v
        self.ref[k] = v

    @rule(k=KEYS)
    def delete(self, k: Any) -> None:
        expected = k in self.ref
        try:
            del self.map[k]
            deleted = True
        except KeyError:
            deleted = False
        self.ref.pop(k, None)
        assert deleted == expected

    @rule(k=KEYS, d=st.one_of(st.none(), VALUES), delta=VALUES)
    def compute(self, k: Any, d: int | None, delta: int) -> None:
        if d is None:
            if k not in self.ref:
                with pytest.raises(KeyError):
                    self.map.compute(k, lambda v: v + delta)
                return
            expected = self.ref[k] + delta
            assert self.map.compute(k, lambda v: v + delta) == expected
        else:
            expected = self.ref.get(k, d) + delta
            assert self.map.compute(k, lambda v: v + delta, default=d) == expected
        self.ref[k] = expected

    @rule(k=KEYS)
    def compute_raising(self, k: Any) -> None:
        def boom(v: int) -> int:
            raise Boom

        with pytest.raises((Boom, KeyError)):
            self.map.compute(k, boom)

    @rule(k=KEYS, v=VALUES)
    def setdefault(self, k: Any, v: int) -> None:
        assert self.map.setdefault(k, v) == self.ref.setdefault(k, v)

    @rule(k=KEYS, d=st.one_of(st.none(), VALUES))
    def pop(self, k: Any, d: int | None) -> None:
        if d is None and k not in self.ref:
            with pytest.raises(KeyError):
                self.map.pop(k)
        elif d is None:
            assert self.map.pop(k) == self.ref.pop(k)
        else:
            assert self.map.pop(k, d) == self.ref.pop(k, d)

    @precondition(lambda self: bool(self.ref))
    @rule()
    def popitem(self) -> None:
        assert self.map.popitem() == self.ref.popitem()

    @rule(items=st.dictionaries(KEYS, VALUES, max_size=3))
    def update(self, items: dict[Any, int]) -> None:
        self.map.update(items)
        self.ref.update(items)

    @rule(k=KEYS)
    def read(self, k: Any) -> None:
        assert self.map.get(k) == self.ref.get(k)
        assert (k in self.map) == (k in self.ref)

    @rule()
    def clear(self) -> None:
        self.map.clear()
        self.ref.clear()

    @invariant()
    def same_contents(self) -> None:
        assert self.map.snapshot() == self.ref
        assert list(self.map) == list(self.ref)  # insertion order too
        assert len(self.map) == len(self.ref)


TestConcurrentMapStateful = MapMachine.TestCase
TestConcurrentMapStateful.settings = SETTINGS

EDGES = [INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1]
INTS = st.one_of(st.integers(-100, 100), st.sampled_from(EDGES))


def _fits(v: int) -> bool:
    return INT64_MIN <= v <= INT64_MAX


def atomic_machine(backend: str) -> type[RuleBasedStateMachine]:
    int_type = _backend.AVAILABLE[backend].int_type

    class AtomicMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.atomic = int_type(0)
            self.ref = ReferenceInt(0)

        @rule(v=INTS)
        def store(self, v: int) -> None:
            self.atomic.store(v)
            self.ref.store(v)

        @rule(d=INTS)
        def add(self, d: int) -> None:
            if _fits(self.ref.load() + d):
                assert self.atomic.add(d) == self.ref.add(d)
            else:
                with pytest.raises(OverflowError):
                    self.atomic.add(d)

        @rule()
        def increment(self) -> None:
            if _fits(self.ref.load() + 1):
                assert self.atomic.increment() == self.ref.increment()
            else:
                with pytest.raises(OverflowError):
                    self.atomic.increment()

        @rule(v=INTS)
        def swap(self, v: int) -> None:
            assert self.atomic.swap(v) == self.ref.swap(v)

        @rule(hit=st.booleans(), other=INTS, new=INTS)
        def compare_and_swap(self, hit: bool, other: int, new: int) -> None:
            expected = self.ref.load() if hit else other
            assert self.atomic.compare_and_swap(expected, new) == self.ref.compare_and_swap(expected, new)

        @invariant()
        def same_value(self) -> None:
            assert self.atomic.load() == self.ref.load()

    AtomicMachine.__name__ = f"AtomicMachine_{backend}"
    return AtomicMachine


for _name in sorted(_backend.AVAILABLE):
    _case = atomic_machine(_name).TestCase
    _case.settings = SETTINGS
    globals()[f"TestAtomicIntStateful_{_name}"] = _case
del _name, _case
