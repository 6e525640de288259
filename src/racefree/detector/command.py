"""``racefree run``: run a Python program under the race detector.

    racefree run [options] script.py [args...]
    racefree run [options] -m module [args...]

Everything after the script (or after ``-m module``) belongs to the program.
The program runs as ``python`` would run it (see :mod:`racefree.detector.program`),
under one :class:`racefree.detector.session.Session` (the detector, the
suppressions, the report formats: the same object ``pytest --race`` drives);
races and potential deadlocks (lock-order cycles; ``--no-lock-order`` turns
them off) are reported at exit — text on stderr (or ``--output FILE``), or
``--format json``/``sarif``.  Exit status: ``--exitcode`` (66) when a race or a
potential deadlock was reported, else the program's own; 2 for bad input (one
line, no traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from racefree.detector.program import Program, ProgramError, ProgramRunner
from racefree.detector.session import Session
from racefree.errors import EXIT_RACE, UsageError

if TYPE_CHECKING:
    from racefree.detector.findings import Race


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.usage = "racefree run [options] (script.py | -m module) [args...]"
    parser.epilog = (f"Exit status: --exitcode (default {EXIT_RACE}) when a race or a potential deadlock "
                     "is reported, else the "
                     "program's own; 2 for bad input. Options go before the program: everything after "
                     "the script or the module name is the program's.")
    parser.add_argument("--mode", choices=("python", "strict"), default="python",
                        help="python: only races that are bugs even with atomic bytecodes (default); "
                             "strict: Go's definition")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text", dest="fmt",
                        help="report format (default: text)")
    parser.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stderr")
    parser.add_argument("--exitcode", type=int, default=EXIT_RACE, metavar="N",
                        help=f"exit status when a race was reported (default: {EXIT_RACE})")
    parser.add_argument("--include", action="append", default=[], metavar="PATTERN",
                        help="also instrument modules matching this glob (repeatable)")
    parser.add_argument("--exclude", action="append", default=[], metavar="PATTERN",
                        help="never instrument modules matching this glob (repeatable)")
    parser.add_argument("--suppressions", metavar="FILE",
                        help="accepted races (default: racefree.toml or [tool.racefree] found upwards)")
    parser.add_argument("--stress", action="store_true",
                        help="perturb scheduling at instrumented accesses so latent races misbehave")
    parser.add_argument("--seed", type=int, metavar="N",
                        help="the random seed of --stress or --confirm (printed, so a run can be replayed)")
    parser.add_argument("--confirm", action="store_true",
                        help="after a run that reported races, re-run the program under a directed schedule "
                             "per race to show the harm it does (a verdict per race)")
    parser.add_argument("--confirm-attempts", type=int, default=None, metavar="N",
                        help="directed runs per race before it is called not confirmed (default: 3)")
    parser.add_argument("--no-lock-order", dest="lock_order", action="store_false",
                        help="do not report potential deadlocks (locks taken in inconsistent orders)")
    parser.add_argument("-m", dest="module", nargs=argparse.REMAINDER, metavar="module",
                        help="run a library module as a script (the rest are its arguments)")
    parser.add_argument("program", nargs=argparse.REMAINDER, metavar="script.py [args...]",
                        help="the script to run and its arguments")


def program_from(args: argparse.Namespace) -> Program:
    """The program named on the command line (UsageError when there is none)."""
    if args.module is not None:
        if not args.module:
            raise UsageError("argument -m: expected a module name")
        return Program(args.module[0], args.module[1:], as_module=True)
    if not args.program:
        raise UsageError("no program given: racefree run [options] (script.py | -m module) [args...]")
    if args.program[0] == "--":
        args.program = args.program[1:]
        return program_from(args)
    return Program(args.program[0], args.program[1:])


def _confirm(
    args: argparse.Namespace, session: Session, program: Program, races: list[Race], elapsed: float
) -> None:
    """Attach a confirmation verdict to each race (``--confirm``): one directed child run per attempt."""
    from racefree.detector import confirm

    seed = args.seed if args.seed is not None else confirm.new_seed()
    argv = ["-m", program.target, *program.args] if program.as_module else [program.target, *program.args]
    child = confirm.child_command(mode=args.mode, include=args.include, exclude=args.exclude, program=argv)
    replay = " ".join(["racefree", "run", "--confirm", "--seed", str(seed), *_replay_options(args), *argv])
    sys.stderr.write(f"racefree: confirming {len(races)} race(s) under directed schedules, seed {seed}\n")
    sys.stderr.flush()
    session.confirm(races, child, seed=seed, replay=replay, attempts=args.confirm_attempts,
                    timeout=confirm.timeout_for(elapsed))


def _replay_options(args: argparse.Namespace) -> list[str]:
    out = [] if args.mode == "python" else ["--mode", args.mode]
    for pat in args.include:
        out += ["--include", pat]
    for pat in args.exclude:
        out += ["--exclude", pat]
    if args.confirm_attempts:
        out += ["--confirm-attempts", str(args.confirm_attempts)]
    return out


def check_options(args: argparse.Namespace) -> None:
    """UsageError for options that do not go together."""
    if args.seed is not None and not (args.stress or args.confirm):
        raise UsageError("--seed only applies with --stress or --confirm")
    if args.confirm_attempts is not None and not args.confirm:
        raise UsageError("--confirm-attempts only applies with --confirm")
    if args.confirm_attempts is not None and args.confirm_attempts < 1:
        raise UsageError("--confirm-attempts must be at least 1")
    if args.output is not None:
        try:
            with open(args.output, "a"):
                pass
        except OSError as exc:
            raise UsageError(f"cannot write --output {args.output}: {exc.strerror}") from None


def run(
    args: argparse.Namespace,
    *,
    new_session: Callable[..., Session] = Session,
    new_runner: Callable[..., ProgramRunner] = ProgramRunner,
) -> int:
    """Run the program of `args` under a detector session; report; return the exit status.

    `new_session` and `new_runner` make the :class:`Session` and the
    :class:`ProgramRunner` (tests pass fakes).
    """
    check_options(args)
    program = program_from(args)
    session = new_session(args.mode, stress=args.stress, seed=args.seed, lock_order=args.lock_order,
                          suppressions_file=args.suppressions, cwd=os.getcwd())
    runner = new_runner(program, include=args.include, exclude=args.exclude)
    try:
        runner.prepare()
    except ProgramError as exc:
        raise UsageError(str(exc)) from None
    started = time.monotonic()
    try:
        session.start()
        if args.stress:
            sys.stderr.write(f"racefree: stress mode, seed {session.seed}\n")
        status = 1
        try:
            status = runner.run(finalize=True)
        finally:
            session.program_finished(status)
            session.stop()
    finally:
        runner.restore()
    elapsed = time.monotonic() - started
    races, deadlocks = session.take_races(), session.take_deadlocks()
    if args.confirm and races and not session.confirming_child:
        _confirm(args, session, program, races, elapsed)
    document = session.render(args.fmt, races, deadlocks)
    if args.output is not None:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(document)
    elif document:
        sys.stderr.write(document)
    for line in session.summary_lines():
        sys.stderr.write(line + "\n")
    sys.stderr.flush()
    return args.exitcode if races or deadlocks else status
