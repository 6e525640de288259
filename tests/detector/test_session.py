"""The detector session both front ends drive: construction, suppressions, findings, rendering."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from racefree.detector import speedups
from racefree.detector.findings import Access, Deadlock, Frame, LockEdge, LockInfo, Race, to_json_document
from racefree.detector.format import format_report
from racefree.detector.session import Session, render, sarif_log
from racefree.errors import UsageError


def _race(location: str = "Counter.n", file: str = "/app/counter.py") -> Race:
    here = (Frame(file, 12, "incr"),)
    return Race("lost-update", location, Access("write", "T2", here), Access("read", "T1", here))


def _deadlock(file: str = "/app/bank.py") -> Deadlock:
    def edge(held: str, acquired: str, thread: str, line: int) -> LockEdge:
        return LockEdge(held, acquired, thread, held_stack=(Frame(file, line, "f"),),
                        acquired_stack=(Frame(file, line + 1, "f"),))

    locks = (LockInfo("M1", "Lock", Frame(file, 5, "__init__")), LockInfo("M2", "Lock", Frame(file, 6, "x")))
    return Deadlock(locks=locks, edges=(edge("M1", "M2", "T2", 10), edge("M2", "M1", "T1", 15)))


class _Engine:
    """Stands for the Detector: what the session takes from it."""

    seed = None

    def __init__(self, races: list[Race], deadlocks: list[Deadlock]) -> None:
        self.races, self.deadlocks = races, deadlocks

    def take_new_races(self) -> list[Race]:
        out, self.races = self.races, []
        return out

    def take_new_deadlocks(self) -> list[Deadlock]:
        out, self.deadlocks = self.deadlocks, []
        return out


SUPPRESS = """\
[[suppress]]
location = "Stats.*"
reason = "approximate"

[[suppress]]
kind = "lock-order-inversion"
site = "bank.py:11"
reason = "one thread at a time in practice"

