"""Exercise 3: RW locks for read-mostly configuration, map safety, interface races.

* Configuration under 50 readers × 1000 ops and 5 writers × 100 ops with
  deletes, on :class:`racefree.automation.ConfigStore` (copy-on-write), the Go
  program's RW-locked :class:`~racefree.lab.config_managers.ConfigurationManager`
  and the plain-lock baseline.
* The unsafe vs safe task registry, 20 threads × 100 registrations per round,
  while another thread lists the registry: what goes wrong in Python
  (``RuntimeError`` while listing, lost per-type counts) and that
  :class:`racefree.automation.TaskRegistry` fixes both.
* The unsafe vs safe processor (20 threads × 100 tasks, 1 ms work, 10 % errors),
  and the same without the simulated work as a stress run.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from racefree._build import build_info
from racefree.automation import ConfigStore, ProcessingError, SafeProcessor, TaskProcessor, TaskRegistry
from racefree.lab.config_managers import ConfigurationManager, LockedConfigurationManager
from racefree.lab.pitfalls import UnsafeTypeCounter
from racefree.lab.threads import Check, Scale, run_threads
from racefree.lab.ui import LabUI
from racefree.lab.unsafe import UnsafeProcessor, UnsafeTaskRegistry

__all__ = ["run_ex3"]

CONFIG_KEYS = ("database_url", "api_timeout", "max_workers", "log_level")
INITIAL = {"database_url": "postgres://localhost:5432/automation", "api_timeout": "30s",
           "max_workers": "10", "log_level": "info"}
LISTING_PAUSE = 0.0002
TASK_TYPES = ("file_process", "email_send", "db_update", "report_gen", "data_sync")


# -- configuration ------------------------------------------------------------

def _config_expectation(scale: Scale) -> tuple[int, int, int]:
    ops, writer_ops = scale.config_ops, scale.config_ops // 10
    reads = scale.config_readers * (ops + len(range(0, ops, 100)))
    deletes = len([j for j in range(writer_ops) if j % 10 == 0 and j > 0])
    writes = scale.config_writers * (writer_ops + deletes)
    keys = len(INITIAL) + scale.config_writers * (writer_ops - deletes)
    return reads, writes, keys


CONFIG_ROUNDS = 3  # each implementation runs this many times, alternating; the median counts


def _config_run(store: Any, scale: Scale) -> float:
    """Seconds from the first thread starting its loop to the last one finishing it.

    Timed inside the threads, so that thread start-up and exit (on 3.13t an
    exiting thread hands its allocator heaps back, which cost as much as
    thousands of reads) are not charged to the implementation under test.
    """
    readers, ops = scale.config_readers, scale.config_ops
    count = readers + scale.config_writers
    starts = [0.0] * count  # one slot per thread; read after the joins
    ends = [0.0] * count

    def body(i: int) -> None:
        starts[i] = time.perf_counter()
        work(i)
        ends[i] = time.perf_counter()

    def work(i: int) -> None:
        if i < readers:
            for j in range(ops):
                store.get(CONFIG_KEYS[j % len(CONFIG_KEYS)])
                if j % 100 == 0:
                    store.get_all()
        else:
            w = i - readers
            for j in range(ops // 10):
                store.set(f"dynamic_config_{w}_{j}", f"value_{j}")
                if j % 10 == 0 and j > 0:
                    store.delete(f"dynamic_config_{w}_{j - 1}")

    run_threads(count, body)
    return max(ends) - min(starts)


def configuration(scale: Scale, ui: LabUI) -> tuple[dict[str, Any], list[Check]]:
    exp_reads, exp_writes, exp_keys = _config_expectation(scale)
    figures: dict[str, Any] = {"readers": scale.config_readers, "writers": scale.config_writers,
                               "ops_per_reader": scale.config_ops, "ops_per_writer": scale.config_ops // 10,
                               "expected_reads": exp_reads, "expected_writes": exp_writes,
                               "expected_keys": exp_keys}
    checks: list[Check] = []
    rows = []
    impls: tuple[tuple[str, str, Callable[[], Any]], ...] = (
        ("config_store", "ConfigStore (copy-on-write, lock-free reads)", lambda: ConfigStore(INITIAL)),
        ("rwlock", "ConfigurationManager (RWLock, as in Go)", lambda: ConfigurationManager(INITIAL)),
        ("plain_lock", "LockedConfigurationManager (threading.Lock)",
         lambda: LockedConfigurationManager(INITIAL)),
    )
    durations: dict[str, list[float]] = {key: [] for key, _label, _make in impls}
    with ui.progress("configuration: readers and writers", CONFIG_ROUNDS * len(impls)) as advance:
        for _round in range(CONFIG_ROUNDS):  # alternating, so that a noisy moment hits every implementation
            for key, _label, make in impls:
                store = make()
                durations[key].append(_config_run(store, scale))
                stats = store.stats()
                keys = len(store.get_all())
                figures[key] = {"reads": stats.reads, "writes": stats.writes,
                                "read_write_ratio": stats.read_write_ratio, "final_keys": keys}
                if (stats.reads, stats.writes, keys) != (exp_reads, exp_writes, exp_keys) or not _round:
                    checks += [Check(f"ex3 {key} reads", exp_reads, stats.reads),
                               Check(f"ex3 {key} writes", exp_writes, stats.writes),
                               Check(f"ex3 {key} final keys", exp_keys, keys)]
                advance(1)
    for key, _label, _make in impls:
        f = figures[key]
        f["durations_s"] = durations[key]
        f["duration_s"] = duration = statistics.median(durations[key])
        f["ops_per_s"] = (f["reads"] + f["writes"]) / duration
    base = figures["plain_lock"]["ops_per_s"]
    for key, label, _make in impls:
        f = figures[key]
        f["vs_plain_lock"] = f["ops_per_s"] / base
        rows.append((label, f["duration_s"] * 1000, f["reads"], f["writes"], f"{f['read_write_ratio']:.2f}:1",
                     f["ops_per_s"], f"{f['vs_plain_lock']:.2f}x"))
    ui.table(f"Read-mostly configuration: {scale.config_readers} readers × {scale.config_ops} ops, "
             f"{scale.config_writers} writers × {scale.config_ops // 10} ops with deletes "
             f"(median of {CONFIG_ROUNDS} alternating runs)",
             ("implementation", "ms", "reads", "writes", "ratio", "ops/s", "vs lock"), rows)
    return figures, checks


# -- task registry ------------------------------------------------------------

@contextmanager
def _switch_interval(seconds: float | None) -> Iterator[None]:
    if seconds is None:
        yield
        return
    old = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def _registry_round(safe: bool, threads: int, ops: int) -> dict[str, Any]:
    unsafe_reg, type_counter, safe_reg = UnsafeTaskRegistry(), UnsafeTypeCounter(), TaskRegistry()
    finished = [0]
    finished_lock = threading.Lock()
    all_done = threading.Event()
    pause = 0.0 if build_info().gil_enabled else LISTING_PAUSE
    listing: dict[str, Any] = {"listings": 0, "errors": 0, "message": None}

    def registrar(g: int) -> None:
        for j in range(ops):
            task_id, name, kind = f"task_{g}_{j}", f"Task {g}-{j}", TASK_TYPES[j % len(TASK_TYPES)]
            if safe:
                safe_reg.register(task_id, name, kind)
                if j % 10 == 0:
                    safe_reg.get(task_id)
            else:
                unsafe_reg.register(task_id, name)
                type_counter.record(kind)
                if j % 10 == 0:
                    unsafe_reg.get(task_id)
        with finished_lock:
            finished[0] += 1
            if finished[0] == threads:
                all_done.set()

    def lister() -> None:
        while True:
            last = all_done.is_set()
            try:
                safe_reg.all() if safe else unsafe_reg.all()
            except RuntimeError as exc:
                listing["errors"] += 1  # only this thread writes `listing`; read after join
                listing["message"] = listing["message"] or str(exc)
            listing["listings"] += 1
            if last:
                return
            if pause:
                # Without the GIL the lister would monopolise the dict's per-object
                # lock and the round would crawl; with it, no pause is needed.
                time.sleep(pause)

    run_threads(threads + 1, lambda i: lister() if i == threads else registrar(i))
    if safe:
        registered, by_type = len(safe_reg), safe_reg.counts_by_type()
    else:
        registered, by_type = len(unsafe_reg.tasks), dict(type_counter.counts)
    return {"registered": registered, "typed": sum(by_type.values()), "by_type": by_type, **listing}


def registry(scale: Scale, ui: LabUI) -> tuple[dict[str, Any], list[Check]]:
    n, m, rounds = scale.registry_threads, scale.registry_ops, scale.registry_rounds
    expected = n * m
    conditions: list[tuple[str, float | None]] = [("default", None)]
    if build_info().gil_enabled:
        conditions.append(("switch interval 1 µs", 1e-6))
    figures: dict[str, Any] = {"threads": n, "ops_per_thread": m, "rounds": rounds,
                               "expected_per_round": expected, "runs": []}
    checks: list[Check] = []
    rows = []
    with ui.progress(f"registry: {rounds} rounds × {n} threads × {m} registrations, listing meanwhile",
                     2 * rounds * len(conditions)) as advance:
        for cond, interval in conditions:
            for safe in (False, True):
                agg: dict[str, Any] = {"rounds_with_listing_error": 0, "listing_errors": 0, "listings": 0,
                       "lost_type_counts": 0, "rounds_with_lost_counts": 0, "lost_registrations": 0,
                       "first_error": None}
                with _switch_interval(interval):
                    for _ in range(rounds):
                        r = _registry_round(safe, n, m)
                        agg["listings"] += r["listings"]
                        agg["listing_errors"] += r["errors"]
                        agg["rounds_with_listing_error"] += bool(r["errors"])
                        agg["first_error"] = agg["first_error"] or r["message"]
                        agg["lost_type_counts"] += expected - r["typed"]
                        agg["rounds_with_lost_counts"] += r["typed"] != expected
                        agg["lost_registrations"] += expected - r["registered"]
                        if safe:
                            checks.append(Check(f"ex3 safe registry ({cond}) tasks", expected,
                                                r["registered"]))
                            checks.append(Check(f"ex3 safe registry ({cond}) by type",
                                                {t: expected // len(TASK_TYPES) for t in TASK_TYPES},
                                                r["by_type"]))
                            checks.append(Check(f"ex3 safe registry ({cond}) listing errors", 0, r["errors"]))
                        advance(1)
                name = "TaskRegistry (safe)" if safe else "UnsafeTaskRegistry + dict counts"
                figures["runs"].append({"registry": "safe" if safe else "unsafe", "condition": cond, **agg})
                rows.append((f"{name}, {cond}", agg["lost_registrations"], agg["lost_type_counts"],
                             agg["rounds_with_lost_counts"], agg["listing_errors"], agg["listings"]))
    ui.table(f"Task registry: {rounds} rounds of {n} threads × {m} registrations while one thread lists",
             ("registry, condition", "lost tasks", "lost type counts", "rounds losing",
              "RuntimeErrors", "listings"), rows)
    first = next((r["first_error"] for r in figures["runs"] if r["first_error"]), None)
    if first:
        ui.note(f"Listing the unsafe registry while registering raised: RuntimeError: {first}", "bad")
    ui.note("A CPython dict keeps every single operation atomic (no lost task, unlike a Go map), but "
            "iterating it while it grows raises, and `d[k] = d.get(k, 0) + 1` loses counts; the safe "
            "registry copies and counts under its lock.")
    return figures, checks


# -- processors ---------------------------------------------------------------

def _drive(processor: TaskProcessor, threads: int, tasks: int) -> tuple[float, int]:
    raised = [0] * threads  # one slot per thread: each thread writes only its own

    def body(g: int) -> None:
        for j in range(tasks):
            try:
                processor.process(f"task_{g}_{j}")
            except ProcessingError:
                raised[g] += 1
            if j % 20 == 0:
                processor.stats()

    return run_threads(threads, body), sum(raised)


def processors(scale: Scale, ui: LabUI) -> tuple[dict[str, Any], list[Check]]:
    n = scale.processor_threads
    runs = [("module", scale.processor_tasks, 0.001), ("stress", scale.stress_tasks, 0.0)]
    figures: dict[str, Any] = {"threads": n, "error_rate": 0.1, "runs": []}
    checks: list[Check] = []
    rows = []
    with ui.progress("processors", 2 * len(runs)) as advance:
        for run_name, tasks, work in runs:
            for safe in (False, True):
                proc: TaskProcessor = (SafeProcessor(0.1, work) if safe else UnsafeProcessor(0.1, work))
                duration, raised = _drive(proc, n, tasks)
                s = proc.stats()
                expected = n * tasks
                fig = {"run": run_name, "processor": "safe" if safe else "unsafe", "tasks_per_thread": tasks,
                       "work_time_s": work, "duration_s": duration, "expected_tasks": expected,
                       "tasks_processed": s.tasks_processed, "lost_tasks": expected - s.tasks_processed,
                       "errors_raised": raised, "errors_occurred": s.errors_occurred,
                       "lost_errors": raised - s.errors_occurred}
                figures["runs"].append(fig)
                if safe:
                    checks += [Check(f"ex3 safe processor ({run_name}) tasks", expected, s.tasks_processed),
                               Check(f"ex3 safe processor ({run_name}) errors", raised, s.errors_occurred)]
                label = f"{'SafeProcessor' if safe else 'UnsafeProcessor'}, {run_name} ({tasks}/thread" + (
                    f", {work * 1000:g} ms work)" if work else ", no work)")
                rows.append((label, duration * 1000, expected, s.tasks_processed, fig["lost_tasks"],
                             raised, s.errors_occurred, fig["lost_errors"]))
                advance(1)
    ui.table(f"Interface races: {n} threads share one TaskProcessor (10 % errors)",
             ("processor, run", "ms", "expected", "counted", "lost", "raised", "errors", "lost"), rows)
    unsafe_lost = sum(r["lost_tasks"] + r["lost_errors"]
                      for r in figures["runs"] if r["processor"] == "unsafe")
    if unsafe_lost:
        ui.note(f"The unsafe processor lost {unsafe_lost:,} counts in all; the safe one none.", "bad")
    elif build_info().gil_enabled:
        ui.note("The unsafe processor lost nothing here: with the GIL its `+=` is rarely interrupted. "
                "Run on a free-threaded build to see the losses.", "warn")
    else:
        ui.note("The unsafe processor lost nothing in this run; the race is still there.", "warn")
    return figures, checks


def run_ex3(scale: Scale, ui: LabUI) -> tuple[dict[str, Any], list[Check]]:
    """Run exercise 3; return its figures (JSON-ready) and the checks of its safe components."""
    info = build_info()
    ui.section("Exercise 3 — RW locks, map safety and interface races", info.describe())
    start = time.perf_counter()
    config, config_checks = configuration(scale, ui)
    reg, reg_checks = registry(scale, ui)
    procs, proc_checks = processors(scale, ui)
    figures = {"build": info.as_dict(), "configuration": config, "registry": reg, "processors": procs,
               "duration_s": time.perf_counter() - start}
    return figures, config_checks + reg_checks + proc_checks
