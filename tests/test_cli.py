"""The top-level ``racefree`` command: ``--version``, the lazily built parser, errors mapped to exit codes."""

from __future__ import annotations

from typing import Any

import pytest

from racefree import __version__, cli, errors
from racefree.detector import speedups


def test_version_names_version_and_backends(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"racefree {__version__} (Python ")
    assert "racefree.sync atomics: " in out
    backend, why = speedups.choose()
    assert f"detector fast path: {backend} ({why})" in out


def test_version_reports_a_bad_backend_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(speedups.ENV, "nope")
    assert "detector fast path: invalid (RACEFREE_DETECTOR_BACKEND='nope'" in cli.version_text()


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name, (_, help_text) in cli.COMMANDS.items():
        assert f"{name}  " in out and help_text in out


def test_only_the_named_command_gets_its_options() -> None:
    parser = cli.build_parser(["--version", "run", "--mode", "strict", "x.py"])
    args = parser.parse_args(["run", "--mode", "strict", "x.py"])
    assert (args.command, args.mode, args.program) == ("run", "strict", ["x.py"])
    with pytest.raises(SystemExit):  # lab was not configured: its options are unknown
        parser.parse_args(["lab", "--quick"])
    full = cli.build_parser()
    assert full.parse_args(["lab", "--quick"]).quick is True


class _Refused(errors.RacefreeError):
    exit_code = 7


@pytest.mark.parametrize(("exc", "code"), [
    (errors.UsageError("bad input"), errors.EXIT_USAGE),
    (_Refused("refused"), 7),
    (errors.RacefreeError("failed"), errors.EXIT_FAILURE),
])
def test_main_maps_library_errors_to_exit_codes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], exc: Exception, code: int
) -> None:
    from racefree.detector import command

    def run(args: object) -> int:
        raise exc

    monkeypatch.setattr(command, "run", run)
    assert cli.main(["run", "x.py"]) == code
    assert capsys.readouterr().err == f"racefree run: error: {exc}\n"


def test_cli_reexports_the_ground_floor() -> None:
    assert cli.UsageError is errors.UsageError
    assert (cli.EXIT_OK, cli.EXIT_FAILURE, cli.EXIT_USAGE, cli.EXIT_RACE) == (0, 1, 2, 66)
    assert errors.exit_code_for(errors.UsageError("x")) == 2


def test_errors_front_door() -> None:
    assert errors.__all__ == ["EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_RACE", "EXIT_USAGE",
                              "RacefreeError", "UsageError", "exit_code_for"]


def _commands(parser: Any) -> dict[str, Any]:
    return dict(parser._subparsers._group_actions[0].choices)


@pytest.mark.parametrize("columns", ["50", "120", "", "junk", "-3"])
def test_help_is_formatted_as_argparse_formats_it(monkeypatch: pytest.MonkeyPatch, columns: str) -> None:
    # the parser's formatter finds the width without importing shutil (start-up), and finds the same one
    import argparse

    monkeypatch.setenv("COLUMNS", columns)
    ours = cli.build_parser(["run"])
    theirs = cli.build_parser(["run"])
    for parser in (theirs, *_commands(theirs).values()):
        parser.formatter_class = argparse.HelpFormatter
    assert ours.format_help() == theirs.format_help()
    assert _commands(ours)["run"].format_help() == _commands(theirs)["run"].format_help()
    assert type(_commands(ours)["run"]._get_formatter()).__name__ == "_Formatter"
