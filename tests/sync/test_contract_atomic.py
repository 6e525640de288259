"""The AtomicInt / AtomicRef contract, run over every back-end and both detector modes.

Every sequential check is made against :class:`ReferenceInt` (an int under a
Lock): the same operations must return the same results.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from sync_helpers import ReferenceInt, run_threads

from racefree.sync import AtomicInt, AtomicRef
from racefree.sync._atomic_py import INT64_MAX, INT64_MIN

# -- AtomicInt: sequential contract -------------------------------------------------


def test_initial_value(int_impl: Callable[..., Any]) -> None:
    assert int_impl().load() == 0
    assert int_impl(42).load() == 42
    assert int_impl(value=-7).load() == -7


def test_each_operation_returns_what_the_contract_says(int_impl: Callable[..., Any]) -> None:
    a = int_impl(10)
    assert a.add(5) == 15  # new value
    assert a.add(-20) == -5
    assert a.increment() == -4  # new value
    assert a.swap(100) == -4  # old value
    assert a.load() == 100
    assert a.compare_and_swap(99, 1) is False
    assert a.load() == 100  # a failed CAS changes nothing
    assert a.compare_and_swap(100, 1) is True
    assert a.load() == 1
    assert a.store(8) is None
    assert a.load() == 8


def test_random_operation_sequences_match_the_reference(int_impl: Callable[..., Any]) -> None:
    rng = random.Random(1234)
    a, ref = int_impl(), ReferenceInt()
    for _ in range(2000):
        op = rng.choice(["load", "store", "add", "increment", "swap", "cas_hit", "cas_miss"])
        v = rng.randint(-1000, 1000)
        if op == "cas_hit":
            args: tuple[int, ...] = (ref.load(), v)
            op = "compare_and_swap"
        elif op == "cas_miss":
            args = (ref.load() + 1, v)
            op = "compare_and_swap"
        elif op in ("store", "add", "swap"):
            args = (v,)
        else:
            args = ()
        assert getattr(a, op)(*args) == getattr(ref, op)(*args), op
    assert a.load() == ref.load()


def test_range_is_signed_64_bit(int_impl: Callable[..., Any]) -> None:
    assert int_impl(INT64_MAX).load() == INT64_MAX
    assert int_impl(INT64_MIN).load() == INT64_MIN
    with pytest.raises(OverflowError):
        int_impl(INT64_MAX + 1)
    with pytest.raises(OverflowError):
        int_impl(INT64_MIN - 1)


@pytest.mark.parametrize(
    "op",
    [
        lambda a: a.increment(),
        lambda a: a.add(1),
        lambda a: a.store(INT64_MAX + 1),
        lambda a: a.swap(INT64_MAX + 1),
        lambda a: a.compare_and_swap(INT64_MAX, INT64_MAX + 1),
    ],
    ids=["increment", "add", "store", "swap", "compare_and_swap"],
)
def test_overflow_raises_and_changes_nothing(int_impl: Callable[..., Any], op: Callable[[Any], Any]) -> None:
    a = int_impl(INT64_MAX)
    with pytest.raises(OverflowError):
        op(a)
    assert a.load() == INT64_MAX


def test_underflow_raises_and_changes_nothing(int_impl: Callable[..., Any]) -> None:
    a = int_impl(INT64_MIN)
    with pytest.raises(OverflowError):
        a.add(-1)
    assert a.load() == INT64_MIN


@pytest.mark.parametrize("bad", [1.5, "3", None])
def test_arguments_must_be_integers(int_impl: Callable[..., Any], bad: object) -> None:
    a = int_impl(3)
    ops = (lambda: a.add(bad), lambda: a.store(bad), lambda: a.swap(bad), lambda: a.compare_and_swap(3, bad))
    for op in ops:
        with pytest.raises(TypeError):
            op()
    assert a.load() == 3


@pytest.mark.parametrize(
    "expr", [lambda a: a + 1, lambda a: a < 1, lambda a: int(a), lambda a: -a], ids=["+", "<", "int", "neg"]
)
def test_an_atomic_is_not_a_number(int_impl: Callable[..., Any], expr: Callable[[Any], Any]) -> None:
    with pytest.raises(TypeError):
        expr(int_impl(1))


def test_in_place_add_is_refused_rather_than_silently_rebinding(int_impl: Callable[..., Any]) -> None:
    a = int_impl(1)
    with pytest.raises(TypeError):
        a += 1
    assert a.load() == 1


def test_equality_and_hash_are_identity(int_impl: Callable[..., Any]) -> None:
    a, b = int_impl(5), int_impl(5)
    assert a != b
    assert a == a
    assert a != 5
    assert len({a, b}) == 2  # usable as a detector sync key
    assert bool(int_impl(0)) is True  # truthiness is not the value


def test_repr_shows_value_and_backend(int_impl: Callable[..., Any]) -> None:
    a = int_impl(41)
    a.increment()
    assert repr(a) == f"<AtomicInt value=42 backend={a.backend}>"


# -- AtomicInt: concurrent contract ------------------------------------------------------


def test_concurrent_mixed_operations_keep_an_exact_total(int_impl: Callable[..., Any]) -> None:
    """4 threads: increments, adds, and CAS-loop additions; nothing is lost."""
    a = int_impl()
    per_thread = 3000

    def work(i: int) -> None:
        for k in range(per_thread):
            match k % 3:
                case 0:
                    a.increment()
                case 1:
                    a.add(2)
                case _:
                    while True:
                        seen = a.load()
                        if a.compare_and_swap(seen, seen + 3):
                            break

    run_threads(4, work)
    assert a.load() == 4 * (per_thread // 3) * (1 + 2 + 3)


def test_swap_hands_every_value_to_exactly_one_thread(int_impl: Callable[..., Any]) -> None:
    a = int_impl(-1)
    taken: list[list[int]] = [[] for _ in range(4)]

    def work(i: int) -> None:
        for k in range(2000):
            taken[i].append(a.swap(i * 10_000 + k))

    run_threads(4, work)
    values = [v for part in taken for v in part]
    values.append(a.load())
    expected = [-1, *(i * 10_000 + k for i in range(4) for k in range(2000))]
    assert sorted(values) == sorted(expected)


def test_public_name_is_the_active_backend_class() -> None:
    from racefree.sync import _backend

    assert AtomicInt is _backend.ACTIVE.int_type
    assert AtomicInt().backend == _backend.backend_info().name


# -- AtomicRef ---------------------------------------------------------------------------------


def test_ref_initial_and_load_store(ref_factory: Callable[..., AtomicRef[Any]]) -> None:
    assert ref_factory().load() is None
    obj = object()
    r = ref_factory(obj)
    assert r.load() is obj
    other = object()
    assert r.store(other) is None
    assert r.load() is other


def test_ref_swap_returns_the_old_object(ref_factory: Callable[..., AtomicRef[Any]]) -> None:
    first, second = object(), object()
    r = ref_factory(first)
    assert r.swap(second) is first
    assert r.load() is second


def test_ref_compare_and_swap_is_by_identity(ref_factory: Callable[..., AtomicRef[Any]]) -> None:
    big = 10**30
    equal_not_identical = int(str(big))
    assert big == equal_not_identical and big is not equal_not_identical
    r = ref_factory(big)
    assert r.compare_and_swap(equal_not_identical, "x") is False
    assert r.load() is big
    assert r.compare_and_swap(big, "x") is True
    assert r.load() == "x"


def test_ref_concurrent_cas_push_loses_nothing(ref_factory: Callable[..., AtomicRef[Any]]) -> None:
    """A lock-free stack of immutable tuples: every push survives."""
    head = ref_factory(())

    def push(i: int) -> None:
        for k in range(1500):
            while True:
                seen = head.load()
                if head.compare_and_swap(seen, (i, k, seen)):
                    break

    run_threads(4, push)
    items, node = [], head.load()
    while node:
        items.append(node[:2])
        node = node[2]
    assert sorted(items) == [(i, k) for i in range(4) for k in range(1500)]


def test_ref_repr(ref_factory: Callable[..., AtomicRef[Any]]) -> None:
    r = ref_factory([1, 2])
    assert repr(r) == f"<AtomicRef obj=[1, 2] backend={r.backend}>"
