"""The happens-before hook: each primitive reports exactly its documented edges, and nothing by default."""

from __future__ import annotations

import subprocess
import sys
import threading
import weakref

import pytest
from sync_helpers import RecordingListener

from racefree.sync import AtomicInt, AtomicRef, ConcurrentMap, RWLock, ShardedCounter, Snapshot, _backend, _hb


def test_no_listener_is_attached_by_default_and_atomics_are_the_plain_classes() -> None:
    code = (
        "import racefree.sync as s, racefree.sync._hb as hb\n"
        "assert hb.listener is None, hb.listener\n"
        "assert type(s.AtomicInt()) is s.AtomicInt, type(s.AtomicInt())\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "ok\n"


def test_an_atomic_created_without_a_listener_reports_nothing_and_pays_nothing() -> None:
    recorder = RecordingListener()
    a = AtomicInt()
    previous = _hb.attach(recorder)
    try:
        a.increment()
    finally:
        _hb.detach(previous)
    assert type(a) is AtomicInt
    assert recorder.events == []


def test_attach_returns_the_previous_listener_and_detach_restores_it() -> None:
    first, second = RecordingListener(), RecordingListener()
    before = _hb.attach(first)
    try:
        assert _hb.attach(second) is first
        _hb.detach(first)
        assert _hb.listener is first
    finally:
        _hb.detach(before)
    assert _hb.listener is before


@pytest.mark.parametrize("backend", sorted(_backend.AVAILABLE))
def test_atomic_int_edges(listener: RecordingListener, backend: str) -> None:
    a = _backend.AVAILABLE[backend].int_type(0)
    assert type(a).__name__.startswith("Reporting")
    a.load()
    assert listener.take() == [("acquire", a)]
    a.store(1)
    assert listener.take() == [("release", a)]
    for op in (lambda: a.add(2), a.increment, lambda: a.swap(5), lambda: a.compare_and_swap(5, 6)):
        op()
        assert listener.take() == [("acquire_release", a)]  # a read-modify-write is both, as one step
    assert a.load() == 6


def test_atomic_ref_edges(listener: RecordingListener) -> None:
    r: AtomicRef[int] = AtomicRef()
    r.load()
    assert listener.take() == [("acquire", r)]
    r.store(1)
    assert listener.take() == [("release", r)]
    r.swap(2)
    r.compare_and_swap(2, 3)
    assert listener.take() == [("acquire_release", r)] * 2


def test_sharded_counter_edges(listener: RecordingListener) -> None:
    c = ShardedCounter()
    c.add(3)
    assert listener.take() == [("release", c)]
    c.handle().add(1)
    assert listener.take() == [("release", c)]
    assert c.value() == 4
    assert listener.take() == [("acquire", c)]


def test_snapshot_edges(listener: RecordingListener) -> None:
    s = Snapshot(0)
    s.get()
    assert listener.take() == [("acquire", s)]
    s.set(1)
    assert listener.take() == [("release", s)]
    s.update(lambda v: v + 1)
    assert listener.take() == [("acquire", s), ("release", s)]


def test_concurrent_map_edges_are_per_key(listener: RecordingListener) -> None:
    m: ConcurrentMap[str, int] = ConcurrentMap()
    hash(m._clock)  # sync keys must be hashable; the map itself, a dict, is not
    weakref.ref(m._clock)  # and a detector keys its clocks weakly by the primitive
    m["a"] = 1
    assert listener.take() == [("release", (m._clock, "a"))]
    m["a"]
    m.get("b")
    "a" in m  # noqa: B015
    a, b = (m._clock, "a"), (m._clock, "b")
    assert listener.take() == [("acquire", a), ("acquire", b), ("acquire", a)]
    m.compute("a", lambda v: v + 1)
    assert listener.take() == [("acquire", (m._clock, "a")), ("release", (m._clock, "a"))]
    m.setdefault("b", 2)
    assert listener.take() == [("release", (m._clock, "b")), ("acquire", (m._clock, "b"))]
    m.setdefault("b", 3)  # present: a read
    assert listener.take() == [("acquire", (m._clock, "b"))]
    assert m.snapshot() == {"a": 2, "b": 2}
    assert listener.take() == [("acquire", (m._clock, "a")), ("acquire", (m._clock, "b"))]
    m.pop("a")
    assert listener.take() == [("acquire", (m._clock, "a")), ("release", (m._clock, "a"))]
    m.update({"c": 1})
    del m["c"]
    assert listener.take() == [("release", (m._clock, "c")), ("release", (m._clock, "c"))]
    m.clear()
    assert listener.take() == [("release", (m._clock, "b"))]


class LockedModeRWLock(RWLock):
    __slots__ = ()


@pytest.mark.parametrize("cls", [RWLock, LockedModeRWLock], ids=["default-mode", "locked-mode"])
def test_rwlock_edges(listener: RecordingListener, cls: type[RWLock]) -> None:
    rw = cls()
    w, r = (rw, "write"), (rw, "read")
    with rw.read():
        assert listener.take() == [("acquire", w)]
    assert listener.take() == [("release", r)]
    with rw.write():
        assert listener.take() == [("acquire", w), ("acquire", r)]
    assert listener.take() == [("release", w)]


def test_release_write_is_reported_before_the_waiting_reader_acquires(listener: RecordingListener) -> None:
    rw = RWLock()
    rw.acquire_write()
    t = threading.Thread(target=lambda: (rw.acquire_read(), rw.release_read()))
    t.start()
    while rw.statistics().waiting_readers == 0:
        pass
    rw.release_write()
    t.join(30)
    events = listener.take()
    assert events[events.index(("release", (rw, "write"))) + 1] == ("acquire", (rw, "write"))


@pytest.mark.parametrize("cls", [RWLock, LockedModeRWLock], ids=["default-mode", "locked-mode"])
def test_misuse_reports_no_edge(listener: RecordingListener, cls: type[RWLock]) -> None:
    rw = cls()
    with pytest.raises(Exception, match="release_read"):
        rw.release_read()
    assert listener.take() == []


def test_reads_report_only_on_objects_created_while_a_detector_listens() -> None:
    m = ConcurrentMap({"a": 1})
    s = Snapshot(0)
    handle = ShardedCounter().handle()
    recorder = RecordingListener()
    previous = _hb.attach(recorder)
    try:
        m["a"]
        m.get("a")
        s.get()
        handle.add()
        assert recorder.take() == []  # the hot read paths of pre-existing objects stay one lookup
        m["b"] = 2
        s.set(1)
        assert recorder.take() == [("release", (m._clock, "b")), ("release", s)]  # writes always report
    finally:
        _hb.detach(previous)
    assert type(m) is ConcurrentMap and type(s) is Snapshot
