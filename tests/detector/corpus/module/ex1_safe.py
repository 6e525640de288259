"""Exercise 1 with the counter made safe (the module's ``MutexCounter``): no race in either mode."""
# expect: none
import threading

from racefree.sync import AtomicInt

NUM_THREADS = 20
INCREMENTS = 200


class MutexCounter:
    def __init__(self):
        self.lock = threading.Lock()
        self.value = 0

    def increment(self):
        with self.lock:
            self.value += 1

    def get(self):
        with self.lock:
            return self.value


def run_threads(n, target):
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main():
    counter = MutexCounter()
    atomic = AtomicInt()

    def worker(_i):
        for _ in range(INCREMENTS):
            counter.increment()
            atomic.increment()

    run_threads(NUM_THREADS, worker)
    print(counter.get(), atomic.load(), counter.get() == NUM_THREADS * INCREMENTS)


if __name__ == "__main__":
    main()
