"""The safe counterparts the lab and the automation system ship: nothing to report, in either mode."""
# args: --include racefree.lab.counters
# args: --include racefree.automation.registry --include racefree.automation.processor
# expect: none
import random
import threading

from racefree.automation import ProcessingError, SafeProcessor, TaskRegistry
from racefree.lab.counters import AtomicCounter, MutexCounter

NUM_THREADS = 8
OPS = 20


def run_all(target):
    threads = [threading.Thread(target=target, args=(g,)) for g in range(NUM_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main():
    atomic, mutex = AtomicCounter(), MutexCounter()
    registry = TaskRegistry()
    processor = SafeProcessor(error_rate=0.1, work_time=0.001, rng=random.Random(29))

    def work(g):
        for j in range(OPS):
            atomic.increment()
            mutex.increment()
            task_id = f"task_{g}_{j}"
            registry.register(task_id, f"Task {g}-{j}")
            if j % 10 == 0:
                registry.get(task_id)
            try:
                processor.process(task_id)
            except ProcessingError:
                pass
            if j % 5 == 0:
                processor.stats()

    run_all(work)
    total = NUM_THREADS * OPS
    print(atomic.value() == total, mutex.value() == total, len(registry) == total,
          processor.stats().tasks_processed == total)


if __name__ == "__main__":
    main()
