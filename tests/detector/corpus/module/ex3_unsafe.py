"""Port of the module's exercise 3: RW lock, map safety, interface-hidden races (unsafe and safe parts).

``go run -race`` reports the unsafe registry's map and the unsafe processor's
``TasksProcessed``, ``LastProcessed`` and ``ErrorsOccurred``. Python mode keeps only
the read-modify-writes: the blind inserts of distinct keys and the blind timestamp
writes are atomic in CPython.
"""
# expect-locations strict: data-race dict UnsafeTaskRegistry.tasks
# expect-locations strict: data-race ProcessorStats.tasks_processed; data-race ProcessorStats.errors_occurred
# expect-locations strict: data-race ProcessorStats.last_processed
# expect-locations python: lost-update ProcessorStats.tasks_processed
# expect-locations python: lost-update ProcessorStats.errors_occurred
import random
import threading
import time
from dataclasses import dataclass

from racefree.sync import AtomicInt, RWLock

NUM_READERS = 10
NUM_WRITERS = 2
OPS = 100
NUM_THREADS = 8
OPS_PER_THREAD = 20
rng = random.Random(29)


class ConfigurationManager:
    def __init__(self):
        self.mu = RWLock()
        self.config = {}  # guarded by mu
        self.read_count = AtomicInt()
        self.write_count = AtomicInt()

    def set(self, key, value):
        with self.mu.write():
            self.config[key] = value
            self.write_count.add(1)

    def delete(self, key):
        with self.mu.write():
            self.config.pop(key, None)
            self.write_count.add(1)

    def get(self, key):
        with self.mu.read():
            value = self.config.get(key)
            self.read_count.add(1)
            return value

    def get_all(self):
        with self.mu.read():
            result = {k: v for k, v in self.config.items()}
            self.read_count.add(1)
            return result


class UnsafeTaskRegistry:
    def __init__(self):
        self.tasks = {}  # DANGEROUS: no synchronization

    def register(self, task_id, name):
        self.tasks[task_id] = name

    def get(self, task_id):
        return self.tasks.get(task_id)


class SafeTaskRegistry:
    def __init__(self):
        self.mu = RWLock()
        self.tasks = {}  # guarded by mu

    def register(self, task_id, name):
        with self.mu.write():
            self.tasks[task_id] = name

    def get(self, task_id):
        with self.mu.read():
            return self.tasks.get(task_id)

    def get_all(self):
        with self.mu.read():
            return dict(self.tasks.items())


@dataclass
class ProcessorStats:
    tasks_processed: int = 0
    errors_occurred: int = 0
    last_processed: float = 0.0


class UnsafeProcessor:
    def __init__(self):
        self.stats = ProcessorStats()  # RACE: fields written by many threads

    def process(self, task_id):
        time.sleep(0.001)
        self.stats.tasks_processed += 1
        self.stats.last_processed = time.time()
        if rng.random() < 0.1:
            self.stats.errors_occurred += 1
            return f"processing failed for task {task_id}"
        return None

    def get_stats(self):
        s = self.stats
        return ProcessorStats(s.tasks_processed, s.errors_occurred, s.last_processed)


class SafeProcessor:
    def __init__(self):
        self.mu = RWLock()
        self.stats = ProcessorStats()  # guarded by mu

    def process(self, task_id):
        time.sleep(0.001)
        with self.mu.write():
            self.stats.tasks_processed += 1
            self.stats.last_processed = time.time()
            if rng.random() < 0.1:
                self.stats.errors_occurred += 1
                return f"processing failed for task {task_id}"
        return None

    def get_stats(self):
        with self.mu.read():
            s = self.stats
            return ProcessorStats(s.tasks_processed, s.errors_occurred, s.last_processed)


def run_all(targets):
    threads = [threading.Thread(target=fn, args=(i,)) for i, fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def demonstrate_rwlock():
    print("=== RWLock Demonstration ===")
    cm = ConfigurationManager()
    for key, value in (("database_url", "postgres://localhost:5432/automation"), ("api_timeout", "30s"),
                       ("max_workers", "10"), ("log_level", "info")):
        cm.set(key, value)
    keys = ["database_url", "api_timeout", "max_workers", "log_level"]

    def reader(_i):
        for j in range(OPS):
            cm.get(keys[j % len(keys)])
            if j % 100 == 0:
                cm.get_all()

    def writer(w):
        for j in range(OPS // 10):
            cm.set(f"dynamic_config_{w}_{j}", f"value_{j}")
            if j % 10 == 0 and j > 0:
                cm.delete(f"dynamic_config_{w}_{j - 1}")

    run_all([(i, reader) for i in range(NUM_READERS)] + [(i, writer) for i in range(NUM_WRITERS)])
    print("reads", cm.read_count.load(), "writes", cm.write_count.load())


def demonstrate_map_races(registry):
    def worker(g):
        for j in range(OPS_PER_THREAD):
            task_id = f"task_{g}_{j}"
            registry.register(task_id, f"Task {g}-{j}")
            if j % 10 == 0:
                registry.get(task_id)

    run_all([(i, worker) for i in range(NUM_THREADS)])


def demonstrate_interface_races(processor):
    def worker(g):
        for j in range(OPS_PER_THREAD):
            processor.process(f"task_{g}_{j}")
            if j % 5 == 0:
                processor.get_stats()

    run_all([(i, worker) for i in range(NUM_THREADS)])
    return processor.get_stats()


def main():
    demonstrate_rwlock()
    print("\n=== Map Race Conditions ===")
    demonstrate_map_races(UnsafeTaskRegistry())
    safe = SafeTaskRegistry()
    demonstrate_map_races(safe)
    print("Total tasks registered:", len(safe.get_all()))
    print("\n=== Interface-Based Race Conditions ===")
    unsafe_stats = demonstrate_interface_races(UnsafeProcessor())
    print("Unsafe tasks processed:", unsafe_stats.tasks_processed)
    safe_stats = demonstrate_interface_races(SafeProcessor())
    print("Safe tasks processed:", safe_stats.tasks_processed, "of", NUM_THREADS * OPS_PER_THREAD)


if __name__ == "__main__":
    main()
