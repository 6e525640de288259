"""Golden tests of the Go-style text report."""

from __future__ import annotations

from racefree.detector import Access, Frame, Race, format_race, format_report, format_summary


def _race(kind: str = "lost-update", count: int = 1) -> Race:
    made = (Frame("/app/main.py", 30, "main"), Frame("/app/main.py", 40, "<module>"))
    return Race(
        kind=kind,  # type: ignore[arg-type]
        location="Counter.n",
        current=Access(
            op="write",
            thread="Thread-2 (worker)",
            stack=(Frame("/app/counter.py", 12, "incr"), Frame("/app/main.py", 20, "worker")),
            thread_created_at=made,
        ),
        previous=Access(
            op="read",
            thread="Thread-1 (worker)",
            stack=(Frame("/app/counter.py", 12, "incr"),),
            thread_created_at=made,
        ),
        count=count,
    )


GOLDEN_LOST_UPDATE = """\
==================
WARNING: DATA RACE (lost-update)
Write at Counter.n by thread Thread-2 (worker):
  incr() /app/counter.py:12
  worker() /app/main.py:20

Previous read at Counter.n by thread Thread-1 (worker):
  incr() /app/counter.py:12

Thread Thread-2 (worker) created at:
  main() /app/main.py:30
  <module>() /app/main.py:40

Thread Thread-1 (worker) created at:
  main() /app/main.py:30
  <module>() /app/main.py:40

Seen 3 times.
=================="""


def test_golden_python_kind_with_count() -> None:
    assert format_race(_race(count=3)) == GOLDEN_LOST_UPDATE


def test_golden_strict_header_main_thread_and_single_count() -> None:
    race = _race(kind="data-race")
    race.previous = Access(op="write", thread="MainThread", stack=())
    assert format_race(race) == """\
==================
WARNING: DATA RACE
Write at Counter.n by thread Thread-2 (worker):
  incr() /app/counter.py:12
  worker() /app/main.py:20

Previous write at Counter.n by thread MainThread:
  <no user frames>

Thread Thread-2 (worker) created at:
  main() /app/main.py:30
  <module>() /app/main.py:40
=================="""


def test_summary_and_report() -> None:
    assert format_summary([]) == "Found 0 data race(s)"
    assert format_summary([_race(), _race()], seed=7) == "Found 2 data race(s) (stress seed 7)"
    report = format_report([_race(count=3)])
    assert report == GOLDEN_LOST_UPDATE + "\nFound 1 data race(s)\n"
