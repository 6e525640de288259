"""Call stacks for reports: cheap capture now, readable frames later.

A captured stack is a flat tuple ``(code, lasti, code, lasti, ...)`` of the
frames *outside* the access site, innermost first: capturing costs a walk but
no line-number decoding; :func:`frames` turns it into :class:`report.Frame`
objects only when a race is reported.  Frames of the detector itself and of the
thread machinery of the standard library (``threading``, ``queue``,
``concurrent.futures``, ``runpy``), of racefree's command line and pytest
plugin, and of pytest itself never appear in reports.

A stack the walk cut at ``MAX_DEPTH`` frames ends with the pair ``(None, 0)``;
:func:`frames_and_gap` says when a report's stack is partial, and why
(``PARTIAL_*``).

This module holds no shared state besides the constant filter set.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from types import CodeType, FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from racefree.detector.findings import Frame

MAX_DEPTH = 24

_getframe = sys._getframe
_DETECTOR_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# the standard library's thread machinery, by file: named, not imported (a run that never
# uses concurrent.futures must not pay for importing it)
_STDLIB_DIR = os.path.dirname(threading.__file__ or "")
_MACHINERY_FILES = [os.path.join(_STDLIB_DIR, *rel.split("/")) for rel in (
    "threading.py", "queue.py", "runpy.py", "concurrent/futures/_base.py", "concurrent/futures/thread.py")]
_HIDDEN_FILES = frozenset([os.path.abspath(f) for f in _MACHINERY_FILES] + _MACHINERY_FILES)
# Where the harness (racefree's command line, runner and pytest plugin) hands over
# to the program: it and every frame outside it (the console script, the
# interpreter's -m machinery, pytest's main) are the launcher's, never the
# program's, so a stack ends there.
_HARNESS_FILES = frozenset(
    [_DETECTOR_DIR + "runner.py"]
    + [_PACKAGE_DIR + name for name in ("cli.py", "__main__.py", "pytest_plugin.py")]
)
# test runners whose frames sit above the user's tests (added once they are imported)
_RUNNER_PACKAGES = ("_pytest", "pluggy")
_hidden_dirs: tuple[str, ...] = (_DETECTOR_DIR,)
_runners_seen: frozenset[str] = frozenset()


def _refresh_hidden_dirs() -> None:
    global _hidden_dirs, _runners_seen
    seen = frozenset(name for name in _RUNNER_PACKAGES if name in sys.modules)
    if seen == _runners_seen:
        return
    dirs = [_DETECTOR_DIR]
    for name in seen:
        f = getattr(sys.modules[name], "__file__", None)
        if f:
            dirs.append(os.path.dirname(os.path.abspath(f)) + os.sep)
    _hidden_dirs, _runners_seen = tuple(dirs), seen

Captured = tuple[Any, ...]
EMPTY: Captured = ()

# why a report's stack is not the whole user stack (Access.partial)
PARTIAL_NOT_RECORDED = (
    "only this line was recorded (the location was not yet shared, or its history was evicted)"
)
PARTIAL_DEPTH = f"cut at {MAX_DEPTH} frames: the callers further out were not recorded"


def hidden(filename: str) -> bool:
    """Whether frames of `filename` are left out of reports."""
    return filename in _HIDDEN_FILES or filename.startswith(_hidden_dirs) or filename.startswith("<frozen ")


def capture(frame: FrameType | None) -> Captured:
    """The stack from `frame` outward (unfiltered, at most MAX_DEPTH frames)."""
    out: list[Any] = []
    n = 0
    while frame is not None and n < MAX_DEPTH:
        out.append(frame.f_code)
        out.append(frame.f_lasti)
        frame = frame.f_back
        n += 1
    if frame is not None:  # cut: say so (frames_and_gap)
        out.append(None)
        out.append(0)
    return tuple(out)


def instrumented_frame() -> FrameType | None:
    """The frame of the instrumented code that called into the detector (the access site's frame)."""
    f: FrameType | None = _getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_DETECTOR_DIR):
        f = f.f_back
    return f


