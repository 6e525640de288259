"""``--format sarif``: races as a SARIF 2.1.0 log, for code-scanning annotations.

One SARIF ``result`` per distinct :class:`~racefree.detector.findings.Race`:

* ``locations[0]`` is the *current* access (the one during which the race was
  found), ``relatedLocations`` hold the *previous* access (id 1), when known,
  where each of the two threads was created (ids 2 and 3) and, for a lost
  update, the read its read-modify-write started with (id 4); the result's
  message links to them with SARIF's ``[text](id)`` syntax;
* ``stacks`` carry the accesses' user stacks (the read's last), innermost frame
  first, exactly as the text report prints them; ``properties.partialStacks``
  says which of them are partial, and why;
* a race on several keys of one container says how many and which in its
  message and in ``properties.keys``/``keySample``;
* ``ruleId`` is the race kind (``data-race``, ``lost-update``,
  ``check-then-act``, ``iteration``); ``tool.driver.rules`` always lists all
  four, in that order, then ``lock-order-inversion``, so ``ruleIndex`` is
  stable between runs;
* ``partialFingerprints["raceKey/v1"]`` hashes the kind, the location (the
  container's, ``<container>[*]``, for items) and the two code sites (relative
  paths, unordered) so that a code-scanning service recognises the same race
  from one run to the next even when lines around it move in other files.

One result per potential deadlock (:class:`~racefree.detector.findings.Deadlock`),
rule ``lock-order-inversion``: ``locations[0]`` is the acquisition that closed
the cycle; ``relatedLocations`` hold every edge's two acquisitions (ids 1, 2,
…: for edge *i*, ``2i+1`` where the second lock was taken and ``2i+2`` where
the held one had been) and each lock's creation site; ``stacks`` carry both
stacks of every edge; ``partialFingerprints["deadlockKey/v1"]`` hashes the
cycle of lock creation sites (relative paths).

Paths under *base* (the project root: the current directory unless given) are
written as relative URIs with ``uriBaseId: "SRCROOT"``, and ``SRCROOT`` is
declared in ``originalUriBaseIds``; other paths become absolute ``file:`` URIs,
and pseudo-files such as ``<string>`` are percent-encoded relative URIs so the
log stays valid.  The function is pure: it reads no files and no clock.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from racefree.detector.findings import DEADLOCK_KIND, Access, Deadlock, Frame, Kind, LockEdge, Mode, Race

__all__ = ["DEADLOCK_RULE", "RULES", "SARIF_SCHEMA_URI", "SARIF_VERSION", "SRCROOT", "to_sarif"]

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "SRCROOT"
TOOL_NAME = "racefree"

# kind -> (rule name, short description, full description); the order fixes ruleIndex
RULES: dict[Kind, tuple[str, str, str]] = {
    "data-race": (
        "DataRace",
        "Two unsynchronized accesses to the same location, at least one a write (strict mode).",
        "Two threads accessed the same Python location (attribute, global, closure variable, "
        "container item or size) and neither access happens-before the other, at least one of "
        "them being a write. This is Go's definition of a data race; it is reported only in "
        "strict mode, since under CPython each single bytecode-level access is atomic.",
    ),
    "lost-update": (
        "LostUpdate",
        "A read-modify-write of a shared location raced with another thread's write.",
        "A thread read a location and later wrote it with no synchronization of its own in "
        "between (for example `x += 1` or `d[k] = d.get(k, 0) + 1`), and another thread's "
        "write to that location is unordered with the read: one of the two updates can be lost.",
    ),
    "check-then-act": (
        "CheckThenAct",
        "A check of a shared location guarded a write to it without synchronization.",
        "An `if`/`while` test read a location (`x is None`, `k not in d`, `len(d) < n`) and "
        "its body writes the same location with no synchronization in between, while another "
        "thread's write to the location is unordered with the check: the check can be stale "
        "by the time the body acts on it.",
    ),
    "iteration": (
        "IterationDuringMutation",
        "A container was iterated while another thread changed it without synchronization.",
        "A thread iterated a dict, list, set or deque (for loop, comprehension, list(), "
        "sorted(), .items(), ...) while another thread's unordered write changed the "
        "container: the iteration can raise RuntimeError or see a torn state.",
    ),
}


# the rule of potential deadlocks, listed after the race kinds
DEADLOCK_RULE: tuple[str, str, str] = (
    "LockOrderInversion",
    "Two threads took the same locks in opposite orders: a potential deadlock.",
    "A thread acquired a lock while holding another, and other threads acquired the same locks "
    "in the opposite order (a cycle in the lock-order graph, possibly through more locks). The "
    "run may well have completed, but with another schedule each thread can hold one lock of "
    "the cycle and wait forever for the next. Take the locks in one global order everywhere.",
)


def to_sarif(
    races: list[Race],
    mode: Mode,
    tool_version: str,
    *,
    base: str | os.PathLike[str] | None = None,
    deadlocks: Sequence[Deadlock] = (),
) -> dict[str, Any]:
    """Return the SARIF 2.1.0 log (a JSON-ready dict) for *races* (and *deadlocks*) found in *mode*.

    *base* is the directory relative URIs are made against (default: the
    current working directory); it is recorded as ``SRCROOT``.
    """
    root = Path(os.getcwd() if base is None else base).resolve()
    uris = _UriMaker(root)
    kinds = list(RULES)
    results = [_result(race, kinds.index(race.kind), mode, uris) for race in races]
    results += [_deadlock_result(d, len(kinds), mode, uris) for d in deadlocks]
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": tool_version,
                        "semanticVersion": tool_version,
                        "rules": [*(_rule(kind) for kind in kinds), _deadlock_rule()],
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": root.as_uri().rstrip("/") + "/"}},
                "columnKind": "unicodeCodePoints",
                "properties": {"mode": mode},
                "results": results,
            }
        ],
    }


def _rule(kind: Kind) -> dict[str, Any]:
    return _rule_of(kind, RULES[kind], "race-condition")


def _deadlock_rule() -> dict[str, Any]:
    return _rule_of(DEADLOCK_KIND, DEADLOCK_RULE, "deadlock")


def _rule_of(id_: str, texts: tuple[str, str, str], tag: str) -> dict[str, Any]:
    name, short, full = texts
    return {
        "id": id_,
        "name": name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": full},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["concurrency", tag], "precision": "high"},
    }


class _UriMaker:
    """Turns report file names into SARIF artifact locations relative to one root."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def relative(self, file: str) -> str | None:
        """The POSIX path of *file* below the root, or None if it is elsewhere (or no real path)."""
        if file.startswith("<") or not os.path.isabs(file):
            return None
        try:
            rel = Path(file).resolve().relative_to(self.root)
        except ValueError:
            return None
        return PurePosixPath(*rel.parts).as_posix()

    def artifact(self, file: str) -> dict[str, Any]:
        rel = self.relative(file)
        if rel is not None:
            return {"uri": quote(rel), "uriBaseId": SRCROOT}
        if os.path.isabs(file):
            return {"uri": Path(file).as_uri()}
        return {"uri": quote(file, safe="")}  # a pseudo-file such as "<string>"

    def location(self, frame: Frame, message: str | None = None, id_: int | None = None) -> dict[str, Any]:
        loc: dict[str, Any] = {}
        if id_ is not None:
            loc["id"] = id_
        loc["physicalLocation"] = {
            "artifactLocation": self.artifact(frame.file),
            "region": {"startLine": max(frame.line, 1)},
        }
        loc["logicalLocations"] = [{"name": frame.function, "kind": "function"}]
        if message is not None:
            loc["message"] = {"text": message}
        return loc

    def site_key(self, frame: Frame | None) -> str:
        if frame is None:
            return ":0"
        return f"{self.relative(frame.file) or frame.file}:{frame.line}"


