"""The module's exercise 3 body: RW-locked config reads, unsafe and safe registries, unsafe processor.

Category: mixed.  Racy on purpose (the unsafe registry and processor).
"""
# category: mixed
# races: yes
from __future__ import annotations

import random
import threading
import time

from _args import scale

from racefree.sync import AtomicInt, RWLock

rng = random.Random(29)


class ConfigurationManager:
    def __init__(self) -> None:
        self.mu = RWLock()
        self.config: dict[str, str] = {}  # guarded by mu
        self.reads = AtomicInt()

    def set(self, key: str, value: str) -> None:
        with self.mu.write():
            self.config[key] = value

    def get(self, key: str) -> str | None:
        with self.mu.read():
            self.reads.add(1)
            return self.config.get(key)


class UnsafeTaskRegistry:
    def __init__(self) -> None:
        self.tasks: dict[str, str] = {}

    def register(self, task_id: str, name: str) -> None:
        self.tasks[task_id] = name


class SafeTaskRegistry(UnsafeTaskRegistry):
    def __init__(self) -> None:
        super().__init__()
        self.mu = threading.Lock()

    def register(self, task_id: str, name: str) -> None:
        with self.mu:
            self.tasks[task_id] = name


class UnsafeProcessor:
    def __init__(self) -> None:
        self.tasks_processed = 0
        self.errors_occurred = 0
        self.last_processed = 0.0

    def process(self, task_id: str) -> None:
        time.sleep(0.0005)
        self.tasks_processed += 1
        self.last_processed = time.time()
        if rng.random() < 0.1:
            self.errors_occurred += 1


def run_threads(n: int, body: object) -> None:
    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]  # type: ignore[arg-type]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main() -> None:
    s = scale()
    cm = ConfigurationManager()
    keys = ["database_url", "api_timeout", "max_workers", "log_level"]
    for k in keys:
        cm.set(k, "v")
    reads = int(1000 * s)

    def reader(_i: int) -> None:
        for j in range(reads):
            cm.get(keys[j % 4])

    run_threads(50, reader)
    ops = int(100 * s)
    for registry in (UnsafeTaskRegistry(), SafeTaskRegistry()):

        def register(g: int, registry: UnsafeTaskRegistry = registry) -> None:
            for j in range(ops):
                registry.register(f"task_{g}_{j}", f"Task {g}-{j}")

        run_threads(20, register)
    proc = UnsafeProcessor()
    tasks = int(50 * s)

    def process(g: int) -> None:
        for j in range(tasks):
            proc.process(f"task_{g}_{j}")

    run_threads(20, process)
    print(cm.reads.load(), proc.tasks_processed <= 20 * tasks)


if __name__ == "__main__":
    main()
