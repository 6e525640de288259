"""Race reports: the data model every output format is made from.

A :class:`Race` is one *distinct* race: a location and a pair of code sites,
with the number of times that pair was seen unordered.  Races on several keys
of one container (dict keys, list indexes, set members) between the same pair
of code sites are one Race: ``location`` is then ``<container>[*]`` and
``keys`` counts the keys, ``key_sample`` shows the first few.  A :class:`Deadlock` is
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
KEY_SAMPLE = 5  # keys of a grouped race kept (and shown) besides their count


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
    # why `stack` is not the whole user stack (None when it is): see stacks.PARTIAL_*
    partial: str | None = None

    @property
    def site(self) -> Frame | None:
        return self.stack[0] if self.stack else None

    def as_dict(self) -> dict[str, Any]:
        return {"op": self.op, "thread": self.thread, "stack": [f.as_dict() for f in self.stack],
                "stack_partial": self.partial}


@dataclass
class Race:
    """A distinct race: (location, pair of code sites), with how often it was seen.

    ``container``: for a race on container items, the container's name
    (``set seen``), so that the same pair of sites on other keys joins this race;
    ``keys`` is then how many distinct keys raced and ``key_sample`` the first
    :data:`KEY_SAMPLE` of them (``repr`` text).  ``read``: for a python-mode
    lost update, the read the read-modify-write's value came from, made by the
    thread of ``read_of`` (``"current"`` or ``"previous"``); the other thread's
    write came between that read and that write, or could have.
    """

    kind: Kind
    location: str
    current: Access
    previous: Access
    count: int = 1
    extra: dict[str, Any] = field(default_factory=dict)
    container: str = ""
    keys: int = 1
    key_sample: tuple[str, ...] = ()
    read: Access | None = None
    read_of: Literal["current", "previous"] = "current"

    def key(self) -> tuple[object, ...]:
        """Identity used to merge repeats: location (container, for items) and the two sites (unordered)."""
        a, b = self.current.site, self.previous.site
        sites = tuple(sorted([(a.file, a.line) if a else ("", 0), (b.file, b.line) if b else ("", 0)]))
        return (self.kind, f"{self.container}[*]" if self.container else self.location, sites)

    def add_key(self, key: str) -> None:
        """Another key of the container raced between the same two sites."""
        self.keys += 1
        if len(self.key_sample) < KEY_SAMPLE:
            self.key_sample += (key,)
        self.location = f"{self.container}[*]"

    def sides(self) -> tuple[Access, Access, Access] | None:
        """(read, other thread's write, write from that read) of a lost update whose read is known."""
        if self.read is None:
            return None
        if self.read_of == "current":
            return (self.read, self.previous, self.current)
        return (self.read, self.current, self.previous)

    def as_dict(self) -> dict[str, Any]:
        doc = {
            "kind": self.kind,
            "location": self.location,
            "count": self.count,
            "current": self.current.as_dict(),
            "previous": self.previous.as_dict(),
            "keys": self.keys,
            "key_sample": list(self.key_sample),
            "read": self.read.as_dict() if self.read is not None else None,
        }
        if self.read is not None:
            doc["read_by"] = self.read_of
        confirmation = self.extra.get("confirmation")  # racefree run --confirm only
        if confirmation is not None:
            doc["confirmation"] = confirmation.as_dict()
        return doc


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
