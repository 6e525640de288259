"""One accepted race: a suppressions-file entry, parsed and matched against reports.

The rules are :mod:`racefree.detector.suppressions`' (see its docstring); this
module holds the entries and the TOML parsing, apart from the discovery and the
container so that a run without a suppressions file never imports them (nor
TOML, dataclasses or the report model).  Nothing here is shared between threads.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from racefree.detector.findings import DEADLOCK_KIND, Deadlock, Frame, Kind, Race
from racefree.detector.suppressions import SuppressionError

__all__ = ["ALL_KINDS", "ENTRY_KEYS", "KINDS", "TABLE_KEYS", "Suppression", "parse"]

KINDS: tuple[Kind, ...] = ("data-race", "lost-update", "check-then-act", "iteration")
ALL_KINDS: tuple[str, ...] = (*KINDS, DEADLOCK_KIND)
ENTRY_KEYS = ("location", "site", "kind", "reason")
TABLE_KEYS = ("suppress",)
_HEADER = re.compile(r"^\s*\[\[\s*(?:tool\s*\.\s*racefree\s*\.\s*)?suppress\s*\]\]")


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


def parse(text: str, file: Path, shown: str) -> list[Suppression]:
    """The entries of suppressions file `file` (its `text`; `shown` names it in errors)."""
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
        return []
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
    return [_entry(item, origin, base) for item, origin in zip(raw, origins)]


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


