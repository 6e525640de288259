"""The module's exercise 1 body: the unsafe counter (100 threads x 1000 ``+=``) and four atomic counters.

Category: tight.  Racy on purpose (``UnsafeCounter.value``): the detector also pays
for recognising the same race again and again.
"""
# category: tight
# races: yes
from __future__ import annotations

import threading

from _args import scale

from racefree.sync import AtomicInt


class UnsafeCounter:
    def __init__(self) -> None:
        self.value = 0

    def increment(self) -> None:
        self.value += 1


def run_threads(n: int, body: object) -> None:
    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]  # type: ignore[arg-type]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main() -> None:
    s = scale()
    per_thread = int(1000 * s)
    counter = UnsafeCounter()

    def increment(_i: int) -> None:
        for _ in range(per_thread):
            counter.increment()

    run_threads(100, increment)
    cells = [AtomicInt() for _ in range(4)]
    per_cell = int(100_000 * s)

    def add(i: int) -> None:
        cell = cells[i]
        for _ in range(per_cell):
            cell.add(1)

    run_threads(4, add)
    print(counter.value <= 100 * per_thread, [c.load() for c in cells])


if __name__ == "__main__":
    main()
