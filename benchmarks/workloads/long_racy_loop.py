"""Two threads racing for a long time, on one counter and on many short-lived objects and keys.

Category: limits — run at two lengths; the detector's memory must not grow with the
length (bounded history, dead objects forgotten).
"""
# category: limits
# races: yes
from __future__ import annotations

import threading

from _args import scale


class Counter:
    def __init__(self) -> None:
        self.n = 0


class Item:
    def __init__(self, i: int) -> None:
        self.i = i


def work(c: Counter, scratch: dict[int, int], me: int, n: int) -> None:
    for i in range(n):
        c.n += 1
        item = Item(i)
        item.i += me
        scratch[(i << 1) | me] = item.i
        if i >= 64:
            del scratch[((i - 64) << 1) | me]


def main() -> None:
    n = int(100_000 * scale())
    c = Counter()
    scratch: dict[int, int] = {}
    threads = [threading.Thread(target=work, args=(c, scratch, me, n)) for me in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(c.n <= 2 * n, len(scratch))


if __name__ == "__main__":
    main()
