"""``racefree run``'s command in-process, against a fake session and a fake program runner.

The command is a thin script over :class:`racefree.detector.session.Session` and
:class:`racefree.detector.program.ProgramRunner`: these tests pin the exact calls it
makes, the exit status it returns and what it writes, without running a program
(tests/detector/test_run_cli.py runs real programs in a subprocess).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from racefree.cli import build_parser
from racefree.detector import command, confirm
from racefree.detector.findings import Access, Frame, Race
from racefree.detector.program import Program, ProgramError
from racefree.errors import EXIT_RACE, UsageError


def _race() -> Race:
    here = (Frame("/app/counter.py", 12, "incr"),)
    return Race("lost-update", "Counter.n", Access("write", "T2", here), Access("read", "T1", here))


class FakeSession:
    """Records every call the command makes; hands out the findings it was given."""

    def __init__(self, calls: list[Any], races: list[Race], child: bool = False) -> None:
        self.calls, self.races, self.child = calls, races, child
        self.seed = 77

    def __call__(self, mode: str, **options: Any) -> FakeSession:  # the command's new_session
        self.calls.append(("Session", mode, options))
        return self

    def start(self) -> None:
        self.calls.append("start")

    def program_finished(self, status: int) -> None:
        self.calls.append(("program_finished", status))

    def stop(self) -> None:
        self.calls.append("stop")

    def take_races(self) -> list[Race]:
        self.calls.append("take_races")
        return list(self.races)

    def take_deadlocks(self) -> list[Any]:
        self.calls.append("take_deadlocks")
        return []

    @property
    def confirming_child(self) -> bool:
        return self.child

    def confirm(self, races: list[Race], child_argv: list[str], **options: Any) -> None:
        self.calls.append(("confirm", len(races), child_argv, sorted(options)))

    def render(self, fmt: str, races: list[Race], deadlocks: list[Any]) -> str:
        self.calls.append(("render", fmt, len(races)))
        return f"<{fmt} report of {len(races)}>\n" if races else ""

    def summary_lines(self) -> list[str]:
        self.calls.append("summary_lines")
        return ["racefree: 1 race(s) suppressed by racefree.toml"]


class FakeRunner:
    def __init__(self, calls: list[Any], status: int = 0, error: str | None = None) -> None:
        self.calls, self.status, self.error = calls, status, error

    def __call__(self, program: Program, **options: Any) -> FakeRunner:  # the command's new_runner
        self.calls.append(("Runner", program, options))
        return self

    def prepare(self) -> None:
        self.calls.append("prepare")
        if self.error:
            raise ProgramError(self.error)

    def run(self, *, finalize: bool) -> int:
        self.calls.append(("run", finalize))
        return self.status

    def restore(self) -> None:
        self.calls.append("restore")


def _args(*argv: str) -> argparse.Namespace:
    return build_parser(["run", *argv]).parse_args(["run", *argv])


def _run(argv: list[str], races: list[Race], *, status: int = 0, child: bool = False,
         error: str | None = None) -> tuple[int, list[Any]]:
    calls: list[Any] = []
    code = command.run(_args(*argv), new_session=FakeSession(calls, races, child),  # type: ignore[arg-type]
                       new_runner=FakeRunner(calls, status, error))  # type: ignore[arg-type]
    return code, calls


def test_a_clean_run_is_these_calls_in_this_order_and_keeps_the_program_status(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, calls = _run(["--mode", "strict", "--no-lock-order", "--include", "app.*", "prog.py", "-v"], [],
                       status=3)
    assert code == 3
    assert calls == [
        ("Session", "strict", {"stress": False, "seed": None, "lock_order": False, "suppressions_file": None,
                               "cwd": str(tmp_path)}),
        ("Runner", Program("prog.py", ["-v"]), {"include": ["app.*"], "exclude": []}),
        "prepare", "start", ("run", True), ("program_finished", 3), "stop", "restore",
        "take_races", "take_deadlocks", ("render", "text", 0), "summary_lines",
    ]
    assert capsys.readouterr().err == "racefree: 1 race(s) suppressed by racefree.toml\n"


def test_a_race_gives_the_race_exit_code_and_the_report_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, calls = _run(["--format", "json", "-m", "app", "x"], [_race()])
    assert code == EXIT_RACE
    assert calls[1] == ("Runner", Program("app", ["x"], as_module=True), {"include": [], "exclude": []})
    assert ("render", "json", 1) in calls
    assert capsys.readouterr().err.startswith("<json report of 1>\n")


def test_exitcode_and_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.sarif"
    code, _ = _run(["--exitcode", "9", "--format", "sarif", "--output", str(out), "prog.py"], [_race()])
    assert code == 9
    assert out.read_text() == "<sarif report of 1>\n"
    assert "report" not in capsys.readouterr().err


def test_stress_prints_the_session_seed(capsys: pytest.CaptureFixture[str]) -> None:
    code, calls = _run(["--stress", "prog.py"], [])
    assert code == 0
    assert calls[0][2]["stress"] is True
    assert "racefree: stress mode, seed 77\n" in capsys.readouterr().err


def test_the_runner_is_restored_and_the_session_stopped_when_the_program_fails() -> None:
    calls: list[Any] = []

    class Boom(FakeRunner):
        def run(self, *, finalize: bool) -> int:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        command.run(_args("prog.py"), new_session=FakeSession(calls, []),  # type: ignore[arg-type]
                    new_runner=Boom(calls))  # type: ignore[arg-type]
    assert calls[-3:] == [("program_finished", 1), "stop", "restore"]


def test_a_program_that_cannot_start_is_a_usage_error_before_the_detector_starts() -> None:
    calls: list[Any] = []
    with pytest.raises(UsageError, match=r"can't open file 'nope\.py'"):
        command.run(_args("nope.py"), new_session=FakeSession(calls, []),  # type: ignore[arg-type]
                    new_runner=FakeRunner(calls, error="can't open file 'nope.py': no such file"))  # type: ignore[arg-type]
    assert "start" not in calls


def test_confirm_asks_the_session_with_a_child_command_and_a_replay_line(
    capsys: pytest.CaptureFixture[str]
) -> None:
    code, calls = _run(["--confirm", "--seed", "5", "--confirm-attempts", "2", "prog.py", "a"], [_race()])
    assert code == EXIT_RACE
    (asked,) = [c for c in calls if c[0] == "confirm"]
    assert asked[:3] == ("confirm", 1, confirm.child_command(mode="python", include=[], exclude=[],
                                                            program=["prog.py", "a"]))
    assert asked[3] == ["attempts", "replay", "seed", "timeout"]
    assert calls.index(asked) < calls.index(("render", "text", 1))  # the verdicts are in the report
    assert "confirming 1 race(s) under directed schedules, seed 5" in capsys.readouterr().err


def test_a_confirming_child_does_not_confirm_in_turn() -> None:
    _, calls = _run(["--confirm", "prog.py"], [_race()], child=True)
    assert not [c for c in calls if c[0] == "confirm"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--seed", "1", "prog.py"], "--seed only applies with --stress or --confirm"),
    (["--confirm-attempts", "2", "prog.py"], "--confirm-attempts only applies with --confirm"),
    (["--confirm", "--confirm-attempts", "0", "prog.py"], "--confirm-attempts must be at least 1"),
    ([], "no program given"),
])
def test_bad_options_are_usage_errors_before_a_session_exists(argv: list[str], message: str) -> None:
    calls: list[Any] = []
    with pytest.raises(UsageError, match=message):
        command.run(_args(*argv), new_session=FakeSession(calls, []),  # type: ignore[arg-type]
                    new_runner=FakeRunner(calls))  # type: ignore[arg-type]
    assert calls == []
