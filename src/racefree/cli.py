"""The ``racefree`` command: a thin layer over the library.

Each sub-command lives in its layer as a module with two functions,
``add_arguments(parser)`` and ``run(args) -> int``; this file only wires them
together, so every command can be tested without a subprocess.

Errors and exit codes live on the ground floor, :mod:`racefree.errors`; the
commands raise its errors and :func:`main` alone maps them to exit codes.
The parser is built for the command being run only: ``racefree --help`` imports
no command module, ``racefree run`` imports only the detector's.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import sysconfig
from collections.abc import Sequence
from typing import Any

from racefree import __version__
from racefree.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_RACE,
    EXIT_USAGE,
    RacefreeError,
    UsageError,
    exit_code_for,
)

__all__ = [
    "COMMANDS", "EXIT_FAILURE", "EXIT_OK", "EXIT_RACE", "EXIT_USAGE", "UsageError", "build_parser", "main",
    "version_text",
]

# sub-command -> (module holding add_arguments/run, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "lab": ("racefree.lab.command", "run the course module's three exercises, measured"),
    "run": ("racefree.detector.command", "run a Python program under the race detector"),
    "bench": ("racefree.bench.command", "benchmark racefree.sync against named baselines"),
}


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``, without importing shutil (and its compression modules)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
        columns = columns or 80
    return columns


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter; its width found as argparse finds it, but without shutil.

    argparse makes a formatter for every ``add_argument`` (to check the option's
    metavar), and its default one imports shutil for the terminal width: ~5 ms of
    every ``racefree run`` start-up.
    """

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _terminal_columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"racefree: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


class _Version(argparse.Action):
    """``--version``: racefree's version and which implementations are active, and why."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)  # type: ignore[arg-type]

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(version_text())
        parser.exit()


def version_text() -> str:
    from racefree.detector import speedups
    from racefree.sync import backend_info

    try:
        detector, why = speedups.choose()
    except speedups.BackendError as exc:
        detector, why = "invalid", str(exc)
    sync = backend_info()
    free_threaded = " free-threaded" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""
    return (
        f"racefree {__version__} (Python {sys.version.split()[0]}{free_threaded})\n"
        f"  racefree.sync atomics: {sync.name} ({sync.reason})\n"
        f"  detector fast path: {detector} ({why})"
    )


def _command_named(argv: Sequence[str]) -> str | None:
    """The sub-command `argv` names: its first word that is not an option (the top level takes no values)."""
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``racefree`` parser; given the `argv` it will parse, only the command named there gets its options.

    Every command is listed (for ``--help``), but a command's module is imported
    only when its options are needed, so ``racefree --help`` stays light.
    """
    wanted = _command_named(argv) if argv is not None else None
    parser = _Parser(prog="racefree", description="Race-free threaded Python.")
    parser.add_argument("--version", action=_Version, help="show the version and the active back-ends")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module_name, help_text) in COMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        if argv is None or name == wanted:
            module = importlib.import_module(module_name)
            module.add_arguments(sp)
            sp.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``racefree`` command line; the one place where errors become exit codes."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args._run(args))
    except RacefreeError as exc:
        sys.stderr.write(f"racefree {args.command}: error: {exc}\n")
        return exit_code_for(exc)
    except KeyboardInterrupt:
        sys.stderr.write("racefree: interrupted\n")
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
