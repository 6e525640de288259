"""Helpers shared by the racefree.sync tests: recording listeners, the reference oracle, a thread runner."""

from __future__ import annotations

import threading
from collections.abc import Callable


class NullListener:
    """A detector that listens and ignores: exercises the reporting code paths."""

    def release(self, key: object) -> None:
        pass

    def acquire(self, key: object) -> None:
        pass

    def acquire_release(self, key: object) -> None:
        pass


class RecordingListener:
    """A detector that records every edge, in order, with the reporting thread."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []
        self._lock = threading.Lock()

    def _add(self, kind: str, key: object) -> None:
        with self._lock:
            self.events.append((kind, key))

    def release(self, key: object) -> None:
        self._add("release", key)

    def acquire(self, key: object) -> None:
        self._add("acquire", key)

    def acquire_release(self, key: object) -> None:
        self._add("acquire_release", key)

    def take(self) -> list[tuple[str, object]]:
        with self._lock:
            events, self.events = self.events, []
        return events


class ReferenceInt:
    """The oracle: a Python int under a threading.Lock, with AtomicInt's API."""

    def __init__(self, value: int = 0) -> None:
        self._lock = threading.Lock()
        self.value = value

    def load(self) -> int:
        with self._lock:
            return self.value

    def store(self, value: int) -> None:
        with self._lock:
            self.value = value

    def add(self, delta: int) -> int:
        with self._lock:
            self.value += delta
            return self.value

    def increment(self) -> int:
        return self.add(1)

    def swap(self, value: int) -> int:
        with self._lock:
            old, self.value = self.value, value
            return old

    def compare_and_swap(self, expected: int, new: int) -> bool:
        with self._lock:
            if self.value != expected:
                return False
            self.value = new
            return True


def run_threads(n: int, target: Callable[[int], None], timeout: float = 120.0) -> None:
    """Start ``n`` threads running ``target(i)`` behind a barrier; join them; re-raise the first failure."""
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def body(i: int) -> None:
        try:
            barrier.wait()
            target(i)
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    if errors:
        raise errors[0]


class SerialWorker:
    """A thread of its own that runs the callables it is given, one at a time; ``run`` waits for each."""

    def __init__(self) -> None:
        self._todo: list[object] = []
        self._cv = threading.Condition()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._todo:
                    self._cv.wait()
                job = self._todo[0]
            if job is None:
                return
            job()  # type: ignore[operator]
            with self._cv:
                self._todo.pop(0)
                self._cv.notify_all()

    def run(self, job: object) -> None:
        with self._cv:
            self._todo.append(job)
            self._cv.notify_all()
            while self._todo:
                self._cv.wait()

    def stop(self) -> None:
        with self._cv:
            self._todo.append(None)
            self._cv.notify_all()
        self._thread.join()
