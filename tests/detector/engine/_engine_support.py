"""Helpers for driving the engine through racefree.detector.runtime from real threads."""

from __future__ import annotations

import _thread
import threading
from collections.abc import Callable
from typing import Any

from racefree.detector import runtime as rf
from racefree.detector.events import ATTR, F_AUGMENTED

# captured at import: while a detector records, _thread.allocate_lock() makes a tracked lock
_raw_lock = _thread.allocate_lock

FILE = "/src/app.py"


def site(line: int, func: str = "f", flags: int = 0, text: str = "obj") -> tuple[Any, ...]:
    return (FILE, line, func, flags, text)


class Box:
    """A plain object with one attribute."""

    def __init__(self) -> None:
        self.x = 0


W = site(10, "writer")
R = site(20, "reader")


def write_x(box: Any, s: tuple[Any, ...] = W) -> None:
    rf.write(ATTR, box, "x", s)
    box.x = 1


def read_x(box: Any, s: tuple[Any, ...] = R) -> Any:
    rf.read(ATTR, box, "x", s)
    return box.x


def incr_x(box: Any, s: tuple[Any, ...] = site(30, "incr", F_AUGMENTED)) -> None:
    rf.read(ATTR, box, "x", s)
    v = box.x
    rf.write(ATTR, box, "x", s)
    box.x = v + 1


def in_thread(fn: Callable[[], Any], name: str | None = None) -> None:
    """Run `fn` in a new thread and join it (start and join are happens-before edges)."""
    t = threading.Thread(target=fn, name=name)
    t.start()
    t.join()


def sequential_unordered(*fns: Callable[[], Any]) -> None:
    """Run each fn in its own thread, one after the other in real time, with NO happens-before
    between them: the threads are started together and handed over through raw `_thread`
    locks, which the detector never sees."""
    gates = [_raw_lock() for _ in fns]
    for g in gates:
        g.acquire()
    done = _raw_lock()
    done.acquire()

    def runner(i: int) -> None:
        gates[i].acquire()
        try:
            fns[i]()
        finally:
            if i + 1 < len(fns):
                gates[i + 1].release()
            else:
                done.release()

    threads = [threading.Thread(target=runner, args=(i,), name=f"T{i}") for i in range(len(fns))]
    for t in threads:
        t.start()
    gates[0].release()
    done.acquire()
    for t in threads:
        t.join()


def kinds(races: list[Any]) -> list[tuple[str, str]]:
    return sorted((r.kind, r.location) for r in races)