[[suppress]]
location = "never.*"
reason = "unused"
"""


def _session(tmp_path: Path, races: list[Race], deadlocks: list[Deadlock]) -> Session:
    (tmp_path / "racefree.toml").write_text(SUPPRESS)
    session = Session("python", cwd=tmp_path)
    session.detector = _Engine(races, deadlocks)  # type: ignore[assignment]
    return session


def test_findings_are_taken_once_with_suppressions_applied_to_races_and_deadlocks_alike(
    tmp_path: Path,
) -> None:
    kept, accepted = _race(), _race("Stats.hits")
    session = _session(tmp_path, [kept, accepted], [_deadlock(str(tmp_path / "bank.py"))])
    assert session.take_races() == [kept]
    assert session.take_deadlocks() == []
    assert (session.suppressed, session.suppressed_deadlocks) == (1, 1)
    assert session.take_races() == [] and session.take_deadlocks() == []
    assert session.summary_lines() == [
        "racefree: 1 race(s) suppressed by racefree.toml",
        "racefree: 1 potential deadlock(s) suppressed by racefree.toml",
        "racefree: racefree.toml:10: suppression matched no race (location 'never.*')",
    ]


def test_a_trim_applies_before_the_suppressions(tmp_path: Path) -> None:
    session = _session(tmp_path, [_race("Counter.n")], [])
    assert session.take_races(lambda r: _race("Stats.n")) == []
    assert session.suppressed == 1


def test_an_explicit_file_is_read_relative_to_cwd_and_discovery_starts_at_search_from(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "racefree.toml").write_text(SUPPRESS)
    (tmp_path / "mine.toml").write_text("")
    assert len(Session(search_from=tmp_path / "root", cwd=tmp_path).suppressions) == 3
    explicit = Session(suppressions_file="mine.toml", cwd=tmp_path, search_from=tmp_path / "root")
    assert len(explicit.suppressions) == 0


@pytest.mark.parametrize(("setup", "message"), [
    ({"mode": "fast"}, "mode must be 'python' or 'strict'"),
    ({"env": "fortran"}, "RACEFREE_DETECTOR_BACKEND='fortran'"),
    ({"suppressions_file": "missing.toml"}, "missing.toml"),
])
def test_bad_input_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup: dict[str, Any], message: str
) -> None:
    if "env" in setup:
        monkeypatch.setenv(speedups.ENV, setup.pop("env"))
    with pytest.raises(UsageError, match=message):
        Session(setup.pop("mode", "python"), cwd=tmp_path, **setup)


def test_starting_while_another_detector_records_is_a_usage_error(tmp_path: Path) -> None:
    first, second = Session(cwd=tmp_path), Session(cwd=tmp_path)
    first.start()
    try:
        with pytest.raises(UsageError, match="cannot start the detector: another racefree Detector"):
            second.start()
    finally:
        first.stop()
    first.stop()  # idempotent


def test_one_renderer_per_format(tmp_path: Path) -> None:
    races, deadlocks = [_race()], [_deadlock()]
    assert render("text", races, "python", deadlocks=deadlocks) == format_report(races, deadlocks=deadlocks)
    assert render("text", [], "python") == ""
    assert json.loads(render("json", races, "strict", deadlocks=deadlocks)) == json.loads(
        json.dumps(to_json_document(races, "strict", deadlocks)))
    log = json.loads(render("sarif", races, "python", deadlocks=deadlocks, base=str(tmp_path)))
    assert log == json.loads(json.dumps(sarif_log(races, "python", deadlocks=deadlocks, base=str(tmp_path))))
    assert len(log["runs"][0]["results"]) == 2
    with pytest.raises(ValueError, match="unknown report format 'xml'"):
        render("xml", races, "python")


def test_notes_precede_their_blocks() -> None:
    a, b = _race("A.x"), _race("B.y")
    text = render("text", [a, b], "python", notes=lambda f: "why: B" if f is b else None)
    assert text.index("A.x") < text.index("why: B\n==================\nWARNING") < text.index("B.y")
    assert text.count("why:") == 1


def test_confirm_is_skipped_in_a_confirming_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    session = Session(cwd=tmp_path)
    session.child = object()  # type: ignore[assignment]
    asked: list[Any] = []
    monkeypatch.setattr("racefree.detector.confirm.confirm_races", lambda *a, **k: asked.append(a) or [])
    session.confirm([_race()], ["true"], seed=1, replay="r")
    assert asked == [] and session.confirming_child


def test_confirm_attaches_a_verdict_to_each_race(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    session = Session(cwd=tmp_path)
    seen: dict[str, Any] = {}

    def confirm_races(races: list[Race], argv: list[str], **options: Any) -> list[str]:
        seen.update(options, argv=argv)
        return [f"verdict {i}" for i, _ in enumerate(races)]

    monkeypatch.setattr("racefree.detector.confirm.confirm_races", confirm_races)
    races = [_race(), _race("B.y")]
    session.confirm(races, ["child"], seed=3, replay="again", attempts=2, cwd="/w")
    assert [r.extra["confirmation"] for r in races] == ["verdict 0", "verdict 1"]
    assert seen == {"argv": ["child"], "seed": 3, "replay": "again", "attempts": 2, "cwd": "/w"}


def test_program_finished_hands_the_status_to_a_confirming_child_once(tmp_path: Path) -> None:
    finished: list[int] = []

    class Child:
        def finish(self, status: int) -> None:
            finished.append(status)

    session = Session(cwd=tmp_path)
    session.child = Child()  # type: ignore[assignment]
    session.program_finished(3)
    session.program_finished(4)
    assert finished == [3]
    assert session.confirming_child  # it stays a child: it never confirms


def test_repr_shows_the_state(tmp_path: Path) -> None:
    text = repr(Session("strict", cwd=tmp_path))
    assert text.startswith("<Session mode=strict <Detector mode=strict new")
    assert text.endswith("suppressed=0+0>")


def test_the_text_report_is_unchanged_by_the_notes_hook() -> None:
    race = _race()
    assert format_report([race], notes=lambda f: None) == format_report([race])
    assert format_report([race]).endswith("\nFound 1 data race(s)\n")
    assert format_report([race]).startswith("==================\nWARNING: DATA RACE (lost-update)")
