"""Hypothesis stateful test: RWLock, driven from three threads, against a trivially correct model.

Three actor threads each run one call at a time, on request, so every step is
deterministic: acquisitions never wait (``blocking=False``, or a timeout that
expires), which is where the implementations differ most — flags that a
writer that gave up must take back, provisional reader shares, cells of
threads that have not read yet.  The model is four lines of state: who
writes, how many shares each actor holds.  Every implementation (the
reference, the GIL fast path where valid, the free-threaded one on every
AtomicInt back-end) must agree with it after every step.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from test_rwlock import MODES

from racefree.sync import DeadlockError, LockNotHeldError, RWLock, RWLockStatistics

ACTORS = 3
ACTOR = st.integers(0, ACTORS - 1)
WAIT = st.sampled_from(["non-blocking", "timeout"])
SETTINGS = settings(max_examples=40, stateful_step_count=30, deadline=None)


class Actor:
    """A thread that runs the calls it is handed, one at a time, and hands back the outcome."""

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[Callable[[], Any] | None] = queue.SimpleQueue()
        self._results: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ident = self.call(threading.get_ident)

    def _run(self) -> None:
        while (fn := self._requests.get()) is not None:
            try:
                self._results.put(("ok", fn()))
            except Exception as exc:  # handed back to the test
                self._results.put(("raised", exc))

    def call(self, fn: Callable[[], Any]) -> Any:
        self._requests.put(fn)
        kind, value = self._results.get(timeout=30)
        if kind == "raised":
            raise value
        return value

    def stop(self) -> None:
        self._requests.put(None)
        self.thread.join(30)


class RWLockMachine(RuleBasedStateMachine):
    make: Callable[[], RWLock] = RWLock

    def __init__(self) -> None:
        super().__init__()
        self.rw = self.make()
        self.actors = [Actor() for _ in range(ACTORS)]
        self.writer: int | None = None  # the model: which actor writes...
        self.shares = [0] * ACTORS  # ...and how many read shares each holds

    def _acquire(self, i: int, method: str, wait: str) -> Any:
        fn = getattr(self.rw, method)
        if wait == "non-blocking":
            return self.actors[i].call(lambda: fn(blocking=False))
        return self.actors[i].call(lambda: fn(timeout=0.002))

    @rule(i=ACTOR, wait=WAIT)
    def acquire_read(self, i: int, wait: str) -> None:
        if self.writer == i:
            with pytest.raises(DeadlockError):
                self._acquire(i, "acquire_read", wait)
            return
        expected = self.shares[i] > 0 or self.writer is None
        assert self._acquire(i, "acquire_read", wait) is expected
        self.shares[i] += expected

    @rule(i=ACTOR, wait=WAIT)
    def acquire_write(self, i: int, wait: str) -> None:
        if self.writer == i or self.shares[i]:
            with pytest.raises(DeadlockError):
                self._acquire(i, "acquire_write", wait)
            return
        expected = self.writer is None and not any(self.shares)
        assert self._acquire(i, "acquire_write", wait) is expected
        if expected:
            self.writer = i

    @rule(i=ACTOR)
    def release_read(self, i: int) -> None:
        if not self.shares[i]:
            with pytest.raises(LockNotHeldError):
                self.actors[i].call(self.rw.release_read)
            return
        self.actors[i].call(self.rw.release_read)
        self.shares[i] -= 1

    @rule(i=ACTOR)
    def release_write(self, i: int) -> None:
        if self.writer != i:
            with pytest.raises(LockNotHeldError):
                self.actors[i].call(self.rw.release_write)
            return
        self.actors[i].call(self.rw.release_write)
        self.writer = None

    @invariant()
    def statistics_match_the_model(self) -> None:
        writer = None if self.writer is None else self.actors[self.writer].ident
        readers = sum(1 for n in self.shares if n)
        assert self.rw.statistics() == RWLockStatistics(readers, writer, 0, 0)

    def teardown(self) -> None:
        try:
            if self.writer is not None:
                self.actors[self.writer].call(self.rw.release_write)
            for i, n in enumerate(self.shares):
                for _ in range(n):
                    self.actors[i].call(self.rw.release_read)
            # Everything given back: the lock must be free for a writer from a new thread.
            got: list[bool] = []
            t = threading.Thread(target=lambda: got.append(self.rw.acquire_write(blocking=False)))
            t.start()
            t.join(30)
            assert got == [True]
        finally:
            for actor in self.actors:
                actor.stop()


def _machine_test(name: str, make: Callable[[], RWLock]) -> Any:
    machine = SETTINGS(type(f"RWLockMachine_{name}", (RWLockMachine,), {"make": staticmethod(make)}))
    return machine.TestCase


for _name, _make in sorted(MODES.items()):
    globals()[f"TestRWLockModel_{_name.replace('-', '_')}"] = _machine_test(_name, _make)
