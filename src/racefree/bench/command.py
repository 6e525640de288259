"""``racefree bench``: measure racefree.sync against named baselines on this interpreter.

Exit codes: 0 when the run completed (a MISSed target is a finding, not a
failure: verdicts from one run on a shared machine are noisy); 2 for bad
options.  ``--json FILE`` writes every ns/op and ratio (``-`` for stdout).
"""

from __future__ import annotations

import argparse
import sys

from racefree.errors import UsageError

__all__ = ["add_arguments", "parse_threads", "run"]


def parse_threads(text: str) -> tuple[int, ...]:
    """``"1,2,4,8"`` -> (1, 2, 4, 8); UsageError for anything else."""
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise UsageError(f"--threads wants comma-separated positive integers, got {text!r}") from None
    if not counts or any(n < 1 or n > 256 for n in counts):
        raise UsageError(f"--threads wants integers between 1 and 256, got {text!r}")
    return tuple(sorted(set(counts)))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from racefree.bench.suites import SUITES

    parser.add_argument("--quick", action="store_true", help="small sizes: finishes in well under 20 s")
    parser.add_argument(
        "--threads", default="1,2,4,8", metavar="N,N,...", help="thread counts (default: 1,2,4,8)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON ('-' = stdout)")
    parser.add_argument(
        "--suite",
        action="append",
        choices=sorted(SUITES),
        help="run only this suite (repeatable; default: all)",
    )
    parser.add_argument(
        "--ops", type=int, metavar="N", help="operations per measurement (overrides the mode)"
    )
    parser.add_argument("--repeats", type=int, metavar="N", help="measurements per cell, best kept")


def run(args: argparse.Namespace) -> int:
    from racefree.bench.collect import run_bench
    from racefree.bench.tables import render, to_json

    threads = parse_threads(args.threads)
    for option in ("ops", "repeats"):
        value = getattr(args, option)
        if value is not None and value < 1:
            raise UsageError(f"--{option} must be a positive integer, got {value}")
    stream = None
    if args.json and args.json != "-":
        try:
            stream = open(args.json, "w", encoding="utf-8")  # noqa: SIM115  (closed below)
        except OSError as exc:
            raise UsageError(f"cannot write --json file {args.json!r}: {exc.strerror}") from None
    try:
        from rich.console import Console

        # With --json -, stdout carries the JSON; the tables go to stderr.
        console = Console(stderr=args.json == "-")
        if not console.is_terminal:  # a file or a pipe: do not squeeze the tables into 80 columns
            console = Console(stderr=args.json == "-", width=150)
        with console.status("measuring...") as status:
            result = run_bench(
                threads,
                quick=args.quick,
                total_ops=args.ops,
                repeats=args.repeats,
                suites=args.suite,
                progress=lambda text: status.update(f"measuring {text}"),
            )
        render(result, console)
        if args.json == "-":
            to_json(result, sys.stdout)
        elif stream is not None:
            to_json(result, stream)
    finally:
        if stream is not None:
            stream.close()
    return 0
