"""Render a :class:`~racefree.bench.results.BenchResult` as rich tables (imported lazily) or JSON."""

from __future__ import annotations

import json
from typing import IO, Any

from racefree.bench.results import BenchResult, SuiteResult, TargetResult

__all__ = ["render", "to_json"]

_ROLE_STYLE = {"racefree": "bold cyan", "baseline": "", "floor": "dim", "peer": "magenta"}
_STATUS_STYLE = {"PASS": "bold green", "MISS": "bold red", "N/A": "yellow"}


def to_json(result: BenchResult, stream: IO[str]) -> None:
    json.dump(result.as_dict(), stream, indent=2, sort_keys=False)
    stream.write("\n")


def _fmt_ns(ns: float) -> str:
    return f"{ns:,.0f}" if ns >= 100 else f"{ns:.1f}"


def _suite_table(suite: SuiteResult) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=suite.title, title_justify="left", show_lines=False)
    table.add_column("implementation", no_wrap=True)
    table.add_column("role")
    for n in suite.threads:
        table.add_column(f"{n} thread{'s' if n > 1 else ''}\nns/op (x base)", justify="right", no_wrap=True)
    for row in suite.rows:
        name = Text(row.name + (f" ({row.note})" if row.note else ""))  # Text: "[...]" is not markup
        cells = [f"{_fmt_ns(row.ns_per_op[n])} ({row.ratio[n]:.2f})" for n in suite.threads]
        table.add_row(name, row.role, *cells, style=_ROLE_STYLE.get(row.role, ""))
    table.caption = f"x base = ns/op divided by '{suite.baseline}' at the same thread count"
    for note in suite.notes:
        table.caption += f"\n{note}"
    return table


def _value(t: TargetResult) -> str:
    if t.value is None:
        return "-"
    return f"{t.value:.0f} ns" if t.unit == "ns" else f"{t.value:.2f}x"


def _targets_table(targets: tuple[TargetResult, ...]) -> Any:
    from rich.table import Table

    table = Table(
        title="Targets (issues 2 and 11) - one run on a shared machine: noisy", title_justify="left"
    )
    for col in ("target", "measured", "limit", "verdict", "detail"):
        table.add_column(col)
    for t in targets:
        limit = f"{t.comparison} {t.limit:g} {'ns' if t.unit == 'ns' else 'x'}"
        table.add_row(t.description, _value(t), limit, f"[{_STATUS_STYLE[t.status]}]{t.status}[/]", t.detail)
    return table


def render(result: BenchResult, console: Any = None) -> None:
    """Print the run: interpreter and back-end, one table per suite, the targets."""
    from rich.console import Console
    from rich.text import Text

    out = console or Console()
    out.print(Text.assemble(("racefree bench", "bold"), f" on {result.build.describe()}"))
    out.print(Text.assemble("racefree.sync back-end: ", (result.backend.describe(), "bold")))
    mode = "quick" if result.quick else "full"
    out.print(f"{mode} run: {result.total_ops:,} operations per measurement, best of {result.repeats}")
    if result.skipped_peers:
        skipped = ", ".join(f"{k} ({v})" for k, v in result.skipped_peers.items())
        out.print(Text(f"peers not measured: {skipped}"))
    if result.build.free_threaded_build and result.gil_enabled_at_end:
        out.print("[bold red]warning: the GIL was enabled during this run; free-threaded numbers are void[/]")
    for suite in result.suites.values():
        out.print()
        out.print(_suite_table(suite))
    out.print()
    out.print(_targets_table(result.targets))
    out.print(f"({result.seconds:.1f} s)")
