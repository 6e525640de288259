"""The C fast path against the Python reference: the same random programs, the same races.

Hypothesis writes small two- and three-thread programs of accesses (reads, writes,
read-modify-writes, guard reads, dict and list operations, iterations) and lock
sections; a scheduler hands the turn from thread to thread through raw ``_thread``
locks (no happens-before the detector could see), so both runs interleave the steps
in exactly the same order.  Both back-ends must report the same races, with the
same counts, in both modes.
"""

from __future__ import annotations

import _thread
import threading
import weakref
from collections.abc import Callable
from typing import Any

import pytest
from _engine_support import site
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from racefree.detector import Detector, speedups
from racefree.detector import runtime as rf
from racefree.detector.events import ATTR, CELL, F_AUGMENTED, F_GUARD, F_ITERATION, GLOBAL, ITEM, SIZE
from racefree.detector.instrument import support

# captured at import: while a detector records, _thread.allocate_lock() makes a tracked lock
_raw_lock = _thread.allocate_lock

pytestmark = pytest.mark.skipif(speedups._load()[0] is None, reason="C fast path not built")


class Obj:
    def __init__(self) -> None:
        self.a = 0
        self.b = 0


class Prop:
    """An attribute behind a property: the accessor's own field is the location."""

    def __init__(self) -> None:
        self._v = 0

    @property
    def v(self) -> int:
        rf.read(ATTR, self, "_v", site(90, "Prop.v"))
        return self._v

    @v.setter
    def v(self, value: int) -> None:
        rf.write(ATTR, self, "_v", site(91, "Prop.v"))
        self._v = value


def _cell() -> Any:
    x = 0
    return (lambda: x).__closure__[0]  # type: ignore[index]


def load_a(obj: Obj) -> int:
    rf.read(ATTR, obj, "a", site(95, "load_a"))
    return obj.a


def save_a(obj: Obj, value: int) -> None:
    rf.write(ATTR, obj, "a", site(96, "save_a"))
    obj.a = value


class World:
    """The shared state of one run, created inside the detector."""

    def __init__(self) -> None:
        self.objs = [Obj(), Obj()]
        self.d: dict[str, int] = {"k0": 0}
        self.lst = [0, 0]
        self.lock = threading.Lock()
        self.prop = Prop()
        self.cell = _cell()
        self.g: dict[str, Any] = {"v": 0}  # a module's globals
        self.ws: weakref.WeakSet[Obj] = weakref.WeakSet()
        self.wvd: weakref.WeakValueDictionary[str, Obj] = weakref.WeakValueDictionary()


KEEP = [Obj(), Obj()]  # weak containers' elements, alive for the whole test
# one step: (thread index, operation name, operand, site line)
OPS = (
    "read", "write", "rmw", "guard", "dget", "dset", "ddel", "lget", "lappend", "iter", "locked_rmw",
    "lset", "liter", "slice", "cell", "glob", "xrmw", "peek", "prop",
    "wsadd", "wsiter", "wsin", "wvdset", "wvdget", "wvdguard", "fed", "blind", "copy", "tcopy",
)
steps = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from(OPS), st.integers(0, 3), st.integers(1, 3)),
    min_size=1, max_size=24,
)


