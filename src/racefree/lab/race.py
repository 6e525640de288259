"""``racefree lab --race``: every component of the exercises under the race detector, next to Go's ``-race``.

For each component the lab shows (see :data:`COMPONENTS`) a small driver in
:mod:`racefree.lab.race_drivers` runs under ``racefree run`` once per mode
(``strict``, Go's definition; ``python``, only races that are bugs even with
atomic bytecodes), each in its own subprocess::

    python -m racefree run --mode M --format json --output F --suppressions EMPTY \\
        --include <the component's modules> -m racefree.lab.race_drivers DRIVER 8 20

so the detector's patches never reach the lab's timing runs and a crash in one
pass costs only that pass.  Each pass runs in a fresh temporary directory with
an explicitly empty suppressions file: a ``racefree.toml`` of the user's must
not hide the lab's races.

A component's verdict in one mode is *race* or *no race* on the location it
owns in its pass (the kinds found are shown, not compared), against
:attr:`Component.expect`; a pass that failed (bad exit status, no report, the
component's modules not instrumented — silence from code the detector never saw
proves nothing) is an error, never a verdict.  Races a pass reports on no
component's location get a row of their own, expected nowhere.  The lab exits 1
when any row does not match (:attr:`RaceReport.ok`).

Invariants: :func:`run_race` runs the passes on a two-thread pool; each pass
touches only its own files and returns a fresh :class:`PassOutcome` through its
future (``Future.result`` orders it before the caller's reads).  Nothing else
is shared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from racefree.errors import EXIT_RACE
from racefree.lab.ui import LabUI

__all__ = ["COMPONENTS", "MODES", "Component", "PassOutcome", "RaceReport", "RowVerdict", "run_pass",
           "run_race", "show"]

MODES = ("strict", "python")
THREADS, OPS = 8, 20  # per pass: the detector needs unordered pairs, not many iterations
TIMEOUT_S = 120.0
DRIVERS_MODULE = "racefree.lab.race_drivers"
UNSAFE, SAFE, PYTHON_ONLY = "unsafe", "safe", "python-only"
BOTH = ("strict", "python")
NOT_IN_GO = "— (not in Go)"


@dataclass(frozen=True)
class Component:
    """One row of the verdict table: a component, what Go's ``-race`` says, what we expect.

    `location` is the race location (as ``racefree run`` names it) this row owns
    in its driver's pass — that name or an item of it (``name[...]``); None
    owns every race of the pass (a safe component, whose pass must be silent).
    `expect` lists the modes in which a race on it must be reported.
    """

    exercise: str
    name: str
    part: str
    go: str
    driver: str
    modules: tuple[str, ...]
    location: str | None = None
    expect: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.exercise}/{self.name}"

    def owns(self, location: str) -> bool:
        return self.location is None or location == self.location or location.startswith(self.location + "[")


_UNSAFE_MOD = ("racefree.lab.unsafe",)
_COUNTERS = ("racefree.lab.counters",)

COMPONENTS: tuple[Component, ...] = (
    Component("ex1", "UnsafeCounter.value", UNSAFE, "DATA RACE: c.value++", "unsafe_counter", _UNSAFE_MOD,
              "UnsafeCounter.value", BOTH),
    Component("ex1", "AtomicCounter", SAFE, "no race (atomic adds)", "atomic_counter", _COUNTERS),
    Component("ex2", "AtomicCounter", SAFE, "no race", "atomic_counter", _COUNTERS),
    Component("ex2", "MutexCounter", SAFE, "no race", "mutex_counter", _COUNTERS),
    Component("ex2", "Workload (Metrics, ConfigStore)", SAFE, "no race", "workload",
              ("racefree.automation.workload", "racefree.automation.metrics", "racefree.automation.config")),
    Component("ex3", "ConfigStore", SAFE, "no race", "config_store", ("racefree.automation.config",)),
    Component("ex3", "ConfigurationManager (RWLock)", SAFE, "no race", "config_rwlock",
              ("racefree.lab.config_managers",)),
    Component("ex3", "LockedConfigurationManager", SAFE, NOT_IN_GO, "config_locked",
              ("racefree.lab.config_managers",)),
    Component("ex3", "UnsafeTaskRegistry.tasks (dict)", UNSAFE, "DATA RACE: map tr.tasks", "unsafe_registry",
              _UNSAFE_MOD, "dict UnsafeTaskRegistry.tasks", ("strict",)),
    Component("ex3", "TaskRegistry", SAFE, "no race", "safe_registry", ("racefree.automation.registry",)),
    Component("ex3", "UnsafeProcessor.tasks_processed", UNSAFE, "DATA RACE: TasksProcessed",
              "unsafe_processor", _UNSAFE_MOD, "UnsafeProcessor.tasks_processed", BOTH),
    Component("ex3", "UnsafeProcessor.last_processed", UNSAFE, "DATA RACE: LastProcessed",
              "unsafe_processor", _UNSAFE_MOD, "UnsafeProcessor.last_processed", ("strict",)),
    Component("ex3", "UnsafeProcessor.errors_occurred", UNSAFE, "DATA RACE: ErrorsOccurred",
              "unsafe_processor", _UNSAFE_MOD, "UnsafeProcessor.errors_occurred", BOTH),
    Component("ex3", "SafeProcessor", SAFE, "no race", "safe_processor", ("racefree.automation.processor",)),
    # Python-only pitfalls exercise 3 shows: races in Python's own terms too
    Component("ex3", "UnsafeTypeCounter.counts", PYTHON_ONLY, NOT_IN_GO, "type_counter",
              ("racefree.lab.pitfalls",), "dict UnsafeTypeCounter.counts", BOTH),
    Component("ex3", "UnsafeTaskRegistry.all() listing", PYTHON_ONLY, NOT_IN_GO, "registry_listing",
              _UNSAFE_MOD, "dict UnsafeTaskRegistry.tasks", BOTH),
)

Found = tuple[str, str, int]  # (kind, location, count)
Verdict = tuple[str, str, str]  # (location, "confirmed" | "not-confirmed", what was observed)

CONFIRM_SEED = 2026  # python-mode passes of racy drivers run with --confirm: fixed, so the lab replays
CONFIRM_DRIVERS = frozenset(c.driver for c in COMPONENTS if "python" in c.expect)


@dataclass(frozen=True)
class PassOutcome:
    """One ``racefree run`` of one driver in one mode: the races it reported, or why there is no verdict."""

    driver: str
    mode: str
    modules: tuple[str, ...]
    races: tuple[Found, ...] = ()
    error: str | None = None
    returncode: int | None = None
    summary: str = ""
    instrumented: tuple[str, ...] = ()
    duration_s: float = 0.0
    confirmations: tuple[Verdict, ...] = ()  # python-mode passes of racy drivers (--confirm)

    def as_dict(self) -> dict[str, Any]:
        return {"driver": self.driver, "mode": self.mode, "modules": list(self.modules),
                "confirmations": [{"location": loc, "status": st, "observed": obs}
                                  for loc, st, obs in self.confirmations],
                "races": [{"kind": k, "location": loc, "count": n} for k, loc, n in self.races],
                "error": self.error, "returncode": self.returncode, "summary": self.summary,
                "instrumented": list(self.instrumented), "duration_s": self.duration_s}


PassRunner = Callable[[str, tuple[str, ...], str, str], PassOutcome]


def _tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no output"


def _aggregate(races: Iterable[dict[str, Any]]) -> tuple[Found, ...]:
    counts: dict[tuple[str, str], int] = {}
    for r in races:
        key = (str(r["kind"]), str(r["location"]))
        counts[key] = counts.get(key, 0) + int(r.get("count", 1))
    return tuple((k, loc, n) for (k, loc), n in sorted(counts.items()))


def run_pass(driver: str, modules: tuple[str, ...], mode: str, workdir: str) -> PassOutcome:
    """Run `driver` under ``racefree run --mode`` `mode` with `modules` instrumented, in `workdir`."""
    out = os.path.join(workdir, f"{driver}.{mode}.json")
    empty = os.path.join(workdir, "no-suppressions.toml")
    with open(empty, "a"):
        pass
    cmd = [sys.executable, "-m", "racefree", "run", "--mode", mode, "--format", "json", "--output", out,
           "--suppressions", empty]
    for module in modules:
        cmd += ["--include", module]
    if mode == "python" and driver in CONFIRM_DRIVERS:
        cmd += ["--confirm", "--seed", str(CONFIRM_SEED), "--confirm-attempts", "2"]
    cmd += ["-m", DRIVERS_MODULE, driver, str(THREADS), str(OPS)]
    env = dict(os.environ)
    # the racefree the lab runs from, first: the pass must test this very copy
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH", "")) if p)
    base = PassOutcome(driver, mode, modules)
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, encoding="utf-8",
                              errors="replace", timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return replace(base, error=f"timed out after {TIMEOUT_S:.0f} s",
                       duration_s=time.perf_counter() - start)
    except OSError as exc:
        return replace(base, error=f"could not start racefree run: {exc.strerror or exc}")
    took = time.perf_counter() - start
    if proc.returncode not in (0, EXIT_RACE):
        return replace(base, error=f"racefree run exited {proc.returncode}: {_tail(proc.stderr)}",
                       returncode=proc.returncode, duration_s=took)
    try:
        with open(out, encoding="utf-8") as f:
            document = json.load(f)
        races = _aggregate(document["races"])
        confirmations = tuple((str(r["location"]), str(r["confirmation"]["status"]),
                               str(r["confirmation"]["observed"]))
                              for r in document["races"] if "confirmation" in r)
        line = json.loads(proc.stdout.strip().splitlines()[-1])
        summary, instrumented = str(line["summary"]), tuple(line["instrumented"])
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        return replace(base, error=f"unreadable result ({type(exc).__name__}: {exc}); stderr: "
                       f"{_tail(proc.stderr)}", returncode=proc.returncode, duration_s=took)
    done = replace(base, races=races, returncode=proc.returncode, summary=summary,
                   instrumented=instrumented, duration_s=took, confirmations=confirmations)
    missing = [m for m in modules if m not in instrumented]
    if missing:
        return replace(done, error=f"not instrumented: {', '.join(missing)} ({_tail(proc.stderr)})")
    if (proc.returncode == EXIT_RACE) != bool(races):
        return replace(done, error=f"exit status {proc.returncode} with {len(races)} race(s) in the report")
    return done


@dataclass(frozen=True)
class RowVerdict:
    """A component's verdict in every mode: races found (its own), or the pass's error."""

    component: Component
    found: dict[str, tuple[Found, ...]] = field(default_factory=dict)
    errors: dict[str, str | None] = field(default_factory=dict)
    confirmations: tuple[Verdict, ...] = ()  # of its own python-mode races

    def mode_ok(self, mode: str) -> bool:
        return self.errors.get(mode) is None and bool(self.found.get(mode)) == (mode in self.component.expect)

    @property
    def ok(self) -> bool:
        return all(self.mode_ok(m) for m in MODES)

    def cell(self, mode: str) -> str:
        error = self.errors.get(mode)
        if error is not None:
            return f"ERROR: {error}"
        found = self.found.get(mode, ())
        if not found:
            return "no race"
        if self.component.location is not None:  # its own location (or items of it): the kinds say enough
            return "race: " + ", ".join(sorted({k for k, _, _ in found}))
        return "race: " + "; ".join(f"{k} {loc}" for k, loc, _ in found)

    def problems(self) -> list[str]:
        """One line per mode that does not match (empty when the row matches)."""
        out = []
        for mode in MODES:
            if self.mode_ok(mode):
                continue
            expected = mode in self.component.expect
            error = self.errors.get(mode)
            if error is not None:
                out.append(f"{mode}: no verdict: {error}")
            elif expected:
                out.append(f"{mode}: expected a race, the detector reported none")
            else:
                out.append(f"{mode}: expected no race, the detector reported {self.cell(mode)[6:]}")
        return out

    def as_dict(self) -> dict[str, Any]:
        c = self.component
        return {
            "exercise": c.exercise, "component": c.name, "part": c.part, "go_race": c.go,
            "driver": c.driver, "location": c.location,
            **{mode: {"expected_race": mode in c.expect, "race": bool(self.found.get(mode)),
                      "found": [{"kind": k, "location": loc, "count": n}
                                for k, loc, n in self.found.get(mode, ())],
                      "error": self.errors.get(mode), "match": self.mode_ok(mode)} for mode in MODES},
            "confirmations": [{"location": loc, "status": st, "observed": obs}
                              for loc, st, obs in self.confirmations],
            "match": self.ok,
        }


@dataclass(frozen=True)
class RaceReport:
    """Every component's verdicts, and the passes they came from."""

    rows: tuple[RowVerdict, ...]
    passes: tuple[PassOutcome, ...]
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def failures(self) -> list[RowVerdict]:
        return [r for r in self.rows if not r.ok]

    def as_dict(self) -> dict[str, Any]:
        return {"modes": list(MODES), "threads": THREADS, "ops_per_thread": OPS, "ok": self.ok,
                "duration_s": self.duration_s, "components": [r.as_dict() for r in self.rows],
                "passes": [p.as_dict() for p in self.passes]}


