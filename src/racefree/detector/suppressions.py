"""Accepted races: a suppressions file, matched against reports.

A suppression names a race the project has decided to live with, and why::

    # racefree.toml
    [[suppress]]
    location = "Stats.hits"            # glob on the race's location
    site = "src/app/stats.py:record"   # glob: path:line or path:function
    kind = "lost-update"               # optional: data-race, lost-update, check-then-act, iteration
    reason = "approximate metrics: losing an increment now and then is fine"

or the same entries under ``[tool.racefree]`` in ``pyproject.toml``
(``suppress = [{location = "...", reason = "..."}]`` or
``[[tool.racefree.suppress]]`` tables).

Matching (all given fields must match; ``reason`` and at least one of
``location``/``site`` are required):

* ``location`` is matched against the whole location string of the report
  (``Counter.n``, ``global total``, ``dict registry['cfg']``); a race on several
  keys of one container is one report whose location is ``dict registry[*]``,
  so ``dict registry[*]`` (or ``dict registry*``) accepts it whatever the keys;
  a pattern naming keys accepts it only when it matches every key the report
  lists (all of them, when there are at most five);
* ``site`` is ``PATH:LINE`` or ``PATH:FUNCTION``; it matches when the
  innermost frame of *either* access (the two code sites of the race) has that
  path and that line, or that function.  PATH is matched against the frame's
  file relative to the directory holding the suppressions file (absolute when
  the file is elsewhere), and also at any depth: ``stats.py`` matches
  ``src/app/stats.py``;
* patterns are globs in which only ``*`` (any run of characters, ``/``
  included) and ``?`` (one character) are special, so brackets in
  ``dict registry['cfg']`` are literal.

Potential deadlocks (lock-order cycles) are matched only by entries with
``kind = "lock-order-inversion"``, and such entries match no race: ``site``
matches when the innermost frame of *any* acquisition of the cycle has that
path and line (or function); ``location`` is matched against each lock's
description (``Lock created at Account.__init__() /abs/path/bank.py:5``), so
``*bank.py:5`` names the locks created on that line.

Discovery (no ``--suppressions``): from the working directory upwards, the
first directory holding ``racefree.toml`` (used) or a ``pyproject.toml``
(its ``[tool.racefree]`` table is used, if any; a ``pyproject.toml`` that has
no ``tool.racefree`` key and no ``[tool]`` table is not even parsed); the search
stops there.

Errors (bad TOML, unknown keys, missing ``reason``, a bad ``kind`` or ``site``)
raise :class:`SuppressionError`, a :class:`racefree.errors.UsageError`: one line
naming the file and line (or entry), exit code 2.

A :class:`Suppressions` remembers which entries matched across calls of
:meth:`~Suppressions.apply`, to report those that matched nothing.  It holds no
lock: call it from one thread at a time (the reporting thread).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from racefree.errors import UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from racefree.detector.findings import Deadlock, Race
    from racefree.detector.suppression_entry import Suppression

__all__ = [
    "Applied",
    "Suppression",
    "SuppressionError",
    "Suppressions",
    "discover",
    "load",
    "load_for",
]

# Every way TOML can spell the [tool.racefree] table: a dotted "tool.racefree" key
# or header (quotes and spaces allowed), a plain [tool] table or a `tool = {...}`.
_MAY_HAVE_TABLE = re.compile(
    r"""tool["']?\s*\.\s*["']?racefree|^\s*\[\s*["']?tool["']?\s*\]|^\s*["']?tool["']?\s*=""", re.M)
# what lives in suppression_entry (imported on first use: most runs have no suppressions file)
_ENTRY_NAMES = frozenset({"ALL_KINDS", "ENTRY_KEYS", "KINDS", "TABLE_KEYS", "Suppression"})


def __getattr__(name: str) -> Any:
    if name in _ENTRY_NAMES:
        from racefree.detector import suppression_entry

        return getattr(suppression_entry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class SuppressionError(UsageError):
    """The suppressions file is unreadable or malformed (reported as one line, exit 2)."""


Finding = TypeVar("Finding", "Race", "Deadlock")


class Applied(NamedTuple, Generic[Finding]):
    """The result of :meth:`Suppressions.apply`: the findings to report, and the rest with their reason."""

    kept: list[Finding]
    suppressed: list[tuple[Finding, Suppression]]


class Suppressions:
    """The entries of one suppressions file (or none), and which of them have matched so far."""

    def __init__(
        self, entries: list[Suppression], path: Path | None = None, shown: str | None = None
    ) -> None:
        self.entries = tuple(entries)
        self.path = path
        self.shown = shown if shown is not None else str(path)  # the path as messages print it
        self._used: set[int] = set()  # indexes into entries; touched only by the reporting thread

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"<Suppressions {len(self.entries)} from {self.path} ({len(self._used)} used)>"

    def apply(self, findings: Sequence[Finding]) -> Applied[Finding]:
        """Split races, or potential deadlocks, into those to report and those an entry accepts.

        Each accepted one is paired with the first entry that matches it (for a
        potential deadlock, only ``lock-order-inversion`` entries can).
        """
        kept: list[Finding] = []
        suppressed: list[tuple[Finding, Suppression]] = []
        for finding in findings:
            for i, entry in enumerate(self.entries):
                if entry.accepts(finding):
                    self._used.add(i)
                    suppressed.append((finding, entry))
                    break
            else:
                kept.append(finding)
        return Applied(kept, suppressed)

    def unused(self) -> list[Suppression]:
        """Entries that have matched no race in any :meth:`apply` call so far."""
        return [e for i, e in enumerate(self.entries) if i not in self._used]

    def summary_lines(self, suppressed: int, deadlocks: int = 0) -> list[str]:
        """Lines for the end of a run: how many races (deadlocks) were suppressed, and each unused entry."""
        lines = []
        if suppressed:
            lines.append(f"racefree: {suppressed} race(s) suppressed by {self.shown}")
        if deadlocks:
            lines.append(f"racefree: {deadlocks} potential deadlock(s) suppressed by {self.shown}")
        for entry in self.unused():
            from racefree.detector.findings import DEADLOCK_KIND

            what = "potential deadlock" if entry.kind == DEADLOCK_KIND else "race"
            lines.append(f"racefree: {entry.origin}: suppression matched no {what} ({entry.describe()})")
        return lines


def load(path: str | os.PathLike[str], cwd: str | os.PathLike[str] | None = None) -> Suppressions:
    """Read a suppressions file: ``[tool.racefree]`` if it has one, else top-level ``suppress``."""
    from pathlib import Path

    file = Path(cwd or os.getcwd(), path)
    shown = _shown(file, cwd)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SuppressionError(f"{shown}: suppressions file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SuppressionError(f"{shown}: cannot read suppressions file: {exc}") from None
    if file.name == "pyproject.toml" and not _MAY_HAVE_TABLE.search(text):
        return Suppressions([], file, shown)  # cannot hold [tool.racefree]: not even parsed
    from racefree.detector.suppression_entry import parse  # here: only a file with entries needs it

    return Suppressions(parse(text, file, shown), file, shown)


def discover(cwd: str | os.PathLike[str]) -> Path | None:
    """The suppressions file that applies in *cwd*, or None (see the module docstring)."""
    here = os.path.realpath(cwd)  # (os.path, not pathlib: most runs find nothing, and import nothing)
    while True:
        for name in ("racefree.toml", "pyproject.toml"):
            candidate = os.path.join(here, name)
            if os.path.isfile(candidate):
                from pathlib import Path

                return Path(candidate)
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def load_for(path: str | os.PathLike[str] | None, cwd: str | os.PathLike[str] | None = None) -> Suppressions:
    """The suppressions for a run: *path* (``--suppressions``) if given, else the discovered file.

    Returns an empty :class:`Suppressions` when nothing applies; raises
    :class:`SuppressionError` for a missing explicit file or a malformed one.
    """
    here = cwd or os.getcwd()
    if path is not None:
        return load(path, here)
    found = discover(here)
    return Suppressions([]) if found is None else load(found, here)


def _shown(file: Path, cwd: str | os.PathLike[str] | None) -> str:
    """*file* as the user would type it: relative to *cwd* when below it."""
    try:
        rel = os.path.relpath(file, cwd or os.getcwd())
    except ValueError:  # another drive
        return str(file)
    return str(file) if rel.startswith("..") else rel
