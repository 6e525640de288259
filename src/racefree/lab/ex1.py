"""Exercise 1: a data race, false sharing, and cache-line layout.

* The unsafe counter: 100 threads × 1000 ``+=`` increments; expected, actual,
  lost, duration — next to :class:`~racefree.lab.counters.AtomicCounter` doing the same.
* False sharing: 4 workers × 10⁷ atomic increments of their own counter,
  adjacent (one cache line) vs padded (one line each), on a native kernel
  (:mod:`racefree.lab.kernels`), explained by the OS cache topology.
* Cache-line analysis of the module's structs mirrored in ``ctypes``.
"""

from __future__ import annotations

import ctypes
import statistics
import time
from typing import Any

from racefree._build import build_info
from racefree.lab.cachelines import (
    CacheLinePaddedCounters,
    FalseSharingExample,
    false_sharing_verdict,
    layout_of,
    read_topology,
)
from racefree.lab.counters import AtomicCounter
from racefree.lab.kernels import load_kernel
from racefree.lab.threads import Check, Scale, run_threads
from racefree.lab.ui import LabUI
from racefree.lab.unsafe import UnsafeCounter

__all__ = ["run_ex1"]


def _count(counter: Any, threads: int, per_thread: int) -> tuple[int, float]:
    def body(_: int) -> None:
        inc = counter.increment
        for _ in range(per_thread):
            inc()

    duration = run_threads(threads, body)
    value = counter.read() if isinstance(counter, UnsafeCounter) else counter.value()
    return value, duration


def data_race(scale: Scale, ui: LabUI) -> tuple[dict[str, Any], list[Check]]:
    n, m = scale.unsafe_threads, scale.unsafe_increments
    expected = n * m
    unsafe_value, unsafe_s = _count(UnsafeCounter(), n, m)
    atomic_value, atomic_s = _count(AtomicCounter(), n, m)
    figures = {
        "threads": n, "increments_per_thread": m, "expected": expected,
        "unsafe": {"actual": unsafe_value, "lost": expected - unsafe_value, "duration_s": unsafe_s},
        "atomic": {"actual": atomic_value, "lost": expected - atomic_value, "duration_s": atomic_s},
    }
    ui.table(f"Data race: {n} threads × {m:,} increments",
             ("counter", "expected", "actual", "lost", "duration ms"),
             [("UnsafeCounter (self.value += 1)", expected, unsafe_value, expected - unsafe_value,
               unsafe_s * 1000),
              ("AtomicCounter (racefree.sync.AtomicInt)", expected, atomic_value,
               expected - atomic_value, atomic_s * 1000)])
    if unsafe_value != expected:
        ui.note(f"DATA RACE: lost {expected - unsafe_value:,} increments", "bad")
    elif build_info().gil_enabled:
        ui.note("No increment lost this time: with the GIL, a thread switch between the load and the "
                "store of `+=` is rare — rare, not impossible; it is still a data race.", "warn")
    else:
        ui.note("No increment lost in this run, even without the GIL: the race is still there.", "warn")
    return figures, [Check("ex1 AtomicCounter total", expected, atomic_value)]


def _counters(values: list[int]) -> str:
    return f"{len(values)} × {values[0]:,}" if len(set(values)) == 1 else " ".join(map(str, values))


def _aligned(struct: type[ctypes.Structure], line: int) -> tuple[ctypes.Structure, object]:
    """An instance of `struct` starting on a cache-line boundary (and the buffer that owns it)."""
    buf = (ctypes.c_char * (ctypes.sizeof(struct) + 2 * line))()
    base = ctypes.addressof(buf)
    start = (base + line - 1) // line * line
    return struct.from_address(start), buf


