"""Sub-command (being built in this session)."""

from __future__ import annotations

import argparse

from racefree.cli import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs=argparse.REMAINDER)


def run(args: argparse.Namespace) -> int:
    raise UsageError("this command is not built yet")
