"""Race reports: the data model every output format is made from.

A :class:`Race` is one *distinct* race: a location and a pair of code sites,
with the number of times that pair was seen unordered.  A :class:`Deadlock` is
one potential deadlock: a cycle in the lock-order graph (see
:mod:`racefree.detector.lockorder`).  Formats (text, JSON, SARIF) and
suppressions are functions of this model only.
"""

from __future__ import annotations

from collections.abc import Sequence
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
        d = {
            "kind": self.kind,
            "location": self.location,
            "count": self.count,
            "current": self.current.as_dict(),
            "previous": self.previous.as_dict(),
        }
        confirmation = self.extra.get("confirmation")  # racefree run --confirm only
        if confirmation is not None:
            d["confirmation"] = confirmation.as_dict()
        return d


DEADLOCK_KIND = "lock-order-inversion"


@dataclass(frozen=True)
class LockInfo:
    """One lock of a lock-order cycle: its name in the report (M1, M2…), type and creation site."""

    name: str
    type: str
    created_at: Frame | None = None
    address: str = ""  # id() in hex, when the lock was still alive at report time

    def describe(self) -> str:
        """``Lock created at f() /p/a.py:3`` (or ``Lock at 0x…`` without a creation site)."""
        if self.created_at is not None:
            f = self.created_at
            return f"{self.type} created at {f.function}() {f.file}:{f.line}"
        return f"{self.type} at {self.address or 'an unknown address'}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "created_at": self.created_at.as_dict() if self.created_at is not None else None,
        }


@dataclass(frozen=True)
class LockEdge:
    """Lock ``acquired`` was taken (blocking) by ``thread`` while it held lock ``held``."""

    held: str  # LockInfo.name
    acquired: str
    thread: str
    held_stack: tuple[Frame, ...]  # where `held` was acquired, innermost first
    acquired_stack: tuple[Frame, ...]  # where `acquired` was acquired while holding `held`
    thread_created_at: tuple[Frame, ...] = ()

    @property
    def site(self) -> Frame | None:
        return self.acquired_stack[0] if self.acquired_stack else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "held": self.held,
            "acquired": self.acquired,
            "thread": self.thread,
            "held_stack": [f.as_dict() for f in self.held_stack],
            "acquired_stack": [f.as_dict() for f in self.acquired_stack],
        }


@dataclass
class Deadlock:
    """A potential deadlock: a cycle ``locks[0] → locks[1] → … → locks[0]`` in the lock-order graph.

    ``edges[i]`` takes ``locks[i+1]`` while holding ``locks[i]``; ``edges[0]`` is
    the acquisition that closed the cycle.  ``count`` is how often a cycle
    through the same lock creation sites closed.
    """

    locks: tuple[LockInfo, ...]
    edges: tuple[LockEdge, ...]
    count: int = 1
    kind: str = DEADLOCK_KIND

    def key(self) -> tuple[object, ...]:
        """Identity across runs: the cycle of lock creation sites, rotated to its smallest form."""
        sites = [(lk.type, lk.created_at.file, lk.created_at.line) if lk.created_at else (lk.type, lk.name, 0)
                 for lk in self.locks]
        return (self.kind, min(tuple(sites[i:] + sites[:i]) for i in range(len(sites))))

    def sites(self) -> list[Frame]:
        """The innermost frame of every acquisition stack of the cycle."""
        return [s[0] for e in self.edges for s in (e.acquired_stack, e.held_stack) if s]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "count": self.count,
            "locks": [lk.as_dict() for lk in self.locks],
            "edges": [e.as_dict() for e in self.edges],
        }


def to_json_document(
    races: list[Race], mode: Mode, deadlocks: Sequence[Deadlock] = ()
) -> dict[str, Any]:
    """The ``--format json`` document (version 1): races, then potential deadlocks."""
    return {
        "version": JSON_VERSION,
        "mode": mode,
        "races": [r.as_dict() for r in races],
        "deadlocks": [d.as_dict() for d in deadlocks],
    }
