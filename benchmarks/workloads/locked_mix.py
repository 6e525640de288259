"""Four threads, each iteration: ``with lock:`` around an attribute ``+=``, dict get/store, len/append.

Category: tight.  Race-free: the shape issue 10 measures (4 threads x 60 000
iterations at scale 1), every access of the shared object under one lock.
"""
# category: tight
# races: no
from __future__ import annotations

import threading

from _args import scale


class Shared:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.n = 0
        self.per_thread: dict[int, int] = {}
        self.log: list[int] = []


def work(s: Shared, me: int, n: int) -> None:
    for _ in range(n):
        with s.lock:
            s.n += 1
            s.per_thread[me] = s.per_thread.get(me, 0) + 1
            s.log.append(len(s.log))


def main() -> None:
    n = int(60_000 * scale())
    s = Shared()
    threads = [threading.Thread(target=work, args=(s, i, n)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(s.n, sorted(s.per_thread.values()), s.log[-1] == len(s.log) - 1)


if __name__ == "__main__":
    main()
