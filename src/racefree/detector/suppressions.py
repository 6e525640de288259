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
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Generic, NamedTuple, TypeVar

from racefree.detector.findings import DEADLOCK_KIND, Deadlock, Frame, Kind, Race
from racefree.errors import UsageError

__all__ = [
    "Applied",
    "Suppression",
    "SuppressionError",
    "Suppressions",
    "discover",
    "load",
    "load_for",
]

KINDS: tuple[Kind, ...] = ("data-race", "lost-update", "check-then-act", "iteration")
ALL_KINDS: tuple[str, ...] = (*KINDS, DEADLOCK_KIND)
ENTRY_KEYS = ("location", "site", "kind", "reason")
TABLE_KEYS = ("suppress",)
# Every way TOML can spell the [tool.racefree] table: a dotted "tool.racefree" key
# or header (quotes and spaces allowed), a plain [tool] table or a `tool = {...}`.
_MAY_HAVE_TABLE = re.compile(
    r"""tool["']?\s*\.\s*["']?racefree|^\s*\[\s*["']?tool["']?\s*\]|^\s*["']?tool["']?\s*=""", re.M)
_HEADER = re.compile(r"^\s*\[\[\s*(?:tool\s*\.\s*racefree\s*\.\s*)?suppress\s*\]\]")


class SuppressionError(UsageError):
    """The suppressions file is unreadable or malformed (reported as one line, exit 2)."""


