"""run_threads, Check, and the two LabUI implementations."""

from __future__ import annotations

import io
import threading

import pytest

from racefree.automation import Metrics, MonitorSample
from racefree.lab.threads import Check, ThreadFailure, run_threads
from racefree.lab.ui import NullUI, RichUI


def test_run_threads_runs_every_index_once() -> None:
    seen: list[int] = []
    lock = threading.Lock()

    def body(i: int) -> None:
        with lock:
            seen.append(i)

    elapsed = run_threads(5, body)
    assert sorted(seen) == [0, 1, 2, 3, 4]
    assert elapsed >= 0


def test_run_threads_reraises_a_worker_exception() -> None:
    def body(i: int) -> None:
        if i == 2:
            raise KeyError("boom")

    with pytest.raises(ThreadFailure, match="1 of 3 threads raised") as info:
        run_threads(3, body)
    assert isinstance(info.value.__cause__, KeyError)


def test_check() -> None:
    assert Check("x", 3, 3).ok and not Check("x", 3, 2).ok
    assert Check("x", {"a": 1}, {"a": 1}).as_dict() == {"name": "x", "expected": {"a": 1},
                                                        "actual": {"a": 1}, "ok": True}


def _exercise(ui: NullUI | RichUI) -> None:
    ui.section("Exercise 9", "subtitle here")
    ui.table("A table", ("name", "value"), [("pi", 3.14159), ("big", 1234567), ("flag", True)])
    ui.note("a [bracketed] note", "bad")
    with ui.progress("working", 2) as advance:
        advance(1)
        advance(1)
    with ui.monitor("Monitor", 1) as on_sample:
        on_sample(MonitorSample(1, 0.5, Metrics().snapshot()))


def test_null_ui_accepts_everything() -> None:
    _exercise(NullUI())


def test_rich_ui_renders_tables_notes_and_the_monitor() -> None:
    out = io.StringIO()
    _exercise(RichUI(file=out))
    text = out.getvalue()
    for expected in ("Exercise 9", "subtitle here", "A table", "3.14", "1,234,567", "True",
                     "a [bracketed] note", "Monitor", "1/1", "0.50"):
        assert expected in text
