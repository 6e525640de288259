"""TaskRegistry: the SafeTaskRegistry contract, per-type counts, register_if_absent, copies, stress."""

from __future__ import annotations

import threading

import pytest

from racefree.automation import RegisteredTask, TaskRegistry


def test_initial_state_is_empty() -> None:
    reg = TaskRegistry()
    assert len(reg) == 0 and reg.all() == {} and reg.counts_by_type() == {}
    assert reg.get("x") is None and reg.entry("x") is None and "x" not in reg


def test_register_get_all_unregister() -> None:
    reg = TaskRegistry()
    reg.register("t1", "Task 1", "email")
    reg.register("t2", "Task 2")
    assert reg.get("t1") == "Task 1"
    assert reg.entry("t1") == RegisteredTask("Task 1", "email")
    assert reg.all() == {"t1": "Task 1", "t2": "Task 2"}
    assert reg.counts_by_type() == {"email": 1, "task": 1}
    assert reg.unregister("t1") is True
    assert reg.unregister("t1") is False
    assert reg.counts_by_type() == {"task": 1}
    assert repr(reg) == "<TaskRegistry tasks=1 types=1>"


def test_re_registering_moves_the_type_count() -> None:
    reg = TaskRegistry()
    reg.register("t", "old", "a")
    reg.register("t", "new", "b")
    assert reg.get("t") == "new"
    assert reg.counts_by_type() == {"b": 1}


def test_register_if_absent_keeps_the_first() -> None:
    reg = TaskRegistry()
    assert reg.register_if_absent("t", "first", "a") is True
    assert reg.register_if_absent("t", "second", "b") is False
    assert reg.entry("t") == RegisteredTask("first", "a")
    assert reg.counts_by_type() == {"a": 1}


def test_reads_return_copies() -> None:
    reg = TaskRegistry()
    reg.register("t", "n", "a")
    tasks, counts = reg.all(), reg.counts_by_type()
    tasks["u"] = "x"
    counts["a"] = 99
    reg.register("v", "n", "a")
    assert tasks == {"t": "n", "u": "x"} and counts == {"a": 99}
    assert reg.counts_by_type() == {"a": 2}


@pytest.mark.stress
def test_exactly_one_winner_per_id_under_contention() -> None:
    reg = TaskRegistry()
    threads, ids = 8, 300
    wins = [0] * threads
    barrier = threading.Barrier(threads)

    def body(i: int) -> None:
        barrier.wait()
        for j in range(ids):
            if reg.register_if_absent(f"id{j}", f"by {i}", f"type{j % 3}"):
                wins[i] += 1

    ts = [threading.Thread(target=body, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sum(wins) == ids
    assert len(reg) == ids
    assert reg.counts_by_type() == {f"type{k}": len(range(k, ids, 3)) for k in range(3)}


@pytest.mark.stress
def test_counts_exact_and_listing_never_raises_while_registering() -> None:
    reg = TaskRegistry()
    threads, per_thread = 8, 500
    listing_errors: list[BaseException] = []
    done = threading.Event()

    def lister() -> None:
        while not done.is_set():
            try:
                for _ in reg.all().items():
                    pass
            except RuntimeError as exc:  # what the unsafe registry raises
                listing_errors.append(exc)

    def registrar(g: int) -> None:
        for j in range(per_thread):
            reg.register(f"{g}_{j}", "n", ("a", "b")[j % 2])
            if j % 5 == 0:
                reg.unregister(f"{g}_{j}")

    lt = threading.Thread(target=lister)
    lt.start()
    ts = [threading.Thread(target=registrar, args=(g,)) for g in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    done.set()
    lt.join()
    assert listing_errors == []
    kept = [j for j in range(per_thread) if j % 5]
    assert len(reg) == threads * len(kept)
    assert reg.counts_by_type() == {"a": threads * sum(1 for j in kept if j % 2 == 0),
                                    "b": threads * sum(1 for j in kept if j % 2 == 1)}