def _describe(access: Access) -> str:
    return f"{access.op} by thread {access.thread}"


def _where(access: Access) -> str:
    site = access.site
    return f"{site.file}:{site.line}" if site else "an unknown place"


def _result(race: Race, rule_index: int, mode: Mode, uris: _UriMaker) -> dict[str, Any]:
    cur, prev = race.current, race.previous
    keys = ""
    if race.keys > 1:
        more = ", ..." if race.keys > len(race.key_sample) else ""
        keys = f" ({race.keys} keys of {race.container}: {', '.join(race.key_sample)}{more})"
    read = ""
    if race.read is not None and race.read.site is not None:
        read = f", computed from [its read by thread {race.read.thread}](4)"
    text = (
        f"{_title(race.kind)} on {race.location}{keys}: {_describe(cur)} races with the "
        f"[previous {prev.op} by thread {prev.thread}](1)"
        + (f" ({race.count} times)" if race.count > 1 else "")
        + read
        + "."
    )
    result: dict[str, Any] = {
        "ruleId": race.kind,
        "ruleIndex": rule_index,
        "level": "error",
        "message": {"text": text},
        "locations": [_primary(cur, race, uris)],
    }
    related: list[dict[str, Any]] = []
    if prev.site is not None:
        related.append(uris.location(prev.site, f"previous {_describe(prev)}", 1))
    for id_, access in ((2, cur), (3, prev)):
        if access.thread_created_at:
            related.append(
                uris.location(access.thread_created_at[0], f"thread {access.thread} created here", id_)
            )
    if race.read is not None and race.read.site is not None:
        read_of = cur if race.read_of == "current" else prev
        related.append(uris.location(race.read.site, f"read by thread {race.read.thread}, which the "
                                     f"{read_of.op} by that thread was computed from", 4))
    if related:
        result["relatedLocations"] = related
    sides = [(cur, "current"), (prev, "previous")]
    if race.read is not None:
        sides.append((race.read, "read of the read-modify-write"))
    stacks = [_stack(access, label, uris) for access, label in sides]
    result["stacks"] = [s for s in stacks if s is not None]
    # a race on container items is one race whatever keys it hit: the container names it
    where = f"{race.container}[*]" if race.container else race.location
    key = "|".join(
        [race.kind, where, *sorted([uris.site_key(cur.site), uris.site_key(prev.site)])]
    )
    result["partialFingerprints"] = {"raceKey/v1": hashlib.sha256(key.encode()).hexdigest()}
    result["occurrenceCount"] = race.count
    result["properties"] = {
        "location": race.location,
        "mode": mode,
        "current": {"op": cur.op, "thread": cur.thread, "at": _where(cur)},
        "previous": {"op": prev.op, "thread": prev.thread, "at": _where(prev)},
        "keys": race.keys,
        "keySample": list(race.key_sample),
    }
    if race.read is not None:
        result["properties"]["read"] = {"thread": race.read.thread, "at": _where(race.read),
                                        "by": race.read_of}
    for access, label in sides:
        if access.partial is not None:
            result["properties"].setdefault("partialStacks", {})[label] = access.partial
    confirmation = race.extra.get("confirmation")
    if confirmation is not None:
        result["properties"]["confirmation"] = confirmation.as_dict()
    return result


