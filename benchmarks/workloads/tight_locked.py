"""Four threads increment one counter and one dict under a ``threading.Lock``.

Category: tight.  Race-free; every iteration is a lock acquire/release the detector
turns into happens-before edges.
"""
# category: tight
# races: no
from __future__ import annotations

import threading

from _args import scale


class Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.n = 0
        self.by_thread: dict[int, int] = {}


def work(c: Counter, me: int, n: int) -> None:
    for _ in range(n):
        with c.lock:
            c.n += 1
            c.by_thread[me] = c.by_thread.get(me, 0) + 1


def main() -> None:
    n = int(50_000 * scale())
    c = Counter()
    threads = [threading.Thread(target=work, args=(c, i, n)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(c.n, sorted(c.by_thread.values()))


if __name__ == "__main__":
    main()
