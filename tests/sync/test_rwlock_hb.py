"""RWLock's happens-before edges, as a detector hears them, on every implementation.

``release_write`` happens before every later ``acquire_read``/``acquire_write``
(key ``(lock, "write")``); ``release_read`` before every later
``acquire_write`` (key ``(lock, "read")``).  The free-threaded implementation's
per-thread cells are AtomicInts: they must never report edges of their own.
"""

from __future__ import annotations

import threading
import time

import pytest
from sync_helpers import RecordingListener
from test_rwlock import MODES

from racefree.sync import LockNotHeldError, RWLock

modes = pytest.mark.parametrize("make_rw", [MODES[k] for k in sorted(MODES)], ids=sorted(MODES))


@modes
def test_edges_of_read_and_write(listener: RecordingListener, make_rw: type[RWLock]) -> None:
    rw = make_rw()
    w, r = (rw, "write"), (rw, "read")
    with rw.read():
        assert listener.take() == [("acquire", w)]
        with rw.read():  # re-entrant
            assert listener.take() == [("acquire", w)]
        assert listener.take() == [("release", r)]
    assert listener.take() == [("release", r)]
    with rw.write():
        assert listener.take() == [("acquire", w), ("acquire", r)]
    assert listener.take() == [("release", w)]


@modes
def test_a_parked_reader_acquires_after_the_release_that_admitted_it(
    listener: RecordingListener, make_rw: type[RWLock]
) -> None:
    rw = make_rw()
    rw.acquire_write()
    t = threading.Thread(target=lambda: (rw.acquire_read(), rw.release_read()))
    t.start()
    deadline = time.monotonic() + 30
    while rw.statistics().waiting_readers == 0:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    rw.release_write()
    t.join(30)
    events = listener.take()
    assert events[-3:] == [("release", (rw, "write")), ("acquire", (rw, "write")), ("release", (rw, "read"))]


@modes
def test_writer_waits_for_a_reader_and_acquires_its_release(
    listener: RecordingListener, make_rw: type[RWLock]
) -> None:
    rw = make_rw()
    rw.acquire_read()
    t = threading.Thread(target=lambda: (rw.acquire_write(), rw.release_write()))
    t.start()
    deadline = time.monotonic() + 30
    while rw.statistics().waiting_writers == 0:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    rw.release_read()
    t.join(30)
    assert listener.take()[-4:] == [
        ("release", (rw, "read")),
        ("acquire", (rw, "write")),
        ("acquire", (rw, "read")),
        ("release", (rw, "write")),
    ]


@modes
def test_misuse_and_failed_acquires_report_no_edge(
    listener: RecordingListener, make_rw: type[RWLock]
) -> None:
    rw = make_rw()
    with pytest.raises(LockNotHeldError):
        rw.release_read()
    with pytest.raises(LockNotHeldError):
        rw.release_write()
    rw.acquire_read()
    listener.take()
    got: list[bool] = []
    t = threading.Thread(target=lambda: got.append(rw.acquire_write(timeout=0.01)))
    t.start()
    t.join(30)
    assert got == [False]
    assert listener.take() == []
    rw.release_read()