def _glob(pattern: str) -> re.Pattern[str]:
    """``*`` and ``?`` are wildcards; every other character is literal."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


@dataclass(frozen=True)
class Suppression:
    """One accepted race (see the module docstring for the matching rules)."""

    reason: str
    location: str | None = None
    site: str | None = None
    kind: str | None = None  # a race Kind, or DEADLOCK_KIND
    origin: str = ""  # where it was written: "racefree.toml:7"
    base: Path = field(default=Path("."), compare=False)

    def describe(self) -> str:
        fields = [f"{k} {v!r}" for k, v in (("location", self.location), ("site", self.site),
                                           ("kind", self.kind)) if v is not None]
        return ", ".join(fields)

    def accepts(self, finding: Race | Deadlock) -> bool:
        """Whether this entry accepts `finding`, a race or a potential deadlock."""
        return self.matches_deadlock(finding) if isinstance(finding, Deadlock) else self.matches(finding)

    def matches(self, race: Race) -> bool:
        if self.kind is not None and race.kind != self.kind:
            return False
        if self.location is not None and not self._location_matches(race):
            return False
        if self.site is not None:
            sites = [race.current.site, race.previous.site]
            return any(s is not None and self._site_matches(s) for s in sites)
        return True

    def _location_matches(self, race: Race) -> bool:
        """The race's location, or, for a race on several keys all of which it lists, every key's."""
        assert self.location is not None
        pattern = _glob(self.location)
        if pattern.fullmatch(race.location):
            return True
        if race.keys > 1 and race.keys == len(race.key_sample):
            return all(pattern.fullmatch(f"{race.container}[{k}]") for k in race.key_sample)
        return False

    def matches_deadlock(self, deadlock: Deadlock) -> bool:
        if self.kind != DEADLOCK_KIND:
            return False
        if self.location is not None:
            pattern = _glob(self.location)
            if not any(pattern.fullmatch(lk.describe()) for lk in deadlock.locks):
                return False
        if self.site is not None:
            return any(self._site_matches(s) for s in deadlock.sites())
        return True

    def _site_matches(self, frame: Frame) -> bool:
        assert self.site is not None
        path_pat, _, what = self.site.rpartition(":")
        if what.isdigit():
            if frame.line != int(what):
                return False
        elif not _glob(what).fullmatch(frame.function):
            return False
        path = _display_path(frame.file, self.base)
        pat = path_pat.replace(os.sep, "/")
        return bool(_glob(pat).fullmatch(path) or _glob("*/" + pat).fullmatch(path))


def _display_path(file: str, base: Path) -> str:
    if not os.path.isabs(file):
        return file.replace(os.sep, "/")
    try:
        rel = Path(file).resolve().relative_to(base)
    except ValueError:
        return Path(file).as_posix()
    return PurePosixPath(*rel.parts).as_posix()


Finding = TypeVar("Finding", Race, Deadlock)


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
            what = "potential deadlock" if entry.kind == DEADLOCK_KIND else "race"
            lines.append(f"racefree: {entry.origin}: suppression matched no {what} ({entry.describe()})")
        return lines


def load(path: str | os.PathLike[str], cwd: str | os.PathLike[str] | None = None) -> Suppressions:
    """Read a suppressions file: ``[tool.racefree]`` if it has one, else top-level ``suppress``."""
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
    import tomllib  # here, not at the top: most runs have no suppressions to parse

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SuppressionError(f"{shown}: invalid TOML: {exc}") from None
    tool = doc.get("tool")
    if isinstance(tool, dict) and "racefree" in tool:
        table, where = tool["racefree"], "[tool.racefree]"
        if not isinstance(table, dict):
            raise SuppressionError(f"{shown}: [tool.racefree] must be a table")
    elif file.name == "pyproject.toml":
        return Suppressions([], file, shown)
    else:
        table, where = doc, "the top level"
    for key in table:
        if key not in TABLE_KEYS and not (where == "the top level" and key == "tool"):
            raise SuppressionError(f"{shown}: unknown key {key!r} in {where} (known: suppress)")
    raw = table.get("suppress", [])
    if not isinstance(raw, list):
        raise SuppressionError(f"{shown}: 'suppress' must be an array of tables ([[suppress]] entries)")
    prefix = "" if where == "the top level" else f"{where} "
    lines = [n for n, line in enumerate(text.splitlines(), 1) if _HEADER.match(line)]
    origins = (
        [f"{shown}:{n}" for n in lines]
        if len(lines) == len(raw)
        else [f"{shown}: {prefix}suppress[{i}]" for i in range(len(raw))]
    )
    base = file.resolve().parent
    return Suppressions([_entry(item, origin, base) for item, origin in zip(raw, origins)], file, shown)


def _entry(item: Any, origin: str, base: Path) -> Suppression:
    if not isinstance(item, dict):
        raise SuppressionError(f"{origin}: a suppression must be a table, not {type(item).__name__}")
    for key, value in item.items():
        if key not in ENTRY_KEYS:
            raise SuppressionError(f"{origin}: unknown key {key!r} (known: {', '.join(ENTRY_KEYS)})")
        if not isinstance(value, str):
            raise SuppressionError(f"{origin}: {key!r} must be a string")
    reason = item.get("reason", "").strip()
    if not reason:
        raise SuppressionError(f"{origin}: a suppression needs a 'reason' (why the race is accepted)")
    location, site, kind = item.get("location"), item.get("site"), item.get("kind")
    if location is None and site is None:
        raise SuppressionError(f"{origin}: a suppression needs a 'location' or a 'site' (or both)")
    if kind is not None and kind not in ALL_KINDS:
        raise SuppressionError(f"{origin}: unknown kind {kind!r} (known: {', '.join(ALL_KINDS)})")
    if site is not None:
        path, sep, what = site.rpartition(":")
        if not sep or not path or not what:
            raise SuppressionError(f"{origin}: site {site!r} must be PATH:LINE or PATH:FUNCTION")
    return Suppression(reason, location, site, kind, origin, base)


def discover(cwd: str | os.PathLike[str]) -> Path | None:
    """The suppressions file that applies in *cwd*, or None (see the module docstring)."""
    here = Path(cwd).resolve()
    for directory in (here, *here.parents):
        own = directory / "racefree.toml"
        if own.is_file():
            return own
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            return pyproject
    return None


def load_for(path: str | os.PathLike[str] | None, cwd: str | os.PathLike[str] | None = None) -> Suppressions:
    """The suppressions for a run: *path* (``--suppressions``) if given, else the discovered file.

    Returns an empty :class:`Suppressions` when nothing applies; raises
    :class:`SuppressionError` for a missing explicit file or a malformed one.
    """
    here = Path(cwd or os.getcwd())
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