def verdicts(components: Sequence[Component],
             outcomes: dict[tuple[str, str], PassOutcome]) -> list[RowVerdict]:
    """Attribute each pass's races to the components of its driver (leftovers get a row of their own)."""
    rows: list[RowVerdict] = []
    drivers = list(dict.fromkeys((c.exercise, c.driver) for c in components))
    for exercise, driver in drivers:
        mine = [c for c in components if (c.exercise, c.driver) == (exercise, driver)]
        extra = Component(exercise, f"other races in {driver}", UNSAFE, "—", driver, mine[0].modules)
        found: dict[str, dict[str, tuple[Found, ...]]] = {c.key: {} for c in [*mine, extra]}
        errors: dict[str, dict[str, str | None]] = {c.key: {} for c in [*mine, extra]}
        for mode in MODES:
            outcome = outcomes[(driver, mode)]
            left = list(outcome.races)
            for c in mine:
                errors[c.key][mode] = outcome.error
                found[c.key][mode] = tuple(r for r in outcome.races if c.owns(r[1]))
                left = [r for r in left if not c.owns(r[1])]
            found[extra.key][mode] = tuple(left)
        confirmed = outcomes[(driver, "python")].confirmations
        rows += [RowVerdict(c, found[c.key], errors[c.key],
                            tuple(v for v in confirmed if c.location is not None and c.owns(v[0])))
                 for c in mine]
        if any(found[extra.key].values()):
            rows.append(RowVerdict(extra, found[extra.key], {}))
    return rows


