"""``racefree lab [ex1|ex2|ex3] [--quick] [--race] [--json FILE]``: the course module's exercises, measured.

Exit codes: 0 — every safe component gave exact totals (and, with ``--race``,
every race detector verdict matched); 1 — at least one did not (listed on
stderr); 2 — bad usage (one line on stderr).
"""

from __future__ import annotations

import argparse
import os
import sys

from racefree.errors import EXIT_FAILURE, EXIT_OK, UsageError

# Kept in step with racefree.lab.exercises.EXERCISES (a test pins it); that module
# is imported only when the lab runs, so building the CLI parser stays light.
EXERCISE_NAMES = ("ex1", "ex2", "ex3")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("exit status: 0 when every safe component gave exact totals (and with --race every "
                     "detector verdict matched), 1 when one did not, 2 for bad usage")
    parser.add_argument("exercise", nargs="?", choices=EXERCISE_NAMES,
                        help="run one exercise (default: all three)")
    parser.add_argument("--quick", action="store_true",
                        help="scale iteration counts down (the whole lab in well under a minute)")
    parser.add_argument("--race", action="store_true",
                        help="also run each component under the race detector (racefree run, both modes) "
                             "and compare the verdicts with Go's -race")
    parser.add_argument("--json", metavar="FILE", help="write every figure to FILE as JSON")


def _check_writable(path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"--json {path}: is a directory")
    if not os.path.isdir(directory):
        raise UsageError(f"--json {path}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK):
        raise UsageError(f"--json {path}: directory {directory} is not writable")


def run(args: argparse.Namespace) -> int:
    from racefree.lab.exercises import run_lab, write_json
    from racefree.lab.threads import FULL, QUICK
    from racefree.lab.ui import RichUI

    if args.json:
        _check_writable(args.json)
    names = [args.exercise] if args.exercise else list(EXERCISE_NAMES)
    ui = RichUI()
    result = run_lab(names, QUICK if args.quick else FULL, ui, race=args.race)
    if args.json:
        try:
            write_json(result.document, args.json)
        except OSError as exc:
            raise UsageError(f"--json {args.json}: {exc.strerror or exc}") from None
        ui.note(f"figures written to {args.json}")
    if not result.ok:
        for check in result.failures:
            sys.stderr.write(f"racefree lab: WRONG TOTAL: {check.name}: expected {check.expected}, "
                             f"got {check.actual}\n")
        for row in result.race.failures if result.race is not None else ():
            for problem in row.problems():
                sys.stderr.write(f"racefree lab: RACE VERDICT MISMATCH: {row.component.exercise} "
                                 f"{row.component.name}: {problem}\n")
        return EXIT_FAILURE
    ui.note(f"All {len(result.checks)} checks of the safe components passed.", "good")
    return EXIT_OK
