"""Tight read-modify-write loops in one thread: attribute ``+=``, dict ``get``+store, global ``+=``.

Category: tight.  Race-free (one thread), so the detector pays only for recording.
"""
# category: tight
# races: no
from __future__ import annotations

from _args import scale

total = 0


class Counter:
    def __init__(self) -> None:
        self.n = 0


def main() -> None:
    global total
    n = int(2_000_000 * scale())
    c = Counter()
    counts: dict[str, int] = {}
    keys = ("a", "b", "c", "d")
    for i in range(n):
        c.n += 1
        k = keys[i & 3]
        counts[k] = counts.get(k, 0) + 1
        total += 1
    print(c.n, sorted(counts.items()), total)


if __name__ == "__main__":
    main()