def run_race(exercises: Sequence[str], ui: LabUI, runner: PassRunner | None = None,
             workers: int = 2) -> RaceReport:
    """Run the detector passes of `exercises`' components (each driver and mode once), concurrently.

    `runner` runs one pass (default :func:`run_pass`; tests give a fake); an
    exception from it becomes that pass's error.  Blocks until every pass ended
    (each is bounded by ``TIMEOUT_S``).
    """
    run_one = runner or run_pass
    start = time.perf_counter()
    components = [c for c in COMPONENTS if c.exercise in exercises]
    jobs = list(dict.fromkeys((c.driver, c.modules, mode) for c in components for mode in MODES))
    outcomes: dict[tuple[str, str], PassOutcome] = {}
    with tempfile.TemporaryDirectory(prefix="racefree-lab-race-") as workdir, \
            ui.progress(f"race detector: {len(jobs)} passes", len(jobs)) as advance, \
            ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [(job, pool.submit(run_one, job[0], job[1], job[2], workdir)) for job in jobs]
        for (driver, modules, mode), future in futures:
            try:
                outcomes[(driver, mode)] = future.result()
            except Exception as exc:  # a bug in one pass is that pass's error, not the lab's end
                outcomes[(driver, mode)] = PassOutcome(driver, mode, modules,
                                                       error=f"{type(exc).__name__}: {exc}")
            advance(1)
    rows = verdicts(components, outcomes)
    return RaceReport(tuple(rows), tuple(outcomes.values()), time.perf_counter() - start)


