"""Run the suites on this interpreter and assemble a :class:`~racefree.bench.results.BenchResult`."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from racefree._build import build_info, gil_enabled
from racefree.bench import peers
from racefree.bench.results import BenchResult, Row, SuiteResult
from racefree.bench.suites import SUITES, Suite
from racefree.bench.targets import judge
from racefree.bench.timing import measure
from racefree.sync import backend_info

__all__ = ["DEFAULT_THREADS", "FULL", "QUICK", "BenchResult", "run_bench"]

DEFAULT_THREADS = (1, 2, 4, 8)
FULL = (200_000, 5)  # (operations per measurement, repeats)
QUICK = (30_000, 3)


def _run_suite(
    suite: Suite, threads: Sequence[int], total_ops: int, repeats: int, progress: Callable[[str], None]
) -> SuiteResult:
    counts = tuple(suite.fixed_threads or threads)
    ops = max(1, int(total_ops * suite.ops_scale))
    cases = suite.build_cases()
    measured: dict[str, dict[int, tuple[float, tuple[float, ...]]]] = {}
    for case in cases:
        progress(f"{suite.key}: {case.name}")
        measured[case.name] = {}
        for n in counts:
            m = measure(case, n, ops, repeats)
            measured[case.name][n] = (m.ns_per_op, m.samples)
    base = measured[suite.baseline]
    rows = tuple(
        Row(
            name=case.name,
            role=case.role,
            ns_per_op={n: measured[case.name][n][0] for n in counts},
            ratio={n: measured[case.name][n][0] / base[n][0] for n in counts},
            samples={n: measured[case.name][n][1] for n in counts},
            note=case.note,
        )
        for case in cases
    )
    return SuiteResult(suite.key, suite.title, suite.baseline, counts, rows, suite.notes)


def run_bench(
    threads: Sequence[int] = DEFAULT_THREADS,
    *,
    quick: bool = False,
    total_ops: int | None = None,
    repeats: int | None = None,
    suites: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> BenchResult:
    """Measure every suite (or those named) at the given thread counts and judge the targets."""
    default_ops, default_repeats = QUICK if quick else FULL
    ops = total_ops or default_ops
    reps = repeats or default_repeats
    started = time.perf_counter()
    build = build_info()
    results: dict[str, SuiteResult] = {}
    for key in suites or list(SUITES):
        results[key] = _run_suite(SUITES[key], threads, ops, reps, progress or (lambda _: None))
    return BenchResult(
        build=build,
        backend=backend_info(),
        quick=quick,
        total_ops=ops,
        repeats=reps,
        suites=results,
        targets=judge(results, build),
        skipped_peers=peers.skipped(),
        gil_enabled_at_end=gil_enabled(),
        seconds=time.perf_counter() - started,
    )
