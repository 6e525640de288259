"""The shadow's memory stays bounded on long runs, and what it forgets never invents a race."""

from __future__ import annotations

import gc
import threading
import types
from typing import Any

import pytest
from _engine_support import Box, kinds, read_x, sequential_unordered, site, write_x
from hypothesis import example, given, settings
from hypothesis import strategies as st

import racefree.detector.shadow as shadow_module
from racefree.detector import Detector
from racefree.detector import runtime as rf
from racefree.detector.clocks import ThreadState
from racefree.detector.events import ATTR, GLOBAL, SIZE
from racefree.detector.shadow import Cell, Shadow


def bookkeeping(shadow: Shadow, program: list[Any]) -> int:
    """How many objects the shadow keeps besides its cells' own fields.

    Walks everything reachable from the shadow, stopping at cells (their history is
    bounded by ``history_size``), thread states, the program's objects, types,
    functions and modules.
    """
    stop = {id(o) for o in program}
    seen: set[int] = set()
    todo: list[Any] = [shadow]
    while todo:
        obj = todo.pop()
        if id(obj) in seen or id(obj) in stop:
            continue
        seen.add(id(obj))
        if isinstance(obj, (Cell, ThreadState, type, types.FunctionType, types.ModuleType)):
            continue
        todo.extend(gc.get_referents(obj))
    return len(seen)


def test_a_long_lived_dict_taking_new_keys_keeps_bounded_bookkeeping() -> None:
    # A dict that lives for the whole run and keeps receiving new keys (a cache, a
    # registry of short-lived jobs): each key is a location, evicted in turn.  Nothing
    # kept for it may grow with the number of keys it ever had.
    d: dict[int, int] = {}
    users = [d] * 100  # referenced from many places (never mistaken for a dropped temporary)
    size_site, set_site = site(1, text="d"), site(2, text="d")
    measured = []
    with Detector("python", history_size=1024) as det:
        i = 0
        for rounds in (4, 12):
            while i < rounds * shadow_module.SWEEP_EVERY:
                rf.read(SIZE, d, None, size_site)
                rf.setitem(d, i, set_site)
                d[i] = i
                if i >= 64:
                    del d[i - 64]
                i += 1
            measured.append(bookkeeping(det.shadow, [d, users]))
        cells = len(det.shadow)
    assert cells <= 1024
    at_4, at_12 = measured
    assert at_12 <= at_4 + 512, f"the shadow grew with the run: {at_4} -> {at_12} objects"


def test_a_dropped_container_with_many_cells_is_released() -> None:
    # More cells than a hold remembers: the container is still let go at the next sweep
    # (its cells wait for eviction but no longer keep it alive).
    freed: list[bool] = []

    class Big(dict):  # type: ignore[type-arg]
        __slots__ = ()  # no weak references: held through a _Hold

        def __del__(self) -> None:
            freed.append(True)

    with Detector("strict") as det:
        big = Big()
        for i in range(4 * shadow_module.HOLD_KEYS):
            rf.setitem(big, i, site(1, text="big"))
        del big
        for i in range(shadow_module.SWEEP_EVERY + 1):  # enough new cells for a sweep
            rf.getitem({"i": i}, "i", site(2, text="tmp"))
        assert freed == [True]
        assert det.shadow.swept >= shadow_module.SWEEP_EVERY // 2  # the small temporaries' cells went


def test_leftover_cells_of_a_released_container_never_invent_a_race() -> None:
    # The released dict's cells past the first HOLD_KEYS stay until evicted; a new dict
    # at the same address, touched by another unordered thread, must start clean.
    keys = 4 * shadow_module.HOLD_KEYS
    last = keys - 1
    reused = 0
    with Detector("strict") as det:
        box: dict[str, int] = {}
        for _ in range(20):

            def writer() -> None:
                d = {i: i for i in range(keys)}
                for i in range(keys):
                    rf.setitem(d, i, site(1, text="d"))
                box["id"] = id(d)
                del d  # now only the shadow has it

            def reader() -> None:
                nonlocal reused
                det.shadow._sweep()  # releases d (in this thread: its memory is reused here first)
                made = []
                for _ in range(1000):  # a new dict at d's address, touched by this thread
                    fresh = {i: i for i in range(keys)}
                    if id(fresh) == box["id"]:
                        reused += 1
                        rf.getitem(fresh, last, site(3, text="fresh"))
                        break
                    made.append(fresh)

            sequential_unordered(writer, reader)
    assert det.races() == []
    assert reused, "the allocator never reused the released dict's address: the test proved nothing"


def test_a_live_dict_whose_cells_were_evicted_and_recreated_keeps_its_history() -> None:
    # A cell evicted then created again must not count twice as "the shadow's own reference"
    # to the dict: the sweep would then take the live dict for a dropped one and forget it.
    d = {"k": 0}
    boxes = [Box() for _ in range(80)]

    def writer() -> None:
        for _ in range(10):
            for b in boxes:  # 80 cells in a history of 64: the oldest go, d's SIZE among them
                write_x(b)
            rf.read(SIZE, d, None, site(1, text="d"))  # created again after each eviction
        rf.setitem(d, "k", site(2, text="d"))
        det.shadow._sweep()

    with Detector("strict", history_size=64) as det:
        sequential_unordered(writer, lambda: rf.getitem(d, "k", site(3, text="d")))
    assert ("data-race", "dict d['k']") in kinds(det.races())


