"""RWLock: exclusion, reader concurrency, the phase-fair policy, timeouts, misuse.

Liveness checks wait with generous timeouts (a failure mode, never a
performance bound); ordering checks are made deterministic by waiting until
``statistics()`` shows the expected waiters before the next step.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sync_helpers import run_threads

from racefree.sync import DeadlockError, LockNotHeldError, RWLock, RWLockStatistics, _backend, _fast
from racefree.sync._rwlock_ft import _make_cell_type, _ShardedRWLock
from racefree.sync.rwlock import _gil_enabled

pytestmark = pytest.mark.usefixtures("hb_mode")


class LockedModeRWLock(RWLock):
    """RWLock with its readers under the internal lock (the reference implementation)."""

    __slots__ = ()


def sharded_on(backend: str) -> type[RWLock]:
    """The free-threaded implementation with its reader cells on one AtomicInt back-end."""
    namespace = {"__slots__": (), "_Cell": _make_cell_type(_backend.AVAILABLE[backend])}
    return type(f"Sharded_{backend}", (_ShardedRWLock,), namespace)


# The sharded implementation does not rely on the GIL: it runs on both builds, on every back-end.
MODES: dict[str, type[RWLock]] = {"locked": LockedModeRWLock}
MODES.update({f"sharded-{name}": sharded_on(name) for name in _backend.AVAILABLE})
if _fast.FASTREAD is not None:  # the C reader cells the C read guard adds to directly (the default)
    MODES["sharded-readercell"] = type(
        "Sharded_readercell", (_ShardedRWLock,), {"__slots__": (), "_Cell": _fast.FASTREAD.ReaderCell}
    )
if _gil_enabled():  # the lock-free list paths are only valid (and only chosen) with the GIL
    MODES["gil"] = RWLock


@pytest.fixture(params=sorted(MODES))
def make_rw(request: pytest.FixtureRequest) -> type[RWLock]:
    return MODES[request.param]


def test_rwlock_picks_its_mode_from_the_interpreter() -> None:
    assert type(RWLock()).__name__ == ("_GILRWLock" if _gil_enabled() else "_ShardedRWLock")


LONG = 30.0  # seconds: only reached if the code under test hangs


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + LONG
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.001)


def start(target: Callable[[], object]) -> threading.Thread:
    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t


def test_initial_state_and_context_managers(make_rw: type[RWLock]) -> None:
    rw = make_rw()
    assert rw.statistics() == RWLockStatistics(readers=0, writer=None, waiting_readers=0, waiting_writers=0)
    assert repr(rw) == "<RWLock unlocked, waiting: 0 reader(s), 0 writer(s)>"
    with rw.read():
        assert rw.statistics().readers == 1
        assert repr(rw) == "<RWLock read-locked by 1 thread(s), waiting: 0 reader(s), 0 writer(s)>"
    with rw.write():
        assert rw.statistics().writer == threading.get_ident()
        me = threading.get_ident()
        assert repr(rw) == f"<RWLock write-locked by {me}, waiting: 0 reader(s), 0 writer(s)>"
    assert rw.statistics().readers == 0 and rw.statistics().writer is None


def test_context_manager_releases_on_exception(make_rw: type[RWLock]) -> None:
    rw = make_rw()
    with pytest.raises(ValueError), rw.write():
        raise ValueError
    with pytest.raises(ValueError), rw.read():
        raise ValueError
    assert rw.acquire_write(blocking=False)
    rw.release_write()


def test_readers_hold_the_lock_together(make_rw: type[RWLock]) -> None:
    """Eight readers meet at a barrier *inside* their read sections: impossible if reads excluded."""
    rw = make_rw()
    inside = threading.Barrier(8, timeout=LONG)

    def reader(i: int) -> None:
        with rw.read():
            inside.wait()

    run_threads(8, reader)


def test_mutual_exclusion_invariant_counters(make_rw: type[RWLock]) -> None:
    rw = make_rw()
    guard = threading.Lock()
    state = {"readers": 0, "writers": 0, "max_readers": 0}
    violations: list[str] = []

    def enter(kind: str) -> None:
        with guard:
            state[kind] += 1
            if state["writers"] > 1 or (state["writers"] and state["readers"]):
                violations.append(f"{state}")
            state["max_readers"] = max(state["max_readers"], state["readers"])

    def leave(kind: str) -> None:
        with guard:
            state[kind] -= 1

    def work(i: int) -> None:
        for k in range(400):
            if (i + k) % 4 == 0:
                with rw.write():
                    enter("writers")
                    time.sleep(0)
                    leave("writers")
            else:
                with rw.read():
                    enter("readers")
                    time.sleep(0)
                    leave("readers")

    run_threads(6, work)
    assert violations == []
    assert rw.statistics() == RWLockStatistics(0, None, 0, 0)


def test_a_writer_gets_in_while_eight_readers_loop(make_rw: type[RWLock]) -> None:
    rw = make_rw()
    stop = threading.Event()
    reads = [0] * 8

    def reader(i: int) -> None:
        while not stop.is_set():
            with rw.read():
                reads[i] += 1

    threads = [start(lambda i=i: reader(i)) for i in range(8)]
    try:
        wait_until(lambda: all(reads))  # every reader is looping
        assert rw.acquire_write(timeout=LONG), "writer starved by readers"
        rw.release_write()
    finally:
        stop.set()
        for t in threads:
            t.join(LONG)


def test_a_reader_gets_in_while_writers_loop(make_rw: type[RWLock]) -> None:
    rw = make_rw()
    stop = threading.Event()
    writes = [0] * 4

    def writer(i: int) -> None:
        while not stop.is_set():
            with rw.write():
                writes[i] += 1

    threads = [start(lambda i=i: writer(i)) for i in range(4)]
    try:
        wait_until(lambda: all(writes))
        for _ in range(20):
            assert rw.acquire_read(timeout=LONG), "reader starved by writers"
            rw.release_read()
    finally:
        stop.set()
        for t in threads:
            t.join(LONG)


def test_readers_waiting_when_a_writer_releases_go_before_the_next_writer(make_rw: type[RWLock]) -> None:
    rw = make_rw()
    order: list[str] = []
    rw.acquire_write()

    def reader() -> None:
        with rw.read():
            order.append("reader")

    def writer() -> None:
        with rw.write():
            order.append("writer2")

    r = start(reader)
    wait_until(lambda: rw.statistics().waiting_readers == 1)
    w = start(writer)
    wait_until(lambda: rw.statistics().waiting_writers == 1)
    rw.release_write()
    r.join(LONG)
    w.join(LONG)
    assert order == ["reader", "writer2"]


def test_timeouts_are_honoured_and_leave_no_trace(make_rw: type[RWLock]) -> None:
    rw = make_rw()
    holder_ready, release = threading.Event(), threading.Event()

    def hold_write() -> None:
        with rw.write():
            holder_ready.set()
            release.wait(LONG)

    t = start(hold_write)
    assert holder_ready.wait(LONG)
    t0 = time.monotonic()
    assert rw.acquire_read(timeout=0.05) is False
    assert rw.acquire_write(timeout=0.05) is False
    assert time.monotonic() - t0 >= 0.1
    assert rw.acquire_read(blocking=False) is False
    assert rw.acquire_write(blocking=False) is False
    assert rw.statistics().waiting_readers == 0 and rw.statistics().waiting_writers == 0
    release.set()
    t.join(LONG)
    assert rw.acquire_write(timeout=0)
    rw.release_write()


def test_a_writer_that_times_out_unblocks_the_readers_queued_behind_it(make_rw: type[RWLock]) -> None:
    rw = make_rw()
    rw.acquire_read()  # keeps the writer out
    writer_result: list[bool] = []
    queued_reader = threading.Event()

    def writer() -> None:
        writer_result.append(rw.acquire_write(timeout=1.0))  # long enough to be seen waiting under load

    def reader() -> None:
        with rw.read():
            queued_reader.set()

    w = start(writer)
    wait_until(lambda: rw.statistics().waiting_writers == 1)
    r = start(reader)
    wait_until(lambda: rw.statistics().waiting_readers == 1)  # blocked behind the writer
    w.join(LONG)
    assert writer_result == [False]
    assert queued_reader.wait(LONG)
    r.join(LONG)
    rw.release_read()


# -- misuse --------------------------------------------------------------------------------------------


def test_a_non_blocking_writer_gives_its_claim_back(make_rw: type[RWLock]) -> None:
    rw = make_rw()
    reading, done = threading.Event(), threading.Event()

    def reader() -> None:
        with rw.read():
            reading.set()
            done.wait(LONG)

    t = start(reader)
    assert reading.wait(LONG)
    assert rw.acquire_write(blocking=False) is False
    assert rw.statistics() == RWLockStatistics(readers=1, writer=None, waiting_readers=0, waiting_writers=0)
    assert rw.acquire_read(blocking=False)  # no claim left behind to block readers
    rw.release_read()
    done.set()
    t.join(LONG)
    assert rw.acquire_write(blocking=False)
    rw.release_write()


def test_release_read_without_holding_raises(make_rw: type[RWLock]) -> None:
    rw = make_rw()
    with pytest.raises(LockNotHeldError) as info:
        rw.release_read()
    assert str(info.value) == "release_read(): the calling thread holds no read share of this RWLock"


def test_leaving_a_read_block_not_entered_raises(make_rw: type[RWLock]) -> None:
    """The ``with rw.read():`` guard's exit (inlined on some implementations) checks like release_read."""
    rw = make_rw()
    with pytest.raises(LockNotHeldError) as info:
        rw.read().__exit__(None, None, None)
    assert str(info.value) == "release_read(): the calling thread holds no read share of this RWLock"
    assert rw.statistics().readers == 0 and rw.acquire_write(timeout=LONG)


