"""Exercise 2: atomic operations vs mutexes, and the automation workload.

* 100 threads × 10 000 increments on :class:`~racefree.lab.counters.AtomicCounter`
  and :class:`~racefree.lab.counters.MutexCounter` (and, for reference,
  :class:`racefree.sync.ShardedCounter`): values, durations, ratio.
* The module's automation simulation (:class:`racefree.automation.Workload`):
  20 workers × 100 tasks with a live monitor, then the final report, checked
  against the exact totals.
"""

from __future__ import annotations

import time
from typing import Any

from racefree._build import build_info
from racefree.automation import Workload
from racefree.lab.counters import AtomicCounter, MutexCounter
from racefree.lab.threads import Check, Scale, run_threads
from racefree.lab.ui import LabUI
from racefree.sync import ShardedCounter

__all__ = ["run_ex2"]


def atomic_vs_mutex(scale: Scale, ui: LabUI) -> tuple[dict[str, Any], list[Check]]:
    n, m = scale.counter_threads, scale.counter_increments
    expected = n * m
    figures: dict[str, Any] = {"threads": n, "increments_per_thread": m, "expected": expected}
    checks: list[Check] = []
    rows = []
    with ui.progress(f"counters: {n} threads × {m:,} increments", 3) as advance:
        for key, label, counter in (
            ("atomic", "AtomicCounter (racefree.sync.AtomicInt)", AtomicCounter()),
            ("mutex", "MutexCounter (threading.Lock)", MutexCounter()),
            ("sharded", "ShardedCounter (racefree.sync, reference)", ShardedCounter()),
        ):
            inc = counter.add if isinstance(counter, ShardedCounter) else counter.increment

            def body(_: int, inc: Any = inc) -> None:
                for _ in range(m):
                    inc()

            duration = run_threads(n, body)
            value = counter.value()
            figures[key] = {"value": value, "duration_s": duration,
                            "ns_per_increment": duration * 1e9 / expected}
            checks.append(Check(f"ex2 {key} counter total", expected, value))
            rows.append((label, value, duration * 1000, duration * 1e9 / expected))
            advance(1)
    ratio = figures["mutex"]["duration_s"] / figures["atomic"]["duration_s"]
    figures["mutex_over_atomic"] = ratio
    ui.table(f"Atomic vs mutex: {n} threads × {m:,} increments (expected {expected:,})",
             ("counter", "value", "duration ms", "ns/increment"), rows)
    if ratio >= 1:
        ui.note(f"Atomic operations are {ratio:.2f}x faster than the mutex for a simple counter.", "good")
    else:
        ui.note(f"The mutex was {1 / ratio:.2f}x faster than the atomic here (atomic back-end: "
                f"see racefree.sync.backend_info()).", "warn")
    return figures, checks


def workload(scale: Scale, ui: LabUI) -> tuple[dict[str, Any], list[Check]]:
    title = f"Monitor (every {scale.monitor_interval * 1000:.0f} ms; idle = since the last task)"
    with ui.monitor(title, scale.monitor_ticks) as on_sample:
        wl = Workload(monitor_interval=scale.monitor_interval, monitor_ticks=scale.monitor_ticks,
                      on_sample=on_sample)
        result = wl.run()
    final, exp = result.final, result.expected
    figures: dict[str, Any] = {
        "workers": wl.workers, "tasks_per_worker": wl.tasks_per_worker,
        "task_types": list(wl.task_types), "error_rate": wl.error_rate, "work_time_s": wl.work_time,
        "monitor_interval_s": wl.monitor_interval, "monitor_ticks": wl.monitor_ticks,
        "duration_s": result.duration,
        "final": final.as_dict(), "config": result.config,
        "config_reads": result.config_reads, "config_writes": result.config_stats.writes,
        "samples": [{"tick": s.tick, "elapsed_s": s.elapsed, "since_activity_s": s.since_activity,
                     **{k: v for k, v in s.snapshot.as_dict().items() if k != "tasks_by_type"},
                     "active_workers": len(s.snapshot.active_workers)} for s in result.samples],
        "expected": {"tasks": exp.tasks, "errors": exp.errors, "bytes_processed": exp.bytes_processed,
                     "requests": exp.requests, "tasks_by_type": exp.tasks_by_type,
                     "config_reads": exp.config_reads},
        "mismatches": result.mismatches(),
    }
    checks = [
        Check("ex2 workload tasks processed", exp.tasks, final.tasks_processed),
        Check("ex2 workload errors", exp.errors, final.errors),
        Check("ex2 workload bytes processed", exp.bytes_processed, final.bytes_processed),
        Check("ex2 workload requests", exp.requests, final.requests),
        Check("ex2 workload tasks by type", exp.tasks_by_type, dict(final.tasks_by_type)),
        Check("ex2 workload config reads", exp.config_reads, result.config_reads),
        Check("ex2 workload worker errors", [], list(result.worker_errors)),
    ]
    rows: list[tuple[object, ...]] = [
        ("total tasks processed", exp.tasks, final.tasks_processed),
        ("total errors", exp.errors, final.errors),
        ("total bytes processed", exp.bytes_processed, final.bytes_processed),
        ("total requests", exp.requests, final.requests),
        *((f"  tasks of type {t}", exp.tasks_by_type.get(t, 0), final.tasks_by_type.get(t, 0))
          for t in wl.task_types),
        ("config reads", exp.config_reads, result.config_reads),
    ]
    ui.table(f"Final metrics: {wl.workers} workers × {wl.tasks_per_worker} tasks "
             f"({result.duration:.2f} s)", ("figure", "expected", "actual"), rows)
    ui.note("Configuration: " + ", ".join(f"{k}={v}" for k, v in sorted(result.config.items())))
    bad = result.mismatches()
    if bad:
        ui.note("WRONG TOTALS: " + "; ".join(bad), "bad")
    else:
        ui.note("All totals exact.", "good")
    return figures, checks


def run_ex2(scale: Scale, ui: LabUI) -> tuple[dict[str, Any], list[Check]]:
    """Run exercise 2; return its figures (JSON-ready) and the checks of its safe components."""
    info = build_info()
    ui.section("Exercise 2 — atomic operations and mutexes", info.describe())
    start = time.perf_counter()
    counters, counter_checks = atomic_vs_mutex(scale, ui)
    wl, wl_checks = workload(scale, ui)
    figures = {"build": info.as_dict(), "atomic_vs_mutex": counters, "workload": wl,
               "duration_s": time.perf_counter() - start}
    return figures, counter_checks + wl_checks