def test_a_module_global_is_one_location_whichever_way_it_is_first_touched() -> None:
    # GLOBAL (``count += 1`` inside the module) and ATTR of the module (``mod.count``) are
    # one cell; the global's namespace is held directly, never through a _Hold.
    mod = types.ModuleType("shared_state")
    mod.count = 0  # type: ignore[attr-defined]
    with Detector("strict") as det:
        sequential_unordered(
            lambda: rf.write(GLOBAL, mod.__dict__, "count", site(1, text="count")),
            lambda: rf.read(ATTR, mod, "count", site(2, text="count")),
        )
    assert kinds(det.races()) == [("data-race", "global count")]


# ------------------------------------------------- forgetting never invents a race

OPS = st.lists(
    st.tuples(
        st.integers(0, 2),  # thread: each one runs its steps unordered with the others
        st.sampled_from(["write", "read", "drop"]),
        st.integers(0, 3),  # which object of the pool
        st.integers(0, 5),  # which key or attribute
    ),
    max_size=60,
)


def run_program(ops: list[tuple[int, str, int, int]], history_size: int) -> set[tuple[str, str]]:
    """Run `ops` from three unordered threads over a pool of dicts, lists and Boxes."""
    pool: list[Any] = []

    def make(j: int) -> Any:
        return ({}, [0] * 6, Box(), {})[j]

    pool.extend(make(j) for j in range(4))

    def step(op: str, j: int, k: int) -> None:
        obj = pool[j]
        if op == "drop":
            pool[j] = make(j)
        elif isinstance(obj, Box):
            (write_x if op == "write" else read_x)(obj, site(10 + k, text="box"))
        elif op == "write":
            rf.setitem(obj, k, site(20 + j, text=f"c{j}"))
            obj[k] = k
        elif k in range(len(obj)) or (isinstance(obj, dict) and k in obj):
            rf.getitem(obj, k, site(30 + j, text=f"c{j}"))

    chunks: list[list[tuple[str, int, int]]] = []
    last = None
    for t, op, j, k in ops:
        if t != last:
            chunks.append([])
            last = t
        chunks[-1].append((op, j, k))

    def runner(chunk: list[tuple[str, int, int]]) -> Any:
        def run() -> None:
            for s in chunk:
                step(*s)

        return run

    with Detector("strict", history_size=history_size) as det:
        if chunks:
            sequential_unordered(*(runner(c) for c in chunks))
    return {(r.kind, r.location) for r in det.races()}


# a dict with cells left behind is released, and a new dict (likely at its address) is
# written by another thread at a forgotten key
RELEASED_THEN_REUSED = [
    (0, "write", 0, 0), (0, "write", 0, 1), (0, "write", 0, 2), (0, "write", 0, 3), (0, "drop", 0, 0),
    (1, "write", 3, 0), (1, "write", 3, 1), (1, "write", 3, 2), (1, "write", 3, 3), (1, "write", 3, 4),
    (1, "drop", 0, 0), (1, "write", 0, 3),
]


@settings(max_examples=60, deadline=None)
@given(OPS)
@example(RELEASED_THEN_REUSED)
def test_a_small_history_reports_a_subset_of_an_unbounded_one(ops: list[tuple[int, str, int, int]]) -> None:
    # With 16 cells, a sweep every 4 new ones and 2 keys per hold, almost everything is
    # forgotten early, and released containers leave cells behind:
    # races can be missed, but every one reported must also be found with all the history.
    saved = shadow_module.SWEEP_EVERY, shadow_module.HOLD_KEYS
    shadow_module.SWEEP_EVERY, shadow_module.HOLD_KEYS = 4, 2
    try:
        small = run_program(ops, 16)
    finally:
        shadow_module.SWEEP_EVERY, shadow_module.HOLD_KEYS = saved
    full = run_program(ops, 1 << 20)
    assert small <= full


@pytest.mark.parametrize("threads", [4])
def test_concurrent_cell_creation_and_sweeps_stay_consistent(threads: int) -> None:
    # Many threads creating cells for temporaries and one shared dict at once (truly at
    # once on the free-threaded build), with sweeps and evictions racing them: no internal
    # error, the shared dict's race is found, the shadow stays within its bounds.
    shared: dict[str, int] = {"k": 0}
    barrier = threading.Barrier(threads)

    def work(n: int) -> None:
        barrier.wait()  # an edge, but every later access is unordered again
        for i in range(3 * shadow_module.SWEEP_EVERY // threads):
            tmp = {"i": i, "n": n}
            rf.setitem(tmp, "i", site(1, text="tmp"))
            rf.getitem(tmp, "n", site(2, text="tmp"))
            if i % 64 == 0:
                rf.setitem(shared, "k", site(3, text="shared"))
                shared["k"] = i

    with Detector("strict", history_size=2048) as det:
        ts = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        cells = len(det.shadow)
        anchors = len(det.shadow.anchors)
    assert det.internal_errors == 0
    assert ("data-race", "dict shared['k']") in kinds(det.races())
    assert cells <= 2048 + threads * 2
    assert anchors <= 2048 + shadow_module.SWEEP_EVERY + threads


def test_eviction_order_stays_bounded_while_objects_come_and_go() -> None:
    # every object dies right after its access: its cell leaves the shadow by death, and the
    # eviction queue's entry for it must not pile up
    with Detector("strict", history_size=64) as d:
        for i in range(5000):
            box = Box()
            rf.write(ATTR, box, "x", site(i % 7))
            del box
    assert len(d.shadow.order) <= 2 * d.shadow.history_size + 1
    assert len(d.shadow) <= d.shadow.history_size


def test_eviction_takes_the_oldest_live_locations_first() -> None:
    boxes = [Box() for _ in range(40)]
    with Detector("strict", history_size=16) as d:
        for i, box in enumerate(boxes):
            rf.write(ATTR, box, "x", site(i))
    survivors = {k[0] for k in d.shadow.cells}
    assert survivors <= {id(b) for b in boxes[-16:]}
    assert d.shadow.evicted == 40 - len(survivors)