def test_the_last_reader_leaving_its_with_block_wakes_the_draining_writer(make_rw: type[RWLock]) -> None:
    """A writer that claimed while readers were inside ``with rw.read():`` gets in as the last one leaves."""
    rw = make_rw()
    entered = threading.Barrier(3, timeout=LONG)
    leave = threading.Event()
    got: list[float] = []

    def reader() -> None:
        with rw.read():
            entered.wait()
            leave.wait(LONG)

    def writer() -> None:
        got.append(rw.acquire_write(timeout=LONG) and time.monotonic())
        rw.release_write()

    readers = [start(reader), start(reader)]
    entered.wait()
    w = start(writer)
    wait_until(lambda: rw.statistics().waiting_writers == 1)  # claimed, draining the two readers
    left = time.monotonic()
    leave.set()
    for t in (*readers, w):
        t.join(LONG)
    assert len(got) == 1 and got[0] and got[0] - left < LONG / 2
    assert rw.statistics() == RWLockStatistics(readers=0, writer=None, waiting_readers=0, waiting_writers=0)


def test_release_write_without_holding_raises(make_rw: type[RWLock]) -> None:
    rw = make_rw()
    with pytest.raises(LockNotHeldError) as info:
        rw.release_write()
    assert str(info.value) == "release_write(): the calling thread does not hold the write lock"


