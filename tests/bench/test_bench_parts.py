"""The bench's parts without timing: the timing's bookkeeping, peer loading, target verdicts."""

from __future__ import annotations

import threading

import pytest

from racefree._build import BuildInfo
from racefree.bench import peers
from racefree.bench.results import Row, SuiteResult
from racefree.bench.targets import TARGETS, judge
from racefree.bench.timing import Case, measure
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


def _suites(
    atomic: float, cmap: float, rw: float, sharded2: float, store: float = 60.0, rwmgr: float = 90.0,
    snap: float = 11.0,
) -> dict[str, SuiteResult]:
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
        "config": _suite(
            "config",
            "Lock + dict",
            {
                "ConfigStore": {2: 100.0, 8: 100.0, 50: store},
                "RWLock + dict": {2: 100.0, 8: 100.0, 50: rwmgr},
                "Lock + dict": {2: 100.0, 8: 100.0, 50: 100.0},
            },
        ),
        "snapshot": _suite(
            "snapshot", "plain attribute", {"Snapshot.get()": {1: snap}, "plain attribute": {1: 10.0}}
        ),
    }


def test_targets_pass_and_miss_by_their_limits() -> None:
    good = {t.key: t.status for t in judge(_suites(30, 150, 250, 50), _build(free_threaded=True))}
    assert good == {
        "atomic-int": "PASS",
        "map-read-heavy": "PASS",
        "rwlock-read": "N/A",
        "sharded-scaling": "PASS",
        "config-store": "PASS",
        "config-rwlock": "PASS",
        "snapshot-get": "PASS",
    }
    bad = {
        t.key: t.status
        for t in judge(_suites(40, 250, 350, 60, store=70, rwmgr=101, snap=13), _build(free_threaded=False))
    }
    assert bad == {
        "atomic-int": "MISS",
        "map-read-heavy": "MISS",
        "rwlock-read": "MISS",
        "sharded-scaling": "N/A",
        "config-store": "MISS",
        "config-rwlock": "MISS",
        "snapshot-get": "MISS",
    }


def test_config_targets_are_speed_ups_over_the_plain_lock_at_50_threads() -> None:
    """Issue 11: ConfigStore >= 1.5x and RWLock + dict >= 1.0x the lock on both builds; get() <= 1.2x."""
    for build in (_build(free_threaded=True), _build(free_threaded=False)):
        results = {t.key: t for t in judge(_suites(35, 200, 300, 50, store=64, rwmgr=100, snap=12), build)}
        assert results["config-store"].value == pytest.approx(100 / 64)
        assert results["config-store"].status == "PASS"
        assert results["config-rwlock"].value == pytest.approx(1.0)
        assert results["config-rwlock"].status == "PASS"  # the limit itself passes
        assert results["snapshot-get"].value == pytest.approx(1.2)
        assert results["snapshot-get"].status == "PASS"
    detail = results["config-store"].detail
    assert detail == "vs Lock + dict: 2T 1.00x, 8T 1.00x, 50T 1.56x"
    assert results["snapshot-get"].detail == "12.0 ns vs attribute 10.0 ns"
    no50 = _suites(35, 200, 300, 50)
    no50["config"] = _suite("config", "Lock + dict", {"ConfigStore": {2: 50.0}, "Lock + dict": {2: 100.0}})
    verdict = {t.key: t for t in judge(no50, _build(free_threaded=True))}["config-store"]
    assert (verdict.status, verdict.value) == ("N/A", None)


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


class _Recorder:
    """Stands in for a configuration object and records the calls of the config suite's work."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def get(self, key: str) -> None:
        self.calls.append(("get", (key,)))

    def get_all(self) -> None:
        self.calls.append(("get_all", ()))

    def set(self, key: str, value: str) -> None:
        self.calls.append(("set", (key, value)))

    def delete(self, key: str) -> None:
        self.calls.append(("delete", (key,)))


def test_config_suite_has_the_labs_mix_of_readers_and_writers() -> None:
    from racefree.bench.readmostly import KEYS, WRITER_KEYS, _config_work, is_writer

    assert [sum(map(is_writer, range(n))) for n in (2, 8, 50)] == [1, 1, 5]  # the lab: 5 writers of 55
    reader, writer = _Recorder(), _Recorder()
    _config_work(reader, 0)(200)
    _config_work(writer, 1)(10 * (WRITER_KEYS + 5))
    gets = [c for c in reader.calls if c[0] == "get"]
    assert len(gets) == 200 and {k for _, (k,) in gets} == set(KEYS)
    assert sum(c[0] == "get_all" for c in reader.calls) == 2  # every 100th read
    sets = [args[0] for name, args in writer.calls if name == "set"]
    assert len(sets) == WRITER_KEYS + 5 and len(set(sets)) == WRITER_KEYS  # a bounded key space
    deletes = [args[0] for name, args in writer.calls if name == "delete"]
    assert deletes[0] == "dynamic_config_1_9" and len(deletes) == (WRITER_KEYS + 5 - 1) // 10


def test_config_suite_runs_every_implementation_to_the_labs_totals() -> None:
    from racefree.bench.readmostly import config_cases

    for case in config_cases():
        assert measure(case, 8, 800, 1).ns_per_op > 0
        shared = case.make_shared()
        for i in range(3):  # threads 0 and 2 read (100 gets, 1 get_all), thread 1 writes (10 sets)
            case.make_work(shared, i)(100)
        if hasattr(shared, "stats"):
            stats = shared.stats()
            assert (stats.reads, stats.writes) == (2 * 101, 10), case.name
        assert len(shared.get_all()) == 4 + 10, case.name
