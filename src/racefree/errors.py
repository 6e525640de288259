"""racefree's errors and exit codes: the ground floor every layer may import.

Library code raises these; only :func:`racefree.cli.main` turns them into exit
codes (:func:`exit_code_for`), so no layer needs the CLI to report bad input.
This module imports nothing.

Exit codes (stable, documented in the README):

* 0   — success (for ``run``: the program's own exit code when no race was found)
* 1   — the command ran and failed (for ``lab``: a safe component gave a wrong total)
* 2   — bad usage or bad input: one line on stderr, never a traceback
* 66  — ``racefree run`` found at least one data race (change with ``--exitcode``)
* 130 — interrupted (Ctrl-C)
"""

from __future__ import annotations

__all__ = [
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_RACE",
    "EXIT_USAGE",
    "RacefreeError",
    "UsageError",
    "exit_code_for",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_RACE = 66
EXIT_INTERRUPTED = 130


class RacefreeError(Exception):
    """Base of racefree's own errors: a one-line message meant for the user."""

    exit_code = EXIT_FAILURE


class UsageError(RacefreeError):
    """Bad input from the user (options, files, a program that cannot start): exit code 2."""

    exit_code = EXIT_USAGE


def exit_code_for(exc: RacefreeError) -> int:
    """The process exit code that reports `exc`."""
    return exc.exit_code
