"""The race registry: turns racing access pairs into deduplicated :class:`report.Race` objects.

Invariants (true with and without the GIL):

* ``Registry.lock`` (a private ``_thread.RLock``, never seen by the program)
  guards ``by_site``, ``by_key``, ``order`` and ``new``; nothing that can run
  user code or re-enter the detector is called while it is held.
* One Race per ``Race.key()`` (kind, location, unordered pair of sites); a repeat
  increments its count.  ``by_site`` is a fast index of the same races by the
  exact (kind, location, current site, previous site) tuple.
"""

from __future__ import annotations

import _thread
from typing import Any

from racefree.detector import stacks
from racefree.detector.report import Access, Kind, Op, Race
from racefree.detector.shadow import Cell, Info


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

    def report(self, kind: Kind, cell: Cell, cur: Info, cur_op: Op, prev: Info, prev_op: Op) -> None:
        """Record that access `cur` (happening now, in this thread) races with `prev`.

        Called (through the access functions) from instrumented code, whose stack
        is captured here.
        """
        loc = cell.location()
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
            return
        current = _access(cur_op, cur[0], cur[1], stacks.capture_outside_site())
        previous = _access(prev_op, prev[0], prev[1], prev[2])
        race = Race(kind=kind, location=loc, current=current, previous=previous)
        key = race.key()
        with self.lock:
            if key in self.by_key:
                existing = self.by_key[key]
                existing.count += 1
                self.by_site[fast] = existing
                return
            self.by_key[key] = race
            self.by_site[fast] = race
            if prev[2] is None:
                self.partial.add(id(race))
            self.order.append(race)
            self.new.append(race)

    def races(self) -> list[Race]:
        with self.lock:
            return list(self.order)

    def take_new(self) -> list[Race]:
        with self.lock:
            new, self.new = self.new, []
            return new


def _access(op: Op, ts: Any, site: tuple[Any, ...], captured: stacks.Captured | None) -> Access:
    stack = (stacks.site_frame(site), *stacks.frames(captured or ()))
    return Access(op=op, thread=ts.display_name(), stack=stack, thread_created_at=ts.created)
