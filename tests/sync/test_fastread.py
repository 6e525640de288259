"""The optional C fast paths (``racefree.sync._fastread``): same contract as the Python code they replace.

The contract suites below run in-process on whichever base is in use (the C one
when the extension is built), and once more in a subprocess with
``RACEFREE_SYNC_FASTREAD=0`` (the Python bases), so both are checked on every
build that has the extension.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import weakref
from pathlib import Path

import pytest
from sync_helpers import RecordingListener, run_threads

from racefree.sync import RWLock, ShardedCounter, Snapshot, _fast, _hb
from racefree.sync._rwlock_wait import _PyGuardHolder, _RWLockCore
from racefree.sync.counter import _PyCounterCells
from racefree.sync.rwlock import _gil_enabled
from racefree.sync.snapshot import READ_PATH, _PyPublishedValue

HERE = Path(__file__).parent
BUILT = _fast.FASTREAD is not None


def test_the_bases_are_the_ones_the_loader_chose() -> None:
    assert READ_PATH == _fast.REASON
    if BUILT:
        assert READ_PATH == "C (racefree.sync._fastread)"
        assert Snapshot.__mro__[1].__name__ == "PublishedValue"
        assert ShardedCounter.__mro__[1].__name__ == "CounterCells"
        guard = "GILReadGuard" if _gil_enabled() else "ShardedReadGuard"
        assert type(RWLock().read()).__name__ == guard
        assert _RWLockCore.__mro__[1].__name__ == "GuardHolder"  # read()/write(): one C call
        assert type(RWLock.__dict__.get("read", RWLock.read)).__name__ == "method_descriptor"
    else:
        assert Snapshot.__mro__[1] is _PyPublishedValue
        assert ShardedCounter.__mro__[1] is _PyCounterCells
        assert _RWLockCore.__mro__[1] is _PyGuardHolder


def test_the_extension_leaves_the_gil_as_it_was() -> None:
    check = getattr(sys, "_is_gil_enabled", None)
    if check is None or not BUILT:
        pytest.skip("a default build, or the extension is not built")
    code = (
        "import sys; g = sys._is_gil_enabled(); import racefree.sync._fastread; "
        "print(g, sys._is_gil_enabled())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split()[0] == out.split()[1]


def test_the_python_bases_can_be_forced_and_pass_the_contract_suites() -> None:
    env = dict(os.environ, RACEFREE_SYNC_FASTREAD="0")
    code = "from racefree.sync.snapshot import READ_PATH; print(READ_PATH)"
    said = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert said.stdout == "python (forced by RACEFREE_SYNC_FASTREAD=0)\n"
    names = ("test_contract_snapshot_counter.py", "test_fastread.py", "test_hb.py", "test_rwlock.py")
    suites = [str(HERE / name) for name in names]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly", "-p", "no:cacheprovider", *suites,
         "-k", "not can_be_forced"],
        env=env, capture_output=True, text=True, cwd=HERE.parent.parent,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]


def test_snapshot_get_returns_the_published_object_itself() -> None:
    first, second = object(), object()
    s = Snapshot(first)
    assert s.get() is first
    s.set(second)
    assert s.get() is second
    with pytest.raises(TypeError):
        s.get(1)  # type: ignore[call-arg]


def test_a_snapshot_in_a_cycle_is_collected() -> None:
    class Box:
        snap: Snapshot[object]

    box = Box()
    box.snap = Snapshot(box)
    ref = weakref.ref(box.snap)
    del box
    gc.collect()
    assert ref() is None


def test_counter_add_takes_one_optional_argument_n() -> None:
    c = ShardedCounter()
    c.add()
    c.add(41)
    c.add(n=-2)
    assert c.value() == 40
    with pytest.raises(TypeError):
        c.add(1, 2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'm'"):  # both bases say so
        c.add(m=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        c.add("x")  # type: ignore[arg-type]
    assert c.value() == 40  # a failed add changes nothing


def test_counter_add_reports_its_release_before_the_write_when_a_detector_listens() -> None:
    c = ShardedCounter()
    recorder = RecordingListener()
    previous = _hb.attach(recorder)
    try:
        c.add(3)
    finally:
        _hb.detach(previous)
    assert recorder.events == [("release", c)]
    assert c.value() == 3


def test_counter_cells_under_threads_sum_exactly() -> None:
    c = ShardedCounter()
    run_threads(8, lambda i: [c.add(i) for _ in range(500)])
    assert c.value() == 500 * sum(range(8))
    assert c.statistics().cells == 8


def test_snapshot_readers_racing_a_writer_see_whole_values() -> None:
    s = Snapshot((0, 0))
    stop = threading.Event()
    bad: list[tuple[int, int]] = []

    def reader(i: int) -> None:
        while not stop.is_set():
            a, b = s.get()
            if a != b:
                bad.append((a, b))

    def writer() -> None:
        for k in range(2000):
            s.set((k, k))
        stop.set()

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    writer()
    for t in threads:
        t.join()
    assert bad == []
