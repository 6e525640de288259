"""Which test a finding belongs to, while a test suite runs under one detector session (``pytest --race``).

Pure bookkeeping, no pytest: :mod:`racefree.pytest_plugin` tells a :class:`Blame`
when a test's call phase starts and when the test ends (with the threads alive
then), and hands it what the session found during each phase; the Blame decides
what fails that test, what is reported at session end (and why), and what a
``race_ignore`` marker drops.

The rules:

* a race found during a test's phase fails that test, unless one of its two
  threads was started by an *earlier* test: a thread started during that test's
  call phase and still alive after its teardown (known by name: Python's default
  names are unique within a process), or one whose creation stack passes through
  that test's function (it finished, but the test never joined it).  Such a race
  goes to the session-end report, naming the test that started the thread;
* a race found between tests, or after the last one, goes to the session-end report;
* a race that would fail a test marked ``race_ignore``, or whose thread came from
  such a test, is counted as ignored; likewise potential deadlocks (blamed on the
  test during which the cycle closed);
* a race is reported once; the tests that hit it again (its count grew during their
  phases) are remembered for the summary.

Not thread-safe: one thread (pytest's main thread) calls every method.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from racefree.detector.findings import Deadlock, Race

__all__ = ["Blame", "Item"]


class _Thread(Protocol):
    """What :class:`Blame` reads of a thread (a :class:`threading.Thread`)."""

    @property
    def name(self) -> str: ...

    def is_alive(self) -> bool: ...


@dataclass(frozen=True)
class Item:
    """One test as the Blame sees it: its id, its function's ``(file, name)`` and its marker."""

    nodeid: str
    function: tuple[str, str] | None = None  # None for items that are not functions
    ignored: bool = False  # marked race_ignore


class Blame:
    """The findings of a session, each blamed on a test, on the session end, or ignored."""

    def __init__(self) -> None:
        self.reported: list[Race] = []  # races that failed a test or the session
        self.session_end: list[tuple[Race, str]] = []  # (race, why it was not blamed on a test)
        self.deadlocks: list[Deadlock] = []  # potential deadlocks that failed a test or the session
        self.session_end_deadlocks: list[tuple[Deadlock, str]] = []
        self.ignored = 0  # races dropped by race_ignore
        self.ignored_deadlocks = 0
        self.leaked: dict[str, tuple[str, bool]] = {}  # thread name -> (nodeid that leaked it, ignored?)
        self.finished_tests: dict[tuple[str, str], tuple[str, bool]] = {}  # (file, function) -> same
        self._threads_at_call: set[object] = set()
        # a race is reported once per session: id of a reported Race -> (the detector's Race,
        # its count when last looked at, the tests that hit it: the first is the one it failed)
        self.hits: dict[int, tuple[Race, list[int], list[str]]] = {}
        self._sources: dict[int, Race] = {}  # id of a Race as shown -> the detector's (its count grows)

    def __repr__(self) -> str:
        return (f"<Blame reported={len(self.reported)} session_end={len(self.session_end)} "
                f"deadlocks={len(self.deadlocks)} ignored={self.ignored}+{self.ignored_deadlocks}>")

    # -- what the plugin tells it ------------------------------------------------------------------

    def shown_as(self, race: Race, shown: Race) -> Race:
        """`shown` (trimmed for the report) stands for the detector's `race`; returns `shown`."""
        self._sources[id(shown)] = race
        return shown

    def call_starting(self, threads: Iterable[object]) -> None:
        """A test's setup or call phase begins; `threads` are those alive now."""
        self._threads_at_call = set(threads)

    def test_finished(self, test: Item, threads: Iterable[_Thread]) -> None:
        """`test`'s teardown ended; `threads` are those alive now (the new ones it leaked)."""
        for thread in threads:
            if thread not in self._threads_at_call and thread.is_alive():
                self.leaked[thread.name] = (test.nodeid, test.ignored)
        if test.function is not None:
            self.finished_tests[test.function] = (test.nodeid, test.ignored)

    # -- the verdicts ------------------------------------------------------------------------------

    def races_of(self, test: Item, races: Iterable[Race]) -> list[Race]:
        """Of the `races` found during a phase of `test`, those that fail it (the rest are deferred)."""
        own = []
        for race in races:
            origin = self._origin(race, test.function)
            if origin is not None:
                self.defer([race], f"involves a thread started by {origin[0]}, which outlived it")
            elif test.ignored:
                self.ignored += 1
                self._sources.pop(id(race), None)
            else:
                own.append(race)
                self._reported(race, test.nodeid)
        return own

    def deadlocks_of(self, test: Item, deadlocks: list[Deadlock]) -> list[Deadlock]:
        """Of the potential `deadlocks` whose cycle closed during a phase of `test`, those that fail it."""
        if deadlocks and test.ignored:
            self.ignored_deadlocks += len(deadlocks)
            return []
        self.deadlocks += deadlocks
        return deadlocks

    def defer(self, races: Iterable[Race], why: str) -> None:
        """`races` go to the session-end report (those from a ``race_ignore`` test's threads are ignored)."""
        for race in races:
            origin = self._origin(race, None)
            if origin is not None and origin[1]:
                self.ignored += 1  # a thread of a test marked race_ignore
                self._sources.pop(id(race), None)
                continue
            self.session_end.append((race, why))
            self._reported(race, "the session-end report")

    def defer_deadlocks(self, deadlocks: Iterable[Deadlock], why: str) -> None:
        """Potential `deadlocks` found outside any test go to the session-end report."""
        for deadlock in deadlocks:
            self.session_end_deadlocks.append((deadlock, why))
            self.deadlocks.append(deadlock)

    def note_hits(self, nodeid: str) -> None:
        """Which reported races this phase of `nodeid` hit again (a race fails only the first test)."""
        for source, seen, tests in self.hits.values():
            if source.count > seen[0]:
                seen[0] = source.count
                if nodeid not in tests:
                    tests.append(nodeid)

    def hit_list(self) -> list[tuple[Race, list[str]]]:
        """Each reported race and the tests that hit it, the one it failed first."""
        return [(race, self.hits[id(race)][2]) for race in self.reported if id(race) in self.hits]

    @property
    def fails_session(self) -> bool:
        """Whether the session-end report has anything (it fails the session)."""
        return bool(self.session_end or self.session_end_deadlocks)

    def why(self, finding: Race | Deadlock) -> str | None:
        """The line the session-end report prints before `finding`."""
        for race, why in self.session_end:
            if race is finding:
                return f"racefree: race {why}"
        for deadlock, why in self.session_end_deadlocks:
            if deadlock is finding:
                return f"racefree: potential deadlock {why}"
        return None

    # -- internals ---------------------------------------------------------------------------------

    def _origin(self, race: Race, own: tuple[str, str] | None) -> tuple[str, bool] | None:
        """(nodeid, ignored?) of the earlier test that started a thread taking part in `race`."""
        for access in (race.current, race.previous):
            if access.thread in self.leaked:  # still running after that test's teardown
                return self.leaked[access.thread]
            for frame in access.thread_created_at:  # created by an earlier test's function, not joined
                key = (frame.file, frame.function)
                if key != own and key in self.finished_tests:
                    return self.finished_tests[key]
        return None

    def _reported(self, race: Race, blamed: str) -> None:
        self.reported.append(race)
        source = self._sources.pop(id(race), race)
        self.hits[id(race)] = (source, [source.count], [blamed])