def show(report: RaceReport, ui: LabUI) -> None:
    """The "Race detector verdicts" table, and a line per mismatch."""
    ui.section("Race detector verdicts — racefree run vs Go's -race",
               f"each component's driver under `racefree run` in both modes ({THREADS} threads × {OPS} "
               f"operations, one subprocess per pass, {report.duration_s:.1f} s)")
    rows = [(r.component.exercise, r.component.name, r.component.go, r.cell("strict"), r.cell("python"),
             "match" if r.ok else "MISMATCH") for r in report.rows]
    ui.table("Race detector verdicts", ("ex", "component", "Go -race (original)", "racefree strict",
                                        "racefree python", "verdict"), rows, left=6)
    confirmed = [(r.component, v) for r in report.rows for v in r.confirmations]
    if confirmed:
        ui.note("Python-mode races re-run under a directed schedule (racefree run --confirm, seed "
                f"{CONFIRM_SEED}): the harm the plain run may hide, made to happen")
        for component, (location, status, observed) in confirmed:
            word = "CONFIRMED" if status == "confirmed" else "not confirmed"
            ui.note(f"  {component.exercise} {location}: {word}: {observed}",
                    "good" if status == "confirmed" else "warn")
    for r in report.failures:
        for problem in r.problems():
            ui.note(f"MISMATCH {r.component.exercise} {r.component.name}: {problem}", "bad")
    if report.ok:
        ui.note(f"All {len(report.rows)} components match: strict mode reports every race Go's -race "
                f"reports, python mode only those that are bugs in Python too, and the safe parts are "
                f"silent in both.", "good")
