"""Exercise 1 driven over the lab's own unsafe code (``racefree.lab.unsafe.UnsafeCounter``)."""
# args: --include racefree.lab.unsafe
# expect-locations python: lost-update UnsafeCounter.value
# expect-locations strict: data-race UnsafeCounter.value
import threading

from racefree.lab.unsafe import UnsafeCounter

NUM_THREADS = 20
INCREMENTS = 200


def main():
    counter = UnsafeCounter()

    def worker():
        for _ in range(INCREMENTS):
            counter.increment()

    threads = [threading.Thread(target=worker) for _ in range(NUM_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("lost:", NUM_THREADS * INCREMENTS - counter.read())


if __name__ == "__main__":
    main()
