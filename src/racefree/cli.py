"""The ``racefree`` command: a thin layer over the library.

Each sub-command lives in its layer as a module with two functions,
``add_arguments(parser)`` and ``run(args) -> int``; this file only wires them
together, so every command can be tested without a subprocess.

Exit codes (documented in the README):

* 0  — success (for ``run``: the program's own exit code when no race was found)
* 1  — the command ran and failed (for ``lab``: a safe component gave a wrong total)
* 2  — bad usage or bad input: one line on stderr, never a traceback
* 66 — ``racefree run`` found at least one data race (change with ``--exitcode``)
"""

from __future__ import annotations

import argparse
import importlib
import sys
import sysconfig
from collections.abc import Sequence

from racefree import __version__

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_RACE = 66

# sub-command -> (module holding add_arguments/run, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "lab": ("racefree.lab.command", "run the course module's three exercises, measured"),
    "run": ("racefree.detector.command", "run a Python program under the race detector"),
    "bench": ("racefree.bench.command", "benchmark racefree.sync against named baselines"),
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"racefree: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit code 2."""


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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="racefree", description="Race-free threaded Python.")
    parser.add_argument("--version", action=_Version, help="show the version and the active back-ends")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        sp = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(sp)
        sp.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args._run(args))
    except UsageError as exc:
        sys.stderr.write(f"racefree {args.command}: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("racefree: interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
