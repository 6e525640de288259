"""Eight threads that mostly sleep (I/O stand-in) and briefly update shared state under a lock.

Category: sleep — the detector's cost must hide behind the waiting (target ≤ 1.3×).
"""
# category: sleep
# races: no
from __future__ import annotations

import threading
import time

from _args import scale


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = 0
        self.latency: list[float] = []


def worker(stats: Stats, n: int) -> None:
    for _ in range(n):
        t0 = time.perf_counter()
        time.sleep(0.005)
        with stats.lock:
            stats.done += 1
            stats.latency.append(time.perf_counter() - t0)


def main() -> None:
    n = int(200 * scale())
    stats = Stats()
    threads = [threading.Thread(target=worker, args=(stats, n)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(stats.done, len(stats.latency))


if __name__ == "__main__":
    main()
