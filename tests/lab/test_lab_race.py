"""`racefree lab --race`: the detector's verdicts per component, next to Go's -race, and the exit rule."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from racefree.cli import main
from racefree.lab import exercises, race, race_drivers
from racefree.lab.race import COMPONENTS, PassOutcome, RaceReport, run_pass, run_race, show, verdicts
from racefree.lab.threads import Check
from racefree.lab.ui import NullUI, RichUI

GO_PARTS = [c for c in COMPONENTS if c.part != race.PYTHON_ONLY]


def _rows(doc: dict[str, Any], exercise: str) -> dict[str, dict[str, Any]]:
    return {r["component"]: r for r in doc["race"]["components"] if r["exercise"] == exercise}


# -- the expectations: what Go's -race reports, and our port's two modes --------------------------

def test_expectations_are_the_issues() -> None:
    def expected(mode: str) -> set[str | None]:
        return {c.location for c in GO_PARTS if mode in c.expect}

    assert expected("strict") == {"UnsafeCounter.value", "dict UnsafeTaskRegistry.tasks",
                                  "UnsafeProcessor.tasks_processed", "UnsafeProcessor.last_processed",
                                  "UnsafeProcessor.errors_occurred"}
    assert expected("python") == {"UnsafeCounter.value", "UnsafeProcessor.tasks_processed",
                                  "UnsafeProcessor.errors_occurred"}
    safe = [c for c in COMPONENTS if c.part == race.SAFE]
    assert safe and all(c.expect == () and c.location is None for c in safe)
    # Go's -race reports a race exactly where an unsafe component is
    assert all(c.go.startswith("DATA RACE") == (c.part == race.UNSAFE) for c in GO_PARTS)
    assert {c.exercise for c in COMPONENTS if c.part == race.UNSAFE} == {"ex1", "ex3"}  # ex2: nothing
    for c in COMPONENTS:
        assert c.driver in race_drivers.DRIVERS
        assert all(d.modules == c.modules for d in COMPONENTS if d.driver == c.driver)


# -- end to end, on the real detector -----------------------------------------------------------

def test_lab_ex1_race_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "lab.json"
    assert main(["lab", "ex1", "--race", "--quick", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    for title in ("Race detector verdicts", "Go -race (original)", "racefree strict", "racefree python",
                  "UnsafeCounter.value", "All 2 components match"):
        assert title in text
    doc = json.loads(out.read_text())
    assert doc["ok"] is True and doc["race"]["ok"] is True
    rows = _rows(doc, "ex1")
    assert set(rows) == {"UnsafeCounter.value", "AtomicCounter"}
    unsafe, atomic = rows["UnsafeCounter.value"], rows["AtomicCounter"]
    assert unsafe["go_race"].startswith("DATA RACE") and atomic["go_race"].startswith("no race")
    assert [f["kind"] for f in unsafe["strict"]["found"]] == ["data-race"]
    assert [f["kind"] for f in unsafe["python"]["found"]] == ["lost-update"]
    assert {f["location"] for m in race.MODES for f in unsafe[m]["found"]} == {"UnsafeCounter.value"}
    for mode in race.MODES:
        assert unsafe[mode]["race"] is True and unsafe[mode]["match"] is True
        assert atomic[mode] == {"expected_race": False, "race": False, "found": [], "error": None,
                                "match": True}
    # the python-mode pass of the unsafe counter ran with --confirm: the lost increment was made to happen
    (verdict,) = unsafe["confirmations"]
    assert verdict["status"] == "confirmed", verdict
    assert "after both threads read" in verdict["observed"] and "one update is lost" in verdict["observed"]
    assert atomic["confirmations"] == []
    assert "UnsafeCounter.value: CONFIRMED: UnsafeCounter.value written" in " ".join(text.split())
    passes = doc["race"]["passes"]
    assert {(p["driver"], p["mode"]) for p in passes} == {
        (d, m) for d in ("unsafe_counter", "atomic_counter") for m in race.MODES}
    for p in passes:
        assert p["error"] is None and set(p["modules"]) <= set(p["instrumented"])
        assert p["returncode"] == (66 if p["driver"] == "unsafe_counter" else 0)


def test_exercise_3_unsafe_parts_on_the_real_detector(tmp_path: Path) -> None:
    """The registry map and the processor's three fields: exactly the expected modes find each."""
    picked = [c for c in COMPONENTS if c.driver in ("unsafe_registry", "unsafe_processor")]
    outcomes = {(c.driver, m): run_pass(c.driver, c.modules, m, str(tmp_path))
                for c in {c.driver: c for c in picked}.values() for m in race.MODES}
    rows = verdicts(picked, outcomes)
    assert [r.component.name for r in rows] == [c.name for c in picked]  # and no race on anything else
    assert [r.component.name for r in rows if not r.ok] == [], [r.problems() for r in rows]


# -- the exit rule: a missed race, a reported safe part, a pass with no verdict -----------------

def _fake_exercise(scale: Any, ui: Any) -> tuple[dict[str, Any], list[Check]]:
    return {"ran": True}, [Check("ex1 total", 1, 1)]


def _lab(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake: Any) -> tuple[int, dict[str, Any]]:
    """``racefree lab ex1 --race --json`` with a stand-in exercise and detector passes."""
    monkeypatch.setitem(exercises.EXERCISES, "ex1", _fake_exercise)
    monkeypatch.setattr(race, "run_pass", fake)
    out = tmp_path / "lab.json"
    code = main(["lab", "ex1", "--race", "--json", str(out)])
    return code, json.loads(out.read_text())


