"""How the lab shows what it measures: a small protocol, a silent implementation, a rich one.

The exercises compute their figures and call a :class:`LabUI` to show them, so
they run the same under the CLI (:class:`RichUI`) and in tests (:class:`NullUI`).
``rich`` is imported only by :class:`RichUI`.

Invariants: :class:`RichUI`'s monitor table is changed only under
``_monitor_lock`` (samples arrive from the workload's monitor thread); rich's
``Live`` and ``Progress`` do their own locking for refreshes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import IO, Any, Protocol

from racefree.automation.workload import MonitorSample

__all__ = ["LabUI", "NullUI", "RichUI"]

Advance = Callable[[int], None]
OnSample = Callable[[MonitorSample], None]


class LabUI(Protocol):
    """What an exercise needs to show its results."""

    def section(self, title: str, subtitle: str) -> None:
        """Start an exercise (or a part of one)."""

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[object]], *,
              left: int = 1) -> None:
        """Show figures as a table (the first `left` columns are text, the others figures)."""

    def note(self, text: str, style: str = "") -> None:
        """Show one explanatory line (style: "", "good", "bad", "warn")."""

    def progress(self, description: str, total: int) -> AbstractContextManager[Advance]:
        """A progress bar for a long part; the context value advances it."""

    def monitor(self, title: str, ticks: int) -> AbstractContextManager[OnSample]:
        """A live view of the workload monitor; the context value takes each sample."""


class NullUI:
    """Shows nothing (tests, ``--json`` without a terminal)."""

    def section(self, title: str, subtitle: str) -> None:
        pass

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[object]], *,
              left: int = 1) -> None:
        pass

    def note(self, text: str, style: str = "") -> None:
        pass

    @contextmanager
    def progress(self, description: str, total: int) -> Iterator[Advance]:
        yield lambda n: None

    @contextmanager
    def monitor(self, title: str, ticks: int) -> Iterator[OnSample]:
        yield lambda sample: None


_STYLES = {"": "", "good": "green", "bad": "bold red", "warn": "yellow"}


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


class RichUI:
    """Tables, a live monitor and progress bars on a terminal, through ``rich``."""

    def __init__(self, file: IO[str] | None = None) -> None:
        from rich.console import Console

        self.console = Console(file=file, highlight=False)
        if not self.console.is_terminal:
            self.console.width = 120  # a log or a pipe: no terminal width to follow
        self._monitor_lock = threading.Lock()

    def section(self, title: str, subtitle: str) -> None:
        from rich.rule import Rule

        self.console.print()
        self.console.print(Rule(f"[bold]{title}"))
        self.console.print(f"[dim]{subtitle}")

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[object]], *,
              left: int = 1) -> None:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=title, title_justify="left", title_style="bold")
        for i, col in enumerate(columns):
            table.add_column(col, justify="left" if i < left else "right")
        for row in rows:
            table.add_row(*(Text(_cell(v)) for v in row))  # Text: cells are never markup
        self.console.print(table)

    def note(self, text: str, style: str = "") -> None:
        from rich.markup import escape

        markup = _STYLES.get(style, "")
        self.console.print(f"[{markup}]{escape(text)}[/]" if markup else escape(text))

    @contextmanager
    def progress(self, description: str, total: int) -> Iterator[Advance]:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=self.console, transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield lambda n: bar.advance(task, n)

    @contextmanager
    def monitor(self, title: str, ticks: int) -> Iterator[OnSample]:
        from rich.live import Live
        from rich.table import Table

        columns = ("tick", "at s", "tasks", "errors", "bytes", "requests", "workers", "idle ms")

        def fresh() -> Table:
            table = Table(title=title, title_justify="left", title_style="bold")
            for i, col in enumerate(columns):
                table.add_column(col, justify="left" if i == 0 else "right")
            return table

        state: dict[str, Any] = {"table": fresh()}

        with Live(state["table"], console=self.console, refresh_per_second=8) as live:
            def on_sample(sample: MonitorSample) -> None:
                s = sample.snapshot
                with self._monitor_lock:
                    state["table"].add_row(
                        f"{sample.tick}/{ticks}", f"{sample.elapsed:.2f}", _cell(s.tasks_processed),
                        _cell(s.errors), _cell(s.bytes_processed), _cell(s.requests),
                        str(len(s.active_workers)), f"{sample.since_activity * 1000:.0f}")
                    live.update(state["table"])

            yield on_sample
        self.console.print()