def false_sharing(scale: Scale, ui: LabUI) -> tuple[dict[str, Any], list[Check]]:
    topology = read_topology()
    line = topology.line_size or 64
    workers, n = scale.fs_workers, scale.fs_increments
    choice = load_kernel()
    figures: dict[str, Any] = {
        "workers": workers, "increments_per_worker": n, "line_size": line,
        "topology": topology.as_dict(),
        "kernel": choice.kernel.backend if choice.kernel else None,
        "kernel_notes": list(choice.notes),
    }
    for text in choice.notes:
        ui.note(f"kernel fallback: {text}", "warn")
    if choice.kernel is None:
        figures.update(adjacent_s=None, padded_s=None, ratio=None, verdict="no-kernel",
                       explanation="no native kernel could be built, so false sharing was not measured")
        ui.note("False sharing not measured: no native kernel (see the notes above). A Python-level "
                "loop is ~50 ns per increment, which hides a cache-line transfer entirely.", "warn")
        return figures, []
    kernel = choice.kernel
    checks: list[Check] = []
    times: dict[str, list[float]] = {"adjacent": [], "padded": []}
    parallelism: dict[str, list[float]] = {"adjacent": [], "padded": []}
    finals: dict[str, list[int]] = {}
    with ui.progress(f"false sharing: {workers} workers × {n:,} atomic adds",
                     2 * scale.fs_repeats) as advance:
        for _ in range(scale.fs_repeats):
            for label, struct in (("adjacent", FalseSharingExample), ("padded", CacheLinePaddedCounters)):
                obj, _buf = _aligned(struct, line)
                names = ["counter1", "counter2", "counter3", "counter4"]
                addrs = [ctypes.addressof(obj) + getattr(struct, f).offset for f in names]

                cpu = [0.0] * workers  # each worker writes only its own slot

                def body(i: int, addrs: list[int] = addrs, cpu: list[float] = cpu) -> None:
                    t0 = time.thread_time()
                    kernel.increment(addrs[i % len(addrs)], n)
                    cpu[i] = time.thread_time() - t0

                wall = run_threads(workers, body)
                times[label].append(wall)
                # CPU seconds the workers got per wall second: ~1 means they took turns.
                parallelism[label].append(sum(cpu) / wall if wall > 0 else 0.0)
                finals[label] = [getattr(obj, f) for f in names]
                advance(1)
    for label, values in finals.items():
        per_counter = [0, 0, 0, 0]
        for i in range(workers):
            per_counter[i % 4] += n
        checks.append(Check(f"ex1 false sharing {label} counters", per_counter, values))
    adjacent, padded = min(times["adjacent"]), min(times["padded"])
    ratio = adjacent / padded if padded > 0 else float("inf")
    par = statistics.median(parallelism["adjacent"] + parallelism["padded"])
    verdict = false_sharing_verdict(ratio, topology, workers, parallelism=par)
    figures.update(
        adjacent_s=adjacent, padded_s=padded, ratio=ratio,
        adjacent_runs_s=times["adjacent"], padded_runs_s=times["padded"],
        parallelism=par, adjacent_parallelism=parallelism["adjacent"],
        padded_parallelism=parallelism["padded"],
        adjacent_ns_per_add=adjacent * 1e9 / (workers * n), padded_ns_per_add=padded * 1e9 / (workers * n),
        counters_adjacent=finals["adjacent"], counters_padded=finals["padded"],
        verdict=verdict.code, explanation=verdict.text,
    )
    ui.table(f"False sharing: {workers} workers × {n:,} atomic increments ({kernel.backend}; "
             f"best of {scale.fs_repeats})",
             ("layout", "best ms", "median ms", "ns/add", "counters"),
             [("adjacent: FalseSharingExample", adjacent * 1000, statistics.median(times["adjacent"]) * 1000,
               figures["adjacent_ns_per_add"], _counters(finals["adjacent"])),
              ("padded: CacheLinePaddedCounters", padded * 1000, statistics.median(times["padded"]) * 1000,
               figures["padded_ns_per_add"], _counters(finals["padded"]))])
    ui.note(f"cache topology ({topology.source}): {topology.summary()}")
    ui.note(f"parallelism: the workers got {par:.2f} CPUs' worth of time per second of wall time "
            f"(median over runs; {min(workers, len(topology.cpus))} would mean all of them at once)")
    ui.note(f"{ratio:.2f}x slower with false sharing — {verdict.text}",
            "good" if verdict.code == "visible" else "warn")
    return figures, checks


def cache_lines(scale: Scale, ui: LabUI) -> dict[str, Any]:
    topology = read_topology()
    line = topology.line_size
    rows = []
    figures: dict[str, Any] = {"line_size": line, "line_size_source": topology.source}
    for struct in (FalseSharingExample, CacheLinePaddedCounters):
        lay = layout_of(struct)
        lines = lay.lines_touched(line or 64)
        figures[lay.name] = {"size": lay.size, "offsets": list(lay.offsets),
                             "lines_touched_when_aligned": lines}
        rows.append((lay.name, lay.size, " / ".join(str(o) for o in lay.offsets[1:]), lines))
    ui.table(f"Cache-line analysis (ctypes mirrors of the Go structs; line size {line or '?'} bytes)",
             ("struct", "bytes", "counter2/3/4 offsets", "lines used"), rows)
    return figures


def run_ex1(scale: Scale, ui: LabUI) -> tuple[dict[str, Any], list[Check]]:
    """Run exercise 1; return its figures (JSON-ready) and the checks of its safe components."""
    info = build_info()
    ui.section("Exercise 1 — data races and cache coherency", info.describe())
    start = time.perf_counter()
    race, race_checks = data_race(scale, ui)
    fs, fs_checks = false_sharing(scale, ui)
    layout = cache_lines(scale, ui)
    figures = {"build": info.as_dict(), "data_race": race, "false_sharing": fs, "cache_lines": layout,
               "duration_s": time.perf_counter() - start}
    return figures, race_checks + fs_checks
