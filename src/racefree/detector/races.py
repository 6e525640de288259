"""The race registry: turns racing access pairs into deduplicated :class:`report.Race` objects.

Invariants (true with and without the GIL):

* ``Registry.lock`` (a private ``_thread.RLock``, never seen by the program)
  guards ``by_site``, ``by_key``, ``order``, ``new``, ``partial`` and ``keys``;
  nothing that can run user code or re-enter the detector is called while it is
  held.
* One Race per ``Race.key()`` (kind, location — the container's, for items —
  unordered pair of sites); a repeat increments its count, another key of the
  same container joins it (``Race.add_key``).  ``by_site`` is a fast index of
  the same races by the exact (kind, location, current site, previous site).
* Locations are named once per cell (:mod:`racefree.detector.naming`), at its
  first report, in the frame of that access; ``Cell.loc`` keeps the name.
"""

from __future__ import annotations

import _thread
from typing import TYPE_CHECKING, Any, Literal

from racefree.detector import naming, stacks
from racefree.detector.events import ITEM, S_TEXT
from racefree.detector.shadow import Cell, Info, safe_repr

if TYPE_CHECKING:
    from racefree.detector.findings import Access, Kind, Op, Race


class Registry:
    """Every distinct race of one detector run, in the order first seen."""

    def __init__(self) -> None:
        self.lock = _thread.RLock()  # reentrant: see Detector._lock
        self.by_site: dict[tuple[Any, ...], Race] = {}  # guarded by lock
        self.by_key: dict[tuple[object, ...], Race] = {}  # guarded by lock
        self.order: list[Race] = []  # guarded by lock
        self.new: list[Race] = []  # guarded by lock
        # races whose previous access was recorded before its location was shared, so
        # without a stack beyond the site; a later repeat with a stack replaces the pair
        self.partial: set[int] = set()  # ids of Races, guarded by lock
        # id of a Race on container items -> the keys (their text) it has seen, guarded by lock
        self.keys: dict[int, set[str]] = {}

    def report(
        self, kind: Kind, cell: Cell, cur: Info, cur_op: Op, prev: Info, prev_op: Op,
        read: Info | None = None, read_of: Literal["current", "previous"] = "current",
    ) -> None:
        """Record that access `cur` (happening now, in this thread) races with `prev`.

        `read`: for a lost update, the read of the read-modify-write (made by the
        thread of `read_of`).  Called (through the access functions) from
        instrumented code, whose stack is captured here.
        """
        loc = cell.loc
        if loc is None:
            text = str(cur[1][S_TEXT]) if len(cur[1]) > S_TEXT else cell.text
            loc = cell.loc = naming.location(cell.kind, cell.target(), cell.key, text,
                                             stacks.instrumented_frame())[0]
        fast = (kind, loc, cur[1], prev[1])
        with self.lock:
            try:  # a subscript, not ``.get`` (which locks the dict on the free-threaded build)
                race: Race | None = self.by_site[fast]
            except KeyError:
                race = None
            if race is not None:
                race.count += 1
                if prev[2] is None or id(race) not in self.partial:
                    return
                self.partial.discard(id(race))
        if race is not None:  # replace the whole pair: this occurrence has both stacks
            race.current = _access(cur_op, cur[0], cur[1], stacks.capture_outside_site())
            race.previous = _access(prev_op, prev[0], prev[1], prev[2])
            if read is not None:
                race.read = _access("read", read[0], read[1], read[2])
                race.read_of = read_of
            return
        from racefree.detector.findings import Race  # here: a clean run never imports the findings

        current = _access(cur_op, cur[0], cur[1], stacks.capture_outside_site())
        previous = _access(prev_op, prev[0], prev[1], prev[2])
        race = Race(kind=kind, location=loc, current=current, previous=previous)
        if read is not None:
            race.read = _access("read", read[0], read[1], read[2])
            race.read_of = read_of
        key_text = ""
        if cell.kind == ITEM:
            key_text = safe_repr(cell.key)
            race.container = loc[: len(loc) - len(key_text) - 2]
            race.key_sample = (key_text,)
        key = race.key()
        with self.lock:
            if key in self.by_key:
                existing = self.by_key[key]
                existing.count += 1
                self.by_site[fast] = existing
                seen = self.keys.get(id(existing))
                if seen is not None and key_text not in seen:
                    seen.add(key_text)
                    existing.add_key(key_text)
                if prev[2] is None or id(existing) not in self.partial:
                    return
                self.partial.discard(id(existing))  # another key's occurrence, with both stacks
                existing.current, existing.previous = current, previous
                if race.read is not None:
                    existing.read, existing.read_of = race.read, race.read_of
                return
            self.by_key[key] = race
            self.by_site[fast] = race
            if key_text:
                self.keys[id(race)] = {key_text}
            if prev[2] is None:
                self.partial.add(id(race))
            self.order.append(race)
            self.new.append(race)

    def after_fork_in_child(self) -> None:
        """In a forked child (only the forking thread survives): a fresh lock, never one held forever."""
        self.lock = _thread.RLock()

    def races(self) -> list[Race]:
        with self.lock:
            return list(self.order)

    def take_new(self) -> list[Race]:
        with self.lock:
            new, self.new = self.new, []
            return new


def _access(op: Op, ts: Any, site: tuple[Any, ...], captured: stacks.Captured | None) -> Access:
    from racefree.detector.findings import Access

    if captured is None:
        found: tuple[Any, ...] = ()
        gap: str | None = stacks.PARTIAL_NOT_RECORDED
    else:
        found, gap = stacks.frames_and_gap(captured)
    stack = (stacks.site_frame(site), *found)
    return Access(op=op, thread=ts.display_name(), stack=stack, thread_created_at=ts.created, partial=gap)
