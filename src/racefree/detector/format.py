"""The Go-style text report (``racefree run --format text``).

One block per distinct race::

    ==================
    WARNING: DATA RACE (lost-update)
    Write at Counter.n by thread Thread-2 (worker):
      incr() /path/file.py:12
      run() /path/file.py:20

    Previous write at Counter.n by thread Thread-1 (worker):
      incr() /path/file.py:12

    Thread Thread-2 (worker) created at:
      main() /path/file.py:30

    Thread Thread-1 (worker) created at:
      main() /path/file.py:30

    Seen 41 times.
    ==================

The kind is omitted for a strict-mode ``data-race`` (exactly Go's header); a
thread with no creation stack (the main thread, or one the detector did not see
start) has no "created at" section; "Seen N times" appears when N > 1.  Every
function here is pure.
"""

from __future__ import annotations

from collections.abc import Iterable

from racefree.detector.report import Access, Frame, Race

RULE = "=================="


def _frame(f: Frame) -> str:
    return f"  {f.function}() {f.file}:{f.line}"


def _stack(frames: Iterable[Frame]) -> list[str]:
    lines = [_frame(f) for f in frames]
    return lines or ["  <no user frames>"]


def _header(access: Access, location: str, previous: bool) -> str:
    op = access.op.capitalize() if not previous else f"Previous {access.op}"
    return f"{op} at {location} by thread {access.thread}:"


def format_race(race: Race) -> str:
    """The report block of one race (no trailing newline)."""
    title = "WARNING: DATA RACE" if race.kind == "data-race" else f"WARNING: DATA RACE ({race.kind})"
    lines = [RULE, title, _header(race.current, race.location, False)]
    lines += _stack(race.current.stack)
    lines += ["", _header(race.previous, race.location, True)]
    lines += _stack(race.previous.stack)
    seen: set[str] = set()
    for access in (race.current, race.previous):
        if access.thread_created_at and access.thread not in seen:
            seen.add(access.thread)
            lines += ["", f"Thread {access.thread} created at:"]
            lines += _stack(access.thread_created_at)
    if race.count > 1:
        lines += ["", f"Seen {race.count} times."]
    lines.append(RULE)
    return "\n".join(lines)


def format_summary(races: list[Race], *, seed: int | None = None) -> str:
    """``Found N data race(s)``, with the stress seed when there was one."""
    text = f"Found {len(races)} data race(s)"
    if seed is not None:
        text += f" (stress seed {seed})"
    return text


def format_report(races: list[Race], *, seed: int | None = None) -> str:
    """Every race block, then the summary line."""
    return "\n".join([*(format_race(r) for r in races), format_summary(races, seed=seed)]) + "\n"