def capture_outside_site() -> Captured:
    """The stack of the code that called the instrumented function.

    Skips the detector's frames (the access functions, the rewriter's helpers)
    and the instrumented frame itself, whose position is the site tuple.
    """
    f: FrameType | None = _getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_DETECTOR_DIR):
        f = f.f_back
    if f is not None:
        f = f.f_back
    return capture(f)


def flows_into(read: Captured, read_line: int, write: Captured, write_line: int) -> bool:
    """Whether a read (its callers captured as `read`, at `read_line`) can feed a write (`write`,
    `write_line`) of the same thread.

    Both stacks are compared from their outermost frame.  Where they first differ
    is the common caller: the read must come from code of it that runs before the
    write's (a lower instruction offset, or an earlier line where only one side has
    an offset: ``v = load(s)`` then ``save(s, v + 1)``; ``o.count = o.count + 1``
    through a property), and that code must not drop the result (``probe.peek()``
    as a statement reads nothing the caller uses).  A read in a later statement
    than the write's (the previous loop iteration's ``get_stats()`` before this
    iteration's ``process()``) feeds nothing, nor does a read under another caller.
    """
    i, j = len(read) - 2, len(write) - 2
    while i >= 0 and j >= 0 and read[i] is write[j] and read[i + 1] == write[j + 1]:
        i -= 2
        j -= 2
    if i < 0:  # read in the common frame itself, which then called into the write
        return j < 0 or read_line <= _line(write[j], write[j + 1])
    if _discarded(read[i], read[i + 1]):
        return False
    if j < 0:  # the common frame called into the read, then wrote itself
        return _line(read[i], read[i + 1]) <= write_line
    return read[i] is write[j] and read[i + 1] < write[j + 1]


@functools.lru_cache(maxsize=512)
def _discarded(code: CodeType, lasti: int) -> bool:
    """Whether the instruction at `lasti` (a call, an attribute load) is followed by ``POP_TOP``."""
    import dis  # here: only python mode's rare cross-frame reads need it

    for ins in dis.get_instructions(code):  # (3.11's lasti points into the call's inline caches)
        if ins.offset > lasti:
            return ins.opname == "POP_TOP"
    return False


def capture_user(depth: int) -> Captured:
    """The stack of the user code that called into the detector (e.g. ``Thread.start``)."""
    return capture(_getframe(depth + 1))


def _line(code: CodeType, lasti: int) -> int:
    for start, end, line in code.co_lines():
        if start <= lasti < end:
            return line if line is not None else code.co_firstlineno
    return code.co_firstlineno


def frames(captured: Captured) -> tuple[Frame, ...]:
    """The captured stack as report frames, detector and thread machinery removed."""
    return frames_and_gap(captured)[0]


def frames_and_gap(captured: Captured) -> tuple[tuple[Frame, ...], str | None]:
    """:func:`frames`, and why they are not the whole user stack (None when they are).

    A stack cut at ``MAX_DEPTH`` is partial only when its outermost recorded
    frame is the program's: past a test runner's frames, nothing of the
    program's was lost.
    """
    from racefree.detector.findings import Frame

    _refresh_hidden_dirs()
    out = []
    gap: str | None = None
    last_hidden = False
    for i in range(0, len(captured), 2):
        code = captured[i]
        if code is None:
            gap = None if last_hidden else PARTIAL_DEPTH
            break
        if code.co_filename in _HARNESS_FILES:
            break
        last_hidden = hidden(code.co_filename)
        if last_hidden:
            continue
        out.append(Frame(code.co_filename, _line(code, captured[i + 1]), code.co_name))
    return tuple(out), gap


def site_frame(site: tuple[Any, ...]) -> Frame:
    """The access site as a report frame."""
    from racefree.detector.findings import Frame

    return Frame(str(site[0]), int(site[1]), str(site[2]))