def _primary(access: Access, race: Race, uris: _UriMaker) -> dict[str, Any]:
    if access.site is not None:
        return uris.location(access.site, f"{_describe(access)} of {race.location}")
    # no user frame at all: a logical location keeps the result anchored and valid
    return {"logicalLocations": [{"name": race.location, "kind": "variable"}]}


def _stack(access: Access, label: str, uris: _UriMaker) -> dict[str, Any] | None:
    if not access.stack:
        return None
    return {
        "message": {"text": f"{label} access: {_describe(access)}"},
        "frames": [{"location": uris.location(frame)} for frame in access.stack],
    }


def _title(kind: Kind) -> str:
    return {
        "data-race": "Data race",
        "lost-update": "Lost update",
        "check-then-act": "Check-then-act race",
        "iteration": "Iteration during mutation",
    }[kind]


def _edge_text(edge: LockEdge) -> str:
    return f"thread {edge.thread} took {edge.acquired} while holding {edge.held}"


def _deadlock_result(deadlock: Deadlock, rule_index: int, mode: Mode, uris: _UriMaker) -> dict[str, Any]:
    names = [lk.name for lk in deadlock.locks]
    related: list[dict[str, Any]] = []
    links: list[str] = []
    for i, edge in enumerate(deadlock.edges):
        if edge.acquired_stack:
            related.append(uris.location(edge.acquired_stack[0], _edge_text(edge), 2 * i + 1))
            links.append(f"[{_edge_text(edge)}]({2 * i + 1})")
        else:
            links.append(_edge_text(edge))
        if edge.held_stack:
            related.append(uris.location(edge.held_stack[0], f"{edge.held} acquired by thread {edge.thread}",
                                         2 * i + 2))
    next_id = 2 * len(deadlock.edges) + 1
    for lk in deadlock.locks:
        if lk.created_at is not None:
            related.append(uris.location(lk.created_at, f"{lk.name}: {lk.type} created here", next_id))
            next_id += 1
    text = (
        f"Potential deadlock (lock-order inversion): cycle {' => '.join([*names, names[0]])}: "
        + "; ".join(links)
        + (f" ({deadlock.count} times)" if deadlock.count > 1 else "")
        + "."
    )
    first = deadlock.edges[0]
    primary: dict[str, Any]
    if first.acquired_stack:
        primary = uris.location(first.acquired_stack[0], _edge_text(first))
    else:
        primary = {"logicalLocations": [{"name": "lock-order cycle", "kind": "resource"}]}
    result: dict[str, Any] = {
        "ruleId": DEADLOCK_KIND,
        "ruleIndex": rule_index,
        "level": "error",
        "message": {"text": text},
        "locations": [primary],
    }
    if related:
        result["relatedLocations"] = related
    stacks = []
    for edge in deadlock.edges:
        for frames, label in ((edge.acquired_stack, f"{edge.acquired} acquired while holding {edge.held}"),
                              (edge.held_stack, f"{edge.held} acquired earlier")):
            if frames:
                stacks.append({
                    "message": {"text": f"thread {edge.thread}: {label}"},
                    "frames": [{"location": uris.location(frame)} for frame in frames],
                })
    result["stacks"] = stacks
    sites = [uris.site_key(lk.created_at) if lk.created_at else f"{lk.type}:{lk.name}"
             for lk in deadlock.locks]
    cycle = min("|".join(sites[i:] + sites[:i]) for i in range(len(sites)))
    key = f"{DEADLOCK_KIND}|{cycle}"
    result["partialFingerprints"] = {"deadlockKey/v1": hashlib.sha256(key.encode()).hexdigest()}
    result["occurrenceCount"] = deadlock.count
    result["properties"] = {
        "mode": mode,
        "locks": [{"name": lk.name, "lock": lk.describe()} for lk in deadlock.locks],
        "edges": [{"held": e.held, "acquired": e.acquired, "thread": e.thread} for e in deadlock.edges],
    }
    return result