def test_only_the_owner_may_release(make_rw: type[RWLock]) -> None:
    rw = make_rw()
    rw.acquire_write()
    rw.acquire_write
    errors: list[BaseException] = []

    def other() -> None:
        try:
            rw.release_write()
        except LockNotHeldError as exc:
            errors.append(exc)

    t = start(other)
    t.join(LONG)
    assert len(errors) == 1
    assert rw.statistics().writer == threading.get_ident()
    rw.release_write()


def test_reentrant_acquires_that_would_deadlock_raise(make_rw: type[RWLock]) -> None:
    rw = make_rw()
    with rw.write():
        with pytest.raises(DeadlockError, match=r"^acquire_write\(\): the calling thread already holds"):
            rw.acquire_write()
        with pytest.raises(DeadlockError) as info:
            rw.acquire_read()
        assert str(info.value) == (
            "acquire_read() by the thread that holds the write lock would deadlock "
            "(RWLock does not downgrade)"
        )
    with rw.read():
        with pytest.raises(DeadlockError) as info:
            rw.acquire_write()
        assert str(info.value) == (
            "acquire_write() by a thread that holds a read share would deadlock "
            "(RWLock does not upgrade; release the read share first)"
        )
    assert rw.statistics() == RWLockStatistics(0, None, 0, 0)


def test_read_shares_are_counted_per_thread(make_rw: type[RWLock]) -> None:
    rw = make_rw()
    rw.acquire_read()
    rw.acquire_read()
    rw.release_read()
    assert rw.statistics().readers == 1
    rw.release_read()
    with pytest.raises(LockNotHeldError):
        rw.release_read()
