"""The performance targets of issues 2 and 11, and how each is judged from a run's suites.

A target is ``PASS`` or ``MISS`` when this run measured what it needs on a
build it applies to; otherwise ``N/A`` with the reason (the value is still
shown when it was measured).  Verdicts on a busy machine are noisy: they
describe one run, never a guarantee.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from racefree._build import BuildInfo
from racefree.bench.results import SuiteResult, TargetResult
from racefree.sync import backend_info

__all__ = ["TARGETS", "Target", "judge"]

# evaluate(suites, build) -> (value or None, detail, applies to this build)
Evaluator = Callable[[Mapping[str, SuiteResult], BuildInfo], tuple[float | None, str, bool]]


@dataclass(frozen=True)
class Target:
    key: str
    description: str
    limit: float
    comparison: str  # "<=" or ">="
    unit: str  # "x" or "ns"
    evaluate: Evaluator

    def judge(self, suites: Mapping[str, SuiteResult], build: BuildInfo) -> TargetResult:
        value, detail, applies = self.evaluate(suites, build)
        if value is None or not applies:
            status = "N/A"
        elif self.comparison == "<=":
            status = "PASS" if value <= self.limit else "MISS"
        else:
            status = "PASS" if value >= self.limit else "MISS"
        return TargetResult(
            self.key, self.description, value, self.limit, self.comparison, self.unit, status, detail
        )


def _atomic_vs_lock(suites: Mapping[str, SuiteResult], build: BuildInfo) -> tuple[float | None, str, bool]:
    suite = suites.get("counter")
    row = suite.row(f"AtomicInt.increment [{backend_info().name}]") if suite else None
    if row is None or not row.ratio:
        return None, "counter suite not run", True
    worst = max(row.ratio, key=lambda t: row.ratio[t])
    parts = ", ".join(f"{t}T {row.ratio[t]:.2f}x" for t in sorted(row.ratio))
    return row.ratio[worst], f"worst at {worst} thread(s); {parts}", True


def _map_vs_dict(suites: Mapping[str, SuiteResult], build: BuildInfo) -> tuple[float | None, str, bool]:
    suite = suites.get("map")
    row = suite.row("ConcurrentMap") if suite else None
    if row is None:
        return None, "map suite not run", True
    if 8 not in row.ratio:
        return None, "needs 8 threads (add 8 to --threads)", True
    return (
        row.ratio[8],
        f"{row.ns_per_op[8]:.0f} ns/op vs dict {row.ns_per_op[8] / row.ratio[8]:.0f} ns/op",
        True,
    )


def _rwlock_uncontended(
    suites: Mapping[str, SuiteResult], build: BuildInfo
) -> tuple[float | None, str, bool]:
    suite = suites.get("rwlock")
    row = suite.row("RWLock acquire_read+release_read") if suite else None
    if row is None or 1 not in row.ns_per_op:
        return None, "rwlock suite not run", True
    if build.free_threaded_build:
        return row.ns_per_op[1], "the target is set for the GIL build (3.11)", False
    return row.ns_per_op[1], f"{row.ratio[1]:.2f}x threading.Lock acquire+release", True


def _speedup(row: object) -> float | None:
    ns = getattr(row, "ns_per_op", {})
    return ns[1] / ns[2] if {1, 2} <= set(ns) else None


def _sharded_scaling(suites: Mapping[str, SuiteResult], build: BuildInfo) -> tuple[float | None, str, bool]:
    """Judged on the per-thread handle, the documented way to count in a hot loop; add() is shown too."""
    suite = suites.get("counter")
    handle = suite.row("ShardedCounter.handle().add") if suite else None
    plain = suite.row("ShardedCounter.add") if suite else None
    speedup = _speedup(handle)
    if handle is None or speedup is None:
        return None, "needs 1 and 2 threads in --threads", True
    plain_speedup = _speedup(plain)
    detail = f"handle().add {handle.ns_per_op[1]:.0f} -> {handle.ns_per_op[2]:.0f} ns/op"
    if plain_speedup is not None:
        detail += f"; add() on the shared counter x{plain_speedup:.2f}"
    if build.gil_enabled:
        return speedup, "GIL enabled: threads cannot run Python in parallel; set for 3.13t", False
    return speedup, detail, True


CONFIG_AT = 50  # the lab's shape: 50 readers and 5 writers on a few CPUs


def _config_speedup(name: str) -> Evaluator:
    """``name``'s speed-up over the plain-lock manager at 50 threads in the config suite (both builds)."""

    def evaluate(suites: Mapping[str, SuiteResult], build: BuildInfo) -> tuple[float | None, str, bool]:
        suite = suites.get("config")
        row = suite.row(name) if suite else None
        if row is None or CONFIG_AT not in row.ratio:
            return None, "config suite not run", True
        parts = ", ".join(f"{t}T {1 / row.ratio[t]:.2f}x" for t in sorted(row.ratio))
        return 1 / row.ratio[CONFIG_AT], f"vs Lock + dict: {parts}", True

    return evaluate


def _snapshot_get(suites: Mapping[str, SuiteResult], build: BuildInfo) -> tuple[float | None, str, bool]:
    suite = suites.get("snapshot")
    row = suite.row("Snapshot.get()") if suite else None
    if row is None or 1 not in row.ratio:
        return None, "snapshot suite not run", True
    base = row.ns_per_op[1] / row.ratio[1]
    return row.ratio[1], f"{row.ns_per_op[1]:.1f} ns vs attribute {base:.1f} ns", True


TARGETS: tuple[Target, ...] = (
    Target("atomic-int", "AtomicInt.increment vs Lock+int", 0.35, "<=", "x", _atomic_vs_lock),
    Target("map-read-heavy", "ConcurrentMap vs unsynchronized dict, 8 threads", 2.0, "<=", "x", _map_vs_dict),
    Target("rwlock-read", "RWLock uncontended read acquire+release", 300.0, "<=", "ns", _rwlock_uncontended),
    Target(
        "sharded-scaling", "ShardedCounter speed-up 1 -> 2 threads (handle)", 1.8, ">=", "x", _sharded_scaling
    ),
    Target(
        "config-store", "ConfigStore speed-up over Lock + dict, 50 threads", 1.5, ">=", "x",
        _config_speedup("ConfigStore"),
    ),
    Target(
        "config-rwlock", "RWLock + dict speed-up over Lock + dict, 50 threads", 1.0, ">=", "x",
        _config_speedup("RWLock + dict"),
    ),
    Target("snapshot-get", "Snapshot.get() vs a plain attribute, uncontended", 1.2, "<=", "x", _snapshot_get),
)


def judge(suites: Mapping[str, SuiteResult], build: BuildInfo) -> tuple[TargetResult, ...]:
    """Every target's verdict on this run."""
    return tuple(t.judge(suites, build) for t in TARGETS)
