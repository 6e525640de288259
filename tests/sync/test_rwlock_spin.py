"""The free-threaded RWLock's readers yield a few times before they park (``_rwlock_ft.SPINS``).

The yield is replaced by a hook that makes a writer act at that exact point, so
each case is deterministic: the claim ends while the reader yields (it comes in
without parking), or another writer claims as the first one ends (it stops
yielding and parks behind that claim, admitted when it ends), or the claim
outlasts every yield (it parks).  Exclusion under load with the spin on, on
both builds, is checked against a two-field record.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from sync_helpers import SerialWorker, run_threads
from test_rwlock import MODES, wait_until

from racefree.sync import RWLock, _rwlock_ft

SHARDED = sorted(k for k in MODES if k.startswith("sharded"))


@pytest.fixture(params=SHARDED)
def make_rw(request: pytest.FixtureRequest) -> type[RWLock]:
    return MODES[request.param]


@pytest.fixture
def writers() -> Iterator[tuple[SerialWorker, SerialWorker]]:
    a, b = SerialWorker(), SerialWorker()
    yield a, b
    a.stop()
    b.stop()


def spin_with(monkeypatch: pytest.MonkeyPatch, hook: Callable[[int], None], spins: int = 16) -> list[int]:
    """Turn the spin on (as without the GIL) with ``hook(n)`` run at the n-th yield; returns the yields."""
    calls: list[int] = []

    def fake_yield() -> None:
        calls.append(len(calls))
        hook(len(calls) - 1)

    monkeypatch.setattr(_rwlock_ft, "SPINS", spins)
    monkeypatch.setattr(_rwlock_ft, "_yield", fake_yield)
    return calls


def parks(monkeypatch: pytest.MonkeyPatch, rw: RWLock) -> list[int]:
    """Count the reader's trips to the parking path (``_read_contended``)."""
    count: list[int] = []
    original = type(rw)._read_contended

    def counted(self: RWLock, *args: object) -> bool:
        count.append(1)
        return original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(type(rw), "_read_contended", counted)
    return count


def test_a_claim_that_ends_while_the_reader_yields_lets_it_in_without_parking(
    make_rw: type[RWLock], monkeypatch: pytest.MonkeyPatch, writers: tuple[SerialWorker, SerialWorker]
) -> None:
    rw, (w, _) = make_rw(), writers
    with rw.read():
        pass  # the reader's cell exists (the writer flags it)
    w.run(lambda: rw.acquire_write())
    calls = spin_with(monkeypatch, lambda n: w.run(rw.release_write) if n == 2 else None)
    parked = parks(monkeypatch, rw)
    with rw.read():
        assert rw.statistics().readers == 1
    assert len(calls) == 3 and parked == []  # in right after the yield during which the claim ended


def test_a_new_claim_as_the_first_ends_sends_the_reader_to_park_behind_it(
    make_rw: type[RWLock], monkeypatch: pytest.MonkeyPatch, writers: tuple[SerialWorker, SerialWorker]
) -> None:
    rw, (w1, w2) = make_rw(), writers
    with rw.read():
        pass
    w1.run(lambda: rw.acquire_write())

    def hand_over(n: int) -> None:
        if n == 0:  # the first claim ends and a second writer claims before the reader looks
            w1.run(rw.release_write)
            w2.run(lambda: rw.acquire_write())

    calls = spin_with(monkeypatch, hand_over)
    parked = parks(monkeypatch, rw)
    got = threading.Event()

    def reader() -> None:
        with rw.read():
            got.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    wait_until(lambda: rw.statistics().waiting_readers == 1)  # parked behind the second claim
    assert not got.is_set() and len(calls) == 1 and parked == [1]
    w2.run(rw.release_write)  # its end admits the reader
    assert got.wait(30)
    t.join(30)


def test_a_claim_that_outlasts_the_yields_parks_the_reader(
    make_rw: type[RWLock], monkeypatch: pytest.MonkeyPatch, writers: tuple[SerialWorker, SerialWorker]
) -> None:
    rw, (w, _) = make_rw(), writers
    with rw.read():
        pass
    w.run(lambda: rw.acquire_write())
    calls = spin_with(monkeypatch, lambda n: None, spins=5)
    got = threading.Event()

    def reader() -> None:
        with rw.read():
            got.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    wait_until(lambda: rw.statistics().waiting_readers == 1)
    assert len(calls) == 5 and not got.is_set()
    w.run(rw.release_write)
    assert got.wait(30)
    t.join(30)


def test_a_timed_or_non_blocking_reader_does_not_yield(
    make_rw: type[RWLock], monkeypatch: pytest.MonkeyPatch, writers: tuple[SerialWorker, SerialWorker]
) -> None:
    rw, (w, _) = make_rw(), writers
    with rw.read():
        pass
    w.run(lambda: rw.acquire_write())
    calls = spin_with(monkeypatch, lambda n: None)
    assert not rw.acquire_read(blocking=False)
    assert not rw.acquire_read(timeout=0.01)
    assert calls == []
    w.run(rw.release_write)


@pytest.mark.stress
def test_readers_that_yield_never_overlap_a_writer(
    make_rw: type[RWLock], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_rwlock_ft, "SPINS", 16)  # on both builds (the GIL build turns it off)
    rw = make_rw()
    record = [0, 0]
    torn: list[tuple[int, int]] = []

    def work(i: int) -> None:
        for k in range(1500):
            if i < 2 and k % 5 == 0:
                with rw.write():
                    record[0] += 1
                    record[1] += 1
            else:
                with rw.read():
                    a, b = record
                    if a != b:
                        torn.append((a, b))

    run_threads(6, work)
    assert torn == []
    assert record[0] == record[1] == 2 * 300
    assert rw.statistics().readers == 0 and rw.statistics().writer is None
