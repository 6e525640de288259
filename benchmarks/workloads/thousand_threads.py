"""1000 threads alive at once, each updating shared state under a lock, released by one Event.

Category: limits — must complete, race-free, with the plain run's output.
"""
# category: limits
# races: no
from __future__ import annotations

import threading

from _args import scale


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.n = 0
        self.seen: set[int] = set()


def work(t: Tally, go: threading.Event, me: int) -> None:
    go.wait()
    with t.lock:
        t.n += 1
        t.seen.add(me)


def main() -> None:
    n = max(int(1000 * scale()), 1000)
    tally = Tally()
    go = threading.Event()
    threads = [threading.Thread(target=work, args=(tally, go, i)) for i in range(n)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join()
    print(tally.n, len(tally.seen))


if __name__ == "__main__":
    main()