def test_a_missed_race_exits_1_and_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    def silent(driver: str, modules: tuple[str, ...], mode: str, workdir: str) -> PassOutcome:
        return PassOutcome(driver, mode, modules, returncode=0, instrumented=modules)

    code, doc = _lab(monkeypatch, tmp_path, silent)
    assert code == 1
    err = capsys.readouterr().err
    assert err == ("racefree lab: RACE VERDICT MISMATCH: ex1 UnsafeCounter.value: strict: expected a race, "
                   "the detector reported none\n"
                   "racefree lab: RACE VERDICT MISMATCH: ex1 UnsafeCounter.value: python: expected a race, "
                   "the detector reported none\n")
    assert doc["ok"] is False and doc["race"]["ok"] is False
    assert all(c["ok"] for c in doc["checks"])  # the totals were right: the verdict alone fails the lab
    assert _rows(doc, "ex1")["AtomicCounter"]["match"] is True


def test_a_reported_safe_part_and_a_stray_race_exit_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    def noisy(driver: str, modules: tuple[str, ...], mode: str, workdir: str) -> PassOutcome:
        races = {"unsafe_counter": (("lost-update", "UnsafeCounter.value", 3), ("data-race", "Other.x", 1)),
                 "atomic_counter": (("data-race", "AtomicCounter._value", 2),)}[driver]
        return PassOutcome(driver, mode, modules, races=races, returncode=66, instrumented=modules)

    code, doc = _lab(monkeypatch, tmp_path, noisy)
    assert code == 1
    err = capsys.readouterr().err
    assert "ex1 AtomicCounter: strict: expected no race, the detector reported data-race " \
           "AtomicCounter._value" in err
    assert "ex1 other races in unsafe_counter: python: expected no race" in err
    rows = _rows(doc, "ex1")
    assert rows["UnsafeCounter.value"]["match"] is True  # its own location, whatever the kind
    assert rows["other races in unsafe_counter"]["strict"]["found"] == [
        {"kind": "data-race", "location": "Other.x", "count": 1}]


def test_a_pass_without_a_verdict_is_a_mismatch_even_for_a_safe_part() -> None:
    def broken(driver: str, modules: tuple[str, ...], mode: str, workdir: str) -> PassOutcome:
        return PassOutcome(driver, mode, modules, error="racefree run exited 1: boom", returncode=1)

    report = run_race(["ex1"], NullUI(), runner=broken)
    assert not report.ok and len(report.failures) == 2
    atomic = report.rows[1]
    assert atomic.cell("strict") == "ERROR: racefree run exited 1: boom"
    assert atomic.problems() == ["strict: no verdict: racefree run exited 1: boom",
                                 "python: no verdict: racefree run exited 1: boom"]

    def crashing(driver: str, modules: tuple[str, ...], mode: str, workdir: str) -> PassOutcome:
        if driver == "atomic_counter":
            raise RuntimeError("bug in a pass")
        return PassOutcome(driver, mode, modules, races=(("data-race", "UnsafeCounter.value", 1),))

    report = run_race(["ex1"], NullUI(), runner=crashing)
    unsafe, atomic = report.rows
    assert unsafe.ok  # the other pass still gives its verdict
    assert atomic.errors == {"strict": "RuntimeError: bug in a pass", "python": "RuntimeError: bug in a pass"}


# -- run_pass's own failure reports, on the real racefree run --------------------------------------

def test_run_pass_reports_a_failed_run_and_uninstrumented_modules(tmp_path: Path) -> None:
    bad = run_pass("no_such_driver", (), "strict", str(tmp_path))
    assert bad.returncode == 2 and bad.error is not None and "usage: race_drivers" in bad.error
    missing = run_pass("mutex_counter", ("racefree.lab.counters", "racefree.lab.no_such_module"), "python",
                       str(tmp_path))
    assert missing.error is not None
    assert missing.error.startswith("not instrumented: racefree.lab.no_such_module")
    assert missing.instrumented == ("racefree.lab.counters",) and missing.races == ()


def test_drivers_reject_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["nope"], ["unsafe_counter", "2"], ["unsafe_counter", "x", "2"],
                 ["unsafe_counter", "0", "2"]):
        assert race_drivers.main(argv) == 2
    assert capsys.readouterr().err.startswith("usage: race_drivers (unsafe_counter|")
    assert race_drivers.main(["mutex_counter", "2", "3"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line == {"driver": "mutex_counter", "summary": "value 6 of 6", "instrumented": []}


# -- the table ------------------------------------------------------------------------------------

def test_table_shows_every_column_and_cells_are_not_markup() -> None:
    c = next(c for c in COMPONENTS if c.driver == "type_counter")
    found = (("lost-update", "dict UnsafeTypeCounter.counts['db_update']", 4),)
    outcomes = {(c.driver, m): PassOutcome(c.driver, m, c.modules, races=found if m == "python" else ())
                for m in race.MODES}
    report = RaceReport(tuple(verdicts([c], outcomes)), tuple(outcomes.values()))
    buf = io.StringIO()
    show(report, RichUI(file=buf))
    text = buf.getvalue()
    for piece in ("Race detector verdicts", "Go -race (original)", "racefree strict", "racefree python",
                  "verdict", "— (not in Go)", "race: lost-update", "MISMATCH",
                  "MISMATCH ex3 UnsafeTypeCounter.counts: strict: expected a race, "
                  "the detector reported none"):
        assert piece in text
    safe = next(c for c in COMPONENTS if c.driver == "safe_registry")
    leak = {(safe.driver, m): PassOutcome(safe.driver, m, safe.modules, races=found) for m in race.MODES}
    row = verdicts([safe], leak)[0]
    # a safe row names the location too: it owns every race of its pass
    assert row.cell("python") == "race: lost-update dict UnsafeTypeCounter.counts['db_update']"
