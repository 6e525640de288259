"""The bench's parts without timing: the harness's bookkeeping, peer loading, target verdicts."""

from __future__ import annotations

import threading

import pytest

from racefree._build import BuildInfo
from racefree.bench import peers
from racefree.bench.harness import Case, measure
from racefree.bench.results import Row, SuiteResult
from racefree.bench.targets import TARGETS, judge
from racefree.sync import backend_info


def _counting_case(calls: list[int], lock: threading.Lock) -> Case:
    def make_work(shared: object, index: int):  # type: ignore[no-untyped-def]
        def work(n: int) -> None:
            with lock:
                calls.append(n)

        return work

    return Case("count", "racefree", object, make_work)


def test_measure_splits_the_operations_among_threads_and_keeps_every_repeat() -> None:
    calls: list[int] = []
    m = measure(_counting_case(calls, threading.Lock()), threads=4, total_ops=100, repeats=3)
    assert calls == [25] * 12
    assert len(m.samples) == 3 and m.ns_per_op == min(m.samples) and m.threads == 4


def test_measure_reraises_a_worker_failure() -> None:
    def make_work(shared: object, index: int):  # type: ignore[no-untyped-def]
        def work(n: int) -> None:
            raise ValueError(f"worker {index}")

        return work

    with pytest.raises(ValueError, match="worker"):
        measure(Case("bad", "racefree", object, make_work), threads=2, total_ops=10, repeats=1)


def test_measure_rejects_non_positive_sizes() -> None:
    case = _counting_case([], threading.Lock())
    with pytest.raises(ValueError):
        measure(case, threads=0, total_ops=10, repeats=1)


def test_a_missing_peer_is_skipped_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(peers, "PEER_MODULES", {"ghost": "racefree_no_such_module"})
    monkeypatch.setattr(peers, "_cache", {})
    assert peers.load("ghost") is None
    assert peers.skipped() == {"ghost": "not installed"}


def test_a_peer_that_turns_the_gil_back_on_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    states = iter([False, True])
    monkeypatch.setattr(peers, "PEER_MODULES", {"flipper": "json"})
    monkeypatch.setattr(peers, "_cache", {})
    monkeypatch.setattr(peers, "_gil_enabled", lambda: next(states))
    assert peers.load("flipper") is None
    assert peers.skipped() == {"flipper": "importing it re-enabled the GIL"}


def _build(free_threaded: bool) -> BuildInfo:
    return BuildInfo("CPython", "3.x", "python", free_threaded, not free_threaded, 2)


def _suite(key: str, baseline: str, rows: dict[str, dict[int, float]]) -> SuiteResult:
    base = rows[baseline]
    made = tuple(
        Row(name, "racefree", ns, {t: v / base[t] for t, v in ns.items()}) for name, ns in rows.items()
    )
    return SuiteResult(key, key, baseline, tuple(base), made)


def _suites(atomic: float, cmap: float, rw: float, sharded2: float) -> dict[str, SuiteResult]:
    active = f"AtomicInt.increment [{backend_info().name}]"
    return {
        "counter": _suite(
            "counter",
            "Lock+int",
            {
                active: {1: atomic, 2: atomic / 2},
                "ShardedCounter.add": {1: 100.0, 2: 100.0},
                "ShardedCounter.handle().add": {1: 100.0, 2: sharded2},
                "Lock+int": {1: 100.0, 2: 100.0},
            },
        ),
        "map": _suite("map", "dict", {"ConcurrentMap": {8: cmap}, "dict": {8: 100.0}}),
        "rwlock": _suite("rwlock", "lock", {"RWLock acquire_read+release_read": {1: rw}, "lock": {1: 50.0}}),
    }


def test_targets_pass_and_miss_by_their_limits() -> None:
    good = {t.key: t.status for t in judge(_suites(30, 150, 250, 50), _build(free_threaded=True))}
    assert good == {
        "atomic-int": "PASS",
        "map-read-heavy": "PASS",
        "rwlock-read": "N/A",
        "sharded-scaling": "PASS",
    }
    bad = {t.key: t.status for t in judge(_suites(40, 250, 350, 60), _build(free_threaded=False))}
    assert bad == {
        "atomic-int": "MISS",
        "map-read-heavy": "MISS",
        "rwlock-read": "MISS",
        "sharded-scaling": "N/A",
    }


def test_target_values_and_edges() -> None:
    results = {t.key: t for t in judge(_suites(35, 200, 300, 100 / 1.8), _build(free_threaded=True))}
    assert results["atomic-int"].value == pytest.approx(0.35)
    assert results["atomic-int"].status == "PASS"  # the limit itself passes
    assert results["map-read-heavy"].value == pytest.approx(2.0)
    assert results["sharded-scaling"].value == pytest.approx(1.8)
    assert results["sharded-scaling"].status == "PASS"
    assert results["rwlock-read"].value == 300
    detail = results["sharded-scaling"].detail
    assert detail == "handle().add 100 -> 56 ns/op; add() on the shared counter x1.00"


def test_targets_without_their_measurements_are_not_applicable() -> None:
    verdicts = judge({}, _build(free_threaded=False))
    assert [t.status for t in verdicts] == ["N/A"] * len(TARGETS)
    assert all(t.value is None for t in verdicts)
