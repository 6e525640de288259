"""Race reports: the data model every output format is made from.

A :class:`Race` is one *distinct* race: a location and a pair of code sites,
with the number of times that pair was seen unordered.  Formats
(text, JSON, SARIF) and suppressions are functions of this model only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["data-race", "lost-update", "check-then-act", "iteration"]
Op = Literal["read", "write"]
Mode = Literal["python", "strict"]

JSON_VERSION = 1


@dataclass(frozen=True)
class Frame:
    """One user frame: innermost first in a stack."""

    file: str
    line: int
    function: str

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "function": self.function}


@dataclass(frozen=True)
class Access:
    """One side of a race: what was done, by which thread, from where."""

    op: Op
    thread: str
    stack: tuple[Frame, ...]
    # where the accessing thread was started (innermost first); empty for the main thread
    thread_created_at: tuple[Frame, ...] = ()

    @property
    def site(self) -> Frame | None:
        return self.stack[0] if self.stack else None

    def as_dict(self) -> dict[str, Any]:
        return {"op": self.op, "thread": self.thread, "stack": [f.as_dict() for f in self.stack]}


@dataclass
class Race:
    """A distinct race: (location, pair of code sites), with how often it was seen."""

    kind: Kind
    location: str
    current: Access
    previous: Access
    count: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def key(self) -> tuple[object, ...]:
        """Identity used to merge repeats: location and the two sites (unordered)."""
        a, b = self.current.site, self.previous.site
        sites = tuple(sorted([(a.file, a.line) if a else ("", 0), (b.file, b.line) if b else ("", 0)]))
        return (self.kind, self.location, sites)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "location": self.location,
            "count": self.count,
            "current": self.current.as_dict(),
            "previous": self.previous.as_dict(),
        }


def to_json_document(races: list[Race], mode: Mode) -> dict[str, Any]:
    """The ``--format json`` document (version 1)."""
    return {"version": JSON_VERSION, "mode": mode, "races": [r.as_dict() for r in races]}
