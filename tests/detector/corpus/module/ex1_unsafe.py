"""Port of the module's exercise 1: an unsafe counter, false sharing, cache lines.

``go run -race`` reports one distinct race here: ``UnsafeCounter.value`` (``c.value++``
from many goroutines). The false-sharing counters use atomics and are race-free.
"""
# expect-locations python: lost-update UnsafeCounter.value
# expect-locations strict: data-race UnsafeCounter.value
import os
import sys
import threading
import time

from racefree.sync import AtomicInt

NUM_THREADS = 20
INCREMENTS = 200


class UnsafeCounter:
    """DATA RACE: ``value += 1`` is a read-modify-write with no synchronization."""

    def __init__(self):
        self.value = 0

    def increment(self):
        self.value += 1

    def get(self):
        return self.value


class FalseSharingExample:
    def __init__(self):
        self.counter1 = AtomicInt()
        self.counter2 = AtomicInt()
        self.counter3 = AtomicInt()
        self.counter4 = AtomicInt()


class CacheLinePaddedCounters(FalseSharingExample):
    """Python objects are not laid out in cache lines; the padding has no Python equivalent."""


def run_threads(n, target):
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def demonstrate_data_races():
    print("=== Data Race Demonstration ===")
    print(f"CPUs: {os.cpu_count()}")
    expected = NUM_THREADS * INCREMENTS
    counter = UnsafeCounter()
    start = time.perf_counter()

    def worker(_i):
        for _ in range(INCREMENTS):
            counter.increment()

    run_threads(NUM_THREADS, worker)
    actual = counter.get()
    print(f"Expected: {expected}\nActual: {actual}\nLost increments: {expected - actual}")
    print(f"Duration: {time.perf_counter() - start:.4f}s")


def demonstrate_false_sharing():
    print("\n=== False Sharing Demonstration ===")
    for counters in (FalseSharingExample(), CacheLinePaddedCounters()):
        cells = [counters.counter1, counters.counter2, counters.counter3, counters.counter4]

        def worker(i, cells=cells):
            for _ in range(INCREMENTS):
                cells[i].add(1)

        run_threads(4, worker)
        print(type(counters).__name__, [c.load() for c in cells])


def analyze_cache_lines():
    print("\n=== Cache Line Analysis ===")
    print(f"FalseSharingExample size: {sys.getsizeof(FalseSharingExample())} bytes")


def main():
    demonstrate_data_races()
    demonstrate_false_sharing()
    analyze_cache_lines()


if __name__ == "__main__":
    main()
