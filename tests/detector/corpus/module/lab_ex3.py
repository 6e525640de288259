"""Exercise 3's unsafe parts driven over the lab's code (``UnsafeTaskRegistry``, ``UnsafeProcessor``)."""
# args: --include racefree.lab.unsafe
# expect-locations strict: data-race dict UnsafeTaskRegistry.tasks
# expect-locations strict: data-race UnsafeProcessor.tasks_processed
# expect-locations strict: data-race UnsafeProcessor.errors_occurred
# expect-locations strict: data-race UnsafeProcessor.last_processed
# expect-locations python: lost-update UnsafeProcessor.tasks_processed
# expect-locations python: lost-update UnsafeProcessor.errors_occurred
import random
import threading

from racefree.automation import ProcessingError
from racefree.lab.unsafe import UnsafeProcessor, UnsafeTaskRegistry

NUM_THREADS = 8
OPS = 20


def run_all(target):
    threads = [threading.Thread(target=target, args=(g,)) for g in range(NUM_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main():
    registry = UnsafeTaskRegistry()

    def register(g):
        for j in range(OPS):
            task_id = f"task_{g}_{j}"
            registry.register(task_id, f"Task {g}-{j}")
            if j % 10 == 0:
                registry.get(task_id)

    run_all(register)
    processor = UnsafeProcessor(error_rate=0.1, work_time=0.001, rng=random.Random(29))

    def process(g):
        for j in range(OPS):
            try:
                processor.process(f"task_{g}_{j}")
            except ProcessingError:
                pass
            if j % 5 == 0:
                processor.stats()

    run_all(process)
    print("processed:", processor.stats().tasks_processed <= NUM_THREADS * OPS)


if __name__ == "__main__":
    main()
