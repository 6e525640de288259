"""Which test a finding fails (``pytest --race``), without pytest: the Blame's rules one by one."""

from __future__ import annotations

from dataclasses import dataclass, replace

from racefree.detector.blame import Blame, Item
from racefree.detector.findings import Access, Deadlock, Frame, LockEdge, LockInfo, Race

TEST_A = Item("test_a.py::test_a", ("/t/test_a.py", "test_a"))
TEST_B = Item("test_b.py::test_b", ("/t/test_b.py", "test_b"))
IGNORED = Item("test_c.py::test_c", ("/t/test_c.py", "test_c"), ignored=True)


@dataclass(frozen=True)
class Thread:
    name: str
    alive: bool = True

    def is_alive(self) -> bool:
        return self.alive


def _race(thread: str = "MainThread", created_in: tuple[str, str] | None = None, count: int = 1) -> Race:
    here = (Frame("/app/x.py", 3, "f"),)
    made = (Frame(created_in[0], 9, created_in[1]),) if created_in else ()
    return Race("lost-update", "X.n", Access("write", thread, here, thread_created_at=made),
                Access("read", "MainThread", here), count=count)


def _deadlock() -> Deadlock:
    f = (Frame("/app/x.py", 1, "f"),)
    return Deadlock(locks=(LockInfo("M1", "Lock", None), LockInfo("M2", "Lock", None)),
                    edges=(LockEdge("M1", "M2", "T", f, f), LockEdge("M2", "M1", "T", f, f)))


def test_a_race_during_a_test_fails_it() -> None:
    blame, race = Blame(), _race()
    assert blame.races_of(TEST_A, [race]) == [race]
    assert blame.reported == [race] and not blame.fails_session
    assert blame.hit_list() == [(race, [TEST_A.nodeid])]


def test_a_thread_a_test_leaked_is_blamed_on_that_test_at_session_end() -> None:
    blame = Blame()
    blame.call_starting([Thread("MainThread")])
    blame.test_finished(TEST_A, [Thread("MainThread"), Thread("worker-1"), Thread("done", alive=False)])
    race = _race("worker-1")
    assert blame.races_of(TEST_B, [race]) == []
    why = f"involves a thread started by {TEST_A.nodeid}, which outlived it"
    assert blame.session_end == [(race, why)]
    assert blame.why(race) == f"racefree: race {why}"
    assert blame.fails_session
    assert blame.hit_list() == [(race, ["the session-end report"])]
    assert blame.races_of(TEST_B, [_race("done")]) != []  # a thread that ended with its test is no leak


def test_an_unjoined_thread_made_by_an_earlier_test_function_is_blamed_on_that_test() -> None:
    blame = Blame()
    blame.test_finished(TEST_A, [])
    assert blame.races_of(TEST_B, [_race("Thread-3", created_in=TEST_A.function)]) == []
    assert blame.session_end[0][1].startswith(f"involves a thread started by {TEST_A.nodeid}")
    # the test's own function creating the thread is its own race
    own = _race("Thread-4", created_in=TEST_B.function)
    blame.test_finished(TEST_B, [])
    assert blame.races_of(TEST_B, [own]) == [own]


def test_race_ignore_drops_the_races_of_the_test_and_of_the_threads_it_leaked() -> None:
    blame = Blame()
    assert blame.races_of(IGNORED, [_race()]) == []
    blame.test_finished(IGNORED, [Thread("leaked")])
    assert blame.races_of(TEST_B, [_race("leaked")]) == []
    blame.defer([_race("leaked")], "detected between tests")
    assert blame.ignored == 3 and blame.reported == [] and not blame.fails_session


def test_races_between_tests_go_to_the_session_end_report_with_their_reason() -> None:
    blame, race = Blame(), _race()
    blame.defer([race], "detected between tests")
    assert blame.session_end == [(race, "detected between tests")]
    assert blame.why(race) == "racefree: race detected between tests"
    assert blame.why(_race()) is None


def test_deadlocks_fail_the_test_during_which_the_cycle_closed_unless_it_is_ignored() -> None:
    blame, d = Blame(), _deadlock()
    assert blame.deadlocks_of(TEST_A, [d]) == [d]
    assert blame.deadlocks_of(IGNORED, [_deadlock()]) == []
    assert blame.ignored_deadlocks == 1
    later = _deadlock()
    blame.defer_deadlocks([later], "detected after the last test")
    assert blame.deadlocks == [d, later]
    assert blame.why(later) == "racefree: potential deadlock detected after the last test"


def test_a_race_fails_only_the_first_test_the_others_that_hit_it_are_named() -> None:
    blame = Blame()
    source = _race(count=1)
    shown = blame.shown_as(source, replace(source))  # the report's copy, trimmed
    assert blame.races_of(TEST_A, [shown]) == [shown]
    blame.note_hits(TEST_A.nodeid)
    source.count = 2  # the detector saw it again during test_b
    blame.note_hits(TEST_B.nodeid)
    blame.note_hits(TEST_B.nodeid)
    assert blame.hit_list() == [(shown, [TEST_A.nodeid, TEST_B.nodeid])]
    assert repr(blame) == "<Blame reported=1 session_end=0 deadlocks=0 ignored=0+0>"
