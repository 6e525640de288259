"""The module's exercise 2 body: atomic vs mutex counters, then the metrics workload with 1 ms sleeps.

Category: mixed.  Race-free (atomics, a Lock, an RWLock).
"""
# category: mixed
# races: no
from __future__ import annotations

import threading
import time

from _args import scale

from racefree.sync import AtomicInt, RWLock


class MutexCounter:
    def __init__(self) -> None:
        self.mu = threading.Lock()
        self.value = 0

    def increment(self) -> None:
        with self.mu:
            self.value += 1


class Metrics:
    def __init__(self) -> None:
        self.tasks = AtomicInt()
        self.errors = AtomicInt()
        self.mu = threading.Lock()
        self.by_type: dict[str, int] = {}  # guarded by mu
        self.workers: dict[int, bool] = {}  # guarded by mu
        self.last = time.monotonic()  # guarded by mu
        self.config_mu = RWLock()
        self.config = {"timeout": "30s", "batch_size": "100"}  # guarded by config_mu

    def record(self, task_type: str) -> None:
        with self.mu:
            self.by_type[task_type] = self.by_type.get(task_type, 0) + 1
            self.last = time.monotonic()

    def get_config(self, key: str) -> str | None:
        with self.config_mu.read():
            return self.config.get(key)


def run_threads(n: int, body: object) -> list[threading.Thread]:
    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]  # type: ignore[arg-type]
    for t in threads:
        t.start()
    return threads


def main() -> None:
    s = scale()
    per_thread = int(200 * s)
    atomic, mutex = AtomicInt(), MutexCounter()

    def count(_i: int) -> None:
        for _ in range(per_thread):
            atomic.add(1)
            mutex.increment()

    for t in run_threads(100, count):
        t.join()
    m = Metrics()
    types = ["file_process", "email_send", "db_update", "report_gen", "data_sync"]
    tasks = int(100 * s)

    def worker(w: int) -> None:
        with m.mu:
            m.workers[w] = True
        for j in range(tasks):
            m.tasks.add(1)
            m.record(types[j % len(types)])
            if j % 20 == 0:
                m.errors.add(1)
            time.sleep(0.001)
            if j % 10 == 0:
                m.get_config("timeout")
        with m.mu:
            del m.workers[w]

    for t in run_threads(20, worker):
        t.join()
    print(atomic.load(), mutex.value, m.tasks.load(), m.errors.load(), sorted(m.by_type.items()))


if __name__ == "__main__":
    main()
