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

A python-mode lost update whose read is known shows three accesses, in the
order they race: the read, the other thread's write, and the write computed
from the read::

    ==================
    WARNING: DATA RACE (lost-update)
    Read at Counter.n by thread Thread-2 (worker):
      incr() /path/file.py:12
      run() /path/file.py:20

    Write at Counter.n by thread Thread-1 (worker), not ordered with that read:
      incr() /path/file.py:12

    Write at Counter.n by thread Thread-2 (worker), of a value computed from its read (it can
    overwrite the write of thread Thread-1 (worker)):
      incr() /path/file.py:12
      run() /path/file.py:20
    ...

A race on several keys of one container between the same two code sites is one
block, whose location ends in ``[*]``, after a line ``On 200 keys of set seen:
0, 1, 2, 3, 4, ...``.  A stack that is not the whole user stack ends with a
``[partial stack: why]`` line.

The kind is omitted for a strict-mode ``data-race`` (exactly Go's header); a
thread with no creation stack (the main thread, or one the detector did not see
start) has no "created at" section; "Seen N times" appears when N > 1.

One block per potential deadlock (a lock-order cycle; ThreadSanitizer's layout)::

    ==================
    WARNING: POTENTIAL DEADLOCK (lock-order inversion)
    Cycle in lock order graph: M1 => M2 => M1
      M1: Lock created at Account.__init__() /path/bank.py:5
      M2: Lock created at Account.__init__() /path/bank.py:5

    Lock M2 acquired while holding lock M1 by thread Thread-2 (transfer):
      transfer() /path/bank.py:11

    Lock M1 previously acquired by the same thread at:
      transfer() /path/bank.py:10

    Lock M1 acquired while holding lock M2 by thread Thread-1 (transfer):
      ...

    Thread Thread-2 (transfer) created at:
      main() /path/bank.py:20
    ==================

The first edge is the acquisition that closed the cycle.  Every function here
is pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from racefree.detector.findings import Access, Deadlock, Frame, LockEdge, Race

RULE = "=================="


def _frame(f: Frame) -> str:
    return f"  {f.function}() {f.file}:{f.line}"


def _stack(frames: Iterable[Frame], partial: str | None = None) -> list[str]:
    lines = [_frame(f) for f in frames] or ["  <no user frames>"]
    if partial is not None:
        lines.append(f"  [partial stack: {partial}]")
    return lines


def _header(access: Access, location: str, previous: bool) -> str:
    op = access.op.capitalize() if not previous else f"Previous {access.op}"
    return f"{op} at {location} by thread {access.thread}:"


def _keys_line(race: Race) -> list[str]:
    if race.keys <= 1:
        return []
    sample = ", ".join(race.key_sample)
    more = ", ..." if race.keys > len(race.key_sample) else ""
    return [f"On {race.keys} keys of {race.container}: {sample}{more}"]


def format_race(race: Race) -> str:
    """The report block of one race (no trailing newline)."""
    title = "WARNING: DATA RACE" if race.kind == "data-race" else f"WARNING: DATA RACE ({race.kind})"
    lines = [RULE, title, *_keys_line(race)]
    sides = race.sides()
    if sides is not None:  # a lost update whose read is known: read, other write, write from the read
        read, other, write = sides
        lines.append(f"Read at {race.location} by thread {read.thread}:")
        lines += _stack(read.stack, read.partial)
        lines += ["", f"Write at {race.location} by thread {other.thread}, not ordered with that read:"]
        lines += _stack(other.stack, other.partial)
        lines += ["", f"Write at {race.location} by thread {write.thread}, of a value computed from its read"
                      f" (it can overwrite the write of thread {other.thread}):"]
        lines += _stack(write.stack, write.partial)
        lines += _thread_origins((write, other))
    else:
        lines.append(_header(race.current, race.location, False))
        lines += _stack(race.current.stack, race.current.partial)
        lines += ["", _header(race.previous, race.location, True)]
        lines += _stack(race.previous.stack, race.previous.partial)
        lines += _thread_origins((race.current, race.previous))
    if race.count > 1:
        lines += ["", f"Seen {race.count} times."]
    lines += _confirmation(race.extra.get("confirmation"))
    lines.append(RULE)
    return "\n".join(lines)


def _confirmation(c: Any) -> list[str]:
    """The verdict of ``--confirm`` (confirm.Confirmation), when there is one."""
    if c is None:
        return []
    if c.status == "confirmed":
        lines = ["", f"CONFIRMED (attempt {c.attempts}): {c.observed}"]
    else:
        lines = ["", f"Not confirmed: {c.observed}"]
    if c.outcome:
        lines.append(f"  program under the directed schedule: {c.outcome}")
    lines.append(f"  replay: {c.replay}")
    return lines


def _thread_origins(sides: Iterable[Access | LockEdge]) -> list[str]:
    """Where each thread taking part was created, once per thread (the main thread has no entry)."""
    lines: list[str] = []
    seen: set[str] = set()
    for side in sides:
        if side.thread_created_at and side.thread not in seen:
            seen.add(side.thread)
            lines += ["", f"Thread {side.thread} created at:"]
            lines += _stack(side.thread_created_at)
    return lines


def format_deadlock(deadlock: Deadlock) -> str:
    """The report block of one potential deadlock (no trailing newline)."""
    names = [lk.name for lk in deadlock.locks]
    lines = [RULE, "WARNING: POTENTIAL DEADLOCK (lock-order inversion)",
             f"Cycle in lock order graph: {' => '.join([*names, names[0]])}"]
    lines += [f"  {lk.name}: {lk.describe()}" for lk in deadlock.locks]
    for edge in deadlock.edges:
        head = f"Lock {edge.acquired} acquired while holding lock {edge.held} by thread {edge.thread}:"
        lines += ["", head]
        lines += _stack(edge.acquired_stack)
        lines += ["", f"Lock {edge.held} previously acquired by the same thread at:"]
        lines += _stack(edge.held_stack)
    lines += _thread_origins(deadlock.edges)
    if deadlock.count > 1:
        lines += ["", f"Seen {deadlock.count} times."]
    lines.append(RULE)
    return "\n".join(lines)


def format_summary(races: list[Race], *, seed: int | None = None, deadlocks: Sequence[Deadlock] = ()) -> str:
    """``Found N data race(s)`` (``and M potential deadlock(s)`` when there are), with the stress seed."""
    text = f"Found {len(races)} data race(s)"
    if deadlocks:
        text += f" and {len(deadlocks)} potential deadlock(s)"
    if seed is not None:
        text += f" (stress seed {seed})"
    return text


def format_report(
    races: list[Race],
    *,
    seed: int | None = None,
    deadlocks: Sequence[Deadlock] = (),
    notes: Callable[[Race | Deadlock], str | None] | None = None,
) -> str:
    """Every race block, every deadlock block, then the summary line.

    `notes`, when given, is asked for each race and deadlock: a line it returns
    is printed just before that block (``pytest --race`` says why a race was not
    blamed on a test).
    """
    blocks: list[tuple[Race | Deadlock, str]] = [(r, format_race(r)) for r in races]
    blocks += [(d, format_deadlock(d)) for d in deadlocks]
    lines: list[str] = []
    for finding, block in blocks:
        note = notes(finding) if notes is not None else None
        lines += [block] if note is None else [note, block]
    return "\n".join([*lines, format_summary(races, seed=seed, deadlocks=deadlocks)]) + "\n"
