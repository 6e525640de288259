"""Port of the module's exercise 2: atomics, mutexes, an RW lock; ``go run -race`` reports nothing."""
# expect: none
import threading
import time

from racefree.sync import AtomicInt, RWLock

NUM_THREADS = 20
INCREMENTS = 200
NUM_WORKERS = 8
TASKS_PER_WORKER = 20


class AtomicCounter:
    def __init__(self):
        self.value = AtomicInt()

    def increment(self):
        self.value.add(1)

    def get(self):
        return self.value.load()


class MutexCounter:
    def __init__(self):
        self.mu = threading.Lock()
        self.value = 0

    def increment(self):
        with self.mu:
            self.value += 1

    def get(self):
        with self.mu:
            return self.value


class AutomationMetrics:
    def __init__(self):
        # atomics for the simple counters
        self.tasks_processed = AtomicInt()
        self.errors_occurred = AtomicInt()
        self.bytes_processed = AtomicInt()
        self.requests_received = AtomicInt()
        # guarded by mu
        self.mu = threading.Lock()
        self.tasks_by_type = {}
        self.last_activity = time.monotonic()
        self.active_workers = {}
        # guarded by config_mu
        self.config_mu = RWLock()
        self.config = {}

    def record_task_by_type(self, task_type):
        with self.mu:
            self.tasks_by_type[task_type] = self.tasks_by_type.get(task_type, 0) + 1
            self.last_activity = time.monotonic()

    def register_worker(self, worker_id):
        with self.mu:
            self.active_workers[worker_id] = True

    def unregister_worker(self, worker_id):
        with self.mu:
            del self.active_workers[worker_id]

    def get_tasks_by_type(self):
        with self.mu:
            return dict(self.tasks_by_type.items())

    def get_active_worker_count(self):
        with self.mu:
            return len(self.active_workers)

    def get_last_activity(self):
        with self.mu:
            return self.last_activity

    def update_config(self, key, value):
        with self.config_mu.write():
            self.config[key] = value

    def get_config(self, key):
        with self.config_mu.read():
            return self.config.get(key)

    def get_all_config(self):
        with self.config_mu.read():
            return {k: v for k, v in self.config.items()}


def run_threads(n, target):
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    return threads


def compare_atomic_vs_mutex():
    print("=== Atomic vs Mutex ===")
    for counter in (AtomicCounter(), MutexCounter()):

        def worker(_i, counter=counter):
            for _ in range(INCREMENTS):
                counter.increment()

        for t in run_threads(NUM_THREADS, worker):
            t.join()
        print(type(counter).__name__, counter.get())


def simulate_automation_workload():
    print("\n=== Automation Workload Simulation ===")
    metrics = AutomationMetrics()
    initial = {"max_workers": "10", "timeout": "30s", "retry_count": "3", "batch_size": "100"}
    for key, value in initial.items():
        metrics.update_config(key, value)
    task_types = ["file_process", "email_send", "db_update", "report_gen", "data_sync"]

    def worker(worker_id):
        metrics.register_worker(worker_id)
        try:
            for j in range(TASKS_PER_WORKER):
                metrics.tasks_processed.add(1)
                metrics.requests_received.add(1)
                metrics.bytes_processed.add(1024)
                metrics.record_task_by_type(task_types[j % len(task_types)])
                if j % 20 == 0:
                    metrics.errors_occurred.add(1)
                time.sleep(0.001)
                if j % 10 == 0:
                    metrics.get_config("timeout")
                    metrics.get_config("batch_size")
        finally:
            metrics.unregister_worker(worker_id)

    def monitor(_i):
        for _ in range(5):
            time.sleep(0.005)
            metrics.tasks_processed.load()
            metrics.get_active_worker_count()
            metrics.get_last_activity()

    threads = run_threads(NUM_WORKERS, worker) + run_threads(1, monitor)
    for t in threads:
        t.join()
    print("Total tasks processed:", metrics.tasks_processed.load())
    print("Total errors:", metrics.errors_occurred.load())
    print("Total bytes processed:", metrics.bytes_processed.load())
    print("Tasks by type:", sorted(metrics.get_tasks_by_type().items()))
    print("Configuration:", sorted(metrics.get_all_config().items()))


def main():
    compare_atomic_vs_mutex()
    simulate_automation_workload()


if __name__ == "__main__":
    main()