def do(world: World, op: str, arg: int, line: int) -> None:
    s = site(line, f"f{line % 2}", text="obj")
    obj = world.objs[arg % 2]
    name = "a" if arg < 2 else "b"
    if op == "read":
        rf.read(ATTR, obj, name, s)
    elif op == "write":
        rf.write(ATTR, obj, name, s)
    elif op == "rmw":
        rs = site(line, "rmw", F_AUGMENTED)
        rf.read(ATTR, obj, name, rs)
        rf.write(ATTR, obj, name, rs)
    elif op == "guard":
        rf.read(ATTR, obj, name, site(line, "check", F_GUARD))
        rf.write(ATTR, obj, name, site(line + 10, "check"))
    elif op == "dget":
        rf.call(world.d.get, s, f"k{arg % 2}", 0)
    elif op == "dset":
        key = f"k{arg % 2}"
        rf.setitem(world.d, key, s)
        world.d[key] = arg
    elif op == "ddel":
        key = f"k{arg % 2}"
        rf.delitem(world.d, key, s)
        world.d.pop(key, None)
    elif op == "lget":
        rf.getitem(world.lst, arg % 2, s)
    elif op == "lappend":
        rf.call(world.lst.append, s, arg)
    elif op == "iter":
        for _ in rf.iterate(world.d, s):
            pass
    elif op == "lset":  # an element store: ITEM, and in strict mode the list's ELEMENTS
        rf.setitem(world.lst, arg % 2, s)
    elif op == "liter":
        for _ in rf.iterate(world.lst, s):
            pass
    elif op == "slice":  # same size (elements only) or growing (elements and size)
        support.store_slice(rf.setitem, rf.write, [arg] * (1 + arg % 2), world.lst, 0, 1, None, s)
        del world.lst[2:]
    elif op == "cell":
        (rf.read if arg % 2 else rf.write)(CELL, world.cell, "x", s)
    elif op == "glob":
        (rf.read if arg % 2 else rf.write)(GLOBAL, world.g, "v", s)
    elif op == "xrmw":  # a read-modify-write split across two functions
        v = load_a(world.objs[0])
        save_a(world.objs[0], v + 1)
    elif op == "peek":  # a read whose value is dropped, then a blind store
        load_a(world.objs[0])
        save_a(world.objs[0], arg)
    elif op == "prop":
        world.prop.v = world.prop.v + 1
    elif op == "wsadd":
        rf.call(world.ws.add, s, KEEP[arg % 2])
    elif op == "wsiter":
        for _ in rf.iterate(world.ws, s):
            pass
    elif op == "wsin":
        rf.contains(world.ws, KEEP[arg % 2], s)
    elif op == "wvdset":
        key = f"k{arg % 2}"
        rf.setitem(world.wvd, key, s)
        world.wvd[key] = KEEP[arg % 2]
    elif op == "wvdget":
        rf.call(world.wvd.get, site(line, "rmw", F_AUGMENTED), f"k{arg % 2}")
        rf.setitem(world.wvd, f"k{arg % 2}", site(line, "rmw", F_AUGMENTED))
    elif op == "wvdguard":
        rf.call(world.wvd.get, site(line, "check", F_GUARD), f"k{arg % 2}")
        rf.setitem(world.wvd, f"k{arg % 2}", site(line + 10, "check"))
    elif op in ("fed", "blind"):  # a store whose value's data flow does (not) include the read's line
        fn = f"flow{line}"
        rf.read(ATTR, obj, name, (*site(line, fn, text="obj"),))
        lines = (line, line + 2) if op == "fed" else (line + 2,)
        flow = (line - 1, line + 3, lines, arg % 2 == 0)
        rf.write(ATTR, obj, name, (*site(line + 2, fn, text="obj"), flow))
    elif op == "copy":  # list(d) of an exact dict: a snapshot (python mode)
        rf.call(list, site(line, "copier", F_ITERATION, "d"), world.d)
    elif op == "tcopy":  # tuple(d): item by item on 3.13t, an iteration
        rf.call(tuple, site(line, "copier", F_ITERATION, "d"), world.d)
    elif op == "locked_rmw":
        with world.lock:
            rs = site(line, "locked")
            rf.read(ITEM, world.d, "k0", rs)
            rf.write(ITEM, world.d, "k0", rs)
            rf.write(SIZE, world.lst, None, rs)


def run_program(program: list[tuple[int, str, int, int]], mode: str) -> list[tuple[Any, ...]]:
    """Run the steps in order, each in its thread, with no edge between threads but the lock's."""
    n = 1 + max(t for t, *_ in program)
    turns = [_raw_lock() for _ in range(n)]
    back = _raw_lock()
    for g in (*turns, back):
        g.acquire()
    work: list[list[Callable[[], None]]] = [[] for _ in range(n)]
    order = [t for t, *_ in program]
    with Detector(mode) as det:  # type: ignore[arg-type]
        world = World()
        for t, op, arg, line in program:
            work[t].append(lambda op=op, arg=arg, line=line: do(world, op, arg, line))

        def runner(i: int) -> None:
            for step in work[i]:
                turns[i].acquire()
                try:
                    step()
                finally:
                    back.release()

        threads = [threading.Thread(target=runner, args=(i,), name=f"T{i}") for i in range(n)]
        for th in threads:
            th.start()
        for t in order:
            turns[t].release()
            back.acquire()
        for th in threads:
            th.join()
    assert det.internal_errors == 0
    return sorted(
        (r.kind, r.location, r.count, r.current.op, r.previous.op,
         tuple(sorted((r.current.thread, r.previous.thread))),
         tuple(sorted(((f.line, f.function) for f in (r.current.site, r.previous.site) if f), key=str)))
        for r in det.races()
    )


@pytest.mark.parametrize("mode", ["python", "strict"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(program=steps)
def test_c_and_python_backends_report_the_same_races(
    program: list[tuple[int, str, int, int]],
    mode: str,
    monkeypatch: pytest.MonkeyPatch,
    detector_backend: str,
) -> None:
    if detector_backend != "c":
        return  # one run per example is enough: the test switches back-ends itself
    monkeypatch.setenv(speedups.ENV, "python")
    reference = run_program(program, mode)
    monkeypatch.setenv(speedups.ENV, "c")
    assert run_program(program, mode) == reference


def test_the_differential_harness_sees_races() -> None:
    # a lost update between two threads, and nothing when both hold the lock
    assert [r[0] for r in run_program([(0, "rmw", 0, 1), (1, "rmw", 0, 1)], "python")] == ["lost-update"]
    assert run_program([(0, "locked_rmw", 0, 1), (1, "locked_rmw", 0, 1)], "python") == []
    # weak containers are locations of their own
    assert [r[:2] for r in run_program([(0, "wsiter", 0, 1), (1, "wsadd", 0, 2)], "python")] == [
        ("iteration", "WeakSet obj")
    ]
    assert [r[:2] for r in run_program([(0, "wvdget", 0, 1), (1, "wvdget", 0, 1)], "python")] == [
        ("lost-update", "WeakValueDictionary obj['k0']")
    ]
