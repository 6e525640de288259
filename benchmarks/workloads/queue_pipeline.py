"""A three-stage pipeline over ``queue.Queue``: parse -> enrich -> aggregate, ending with ``join``.

Category: mixed (queue operations dominate).
"""
# category: mixed
# races: no
from __future__ import annotations

import queue
import threading

from _args import scale

STOP = None


class Record:
    def __init__(self, i: int) -> None:
        self.i = i
        self.fields: dict[str, int] = {}


def parse(src: queue.Queue[int | None], out: queue.Queue[Record | None]) -> None:
    while (i := src.get()) is not STOP:
        rec = Record(i)
        rec.fields["raw"] = i
        out.put(rec)
    out.put(STOP)


def enrich(src: queue.Queue[Record | None], out: queue.Queue[Record | None]) -> None:
    while (rec := src.get()) is not STOP:
        rec.fields["sq"] = rec.fields["raw"] * rec.fields["raw"]
        out.put(rec)
    out.put(STOP)


def aggregate(src: queue.Queue[Record | None], totals: dict[str, int]) -> None:
    while (rec := src.get()) is not STOP:
        totals["n"] = totals.get("n", 0) + 1
        totals["sum"] = totals.get("sum", 0) + rec.fields["sq"]
        src.task_done()
    src.task_done()


def main() -> None:
    n = int(50_000 * scale())
    q1: queue.Queue[int | None] = queue.Queue(maxsize=256)
    q2: queue.Queue[Record | None] = queue.Queue(maxsize=256)
    q3: queue.Queue[Record | None] = queue.Queue(maxsize=256)
    totals: dict[str, int] = {}
    stages = [
        threading.Thread(target=parse, args=(q1, q2)),
        threading.Thread(target=enrich, args=(q2, q3)),
        threading.Thread(target=aggregate, args=(q3, totals)),
    ]
    for t in stages:
        t.start()
    for i in range(n):
        q1.put(i)
    q1.put(STOP)
    for t in stages:
        t.join()
    q3.join()
    print(totals["n"], totals["sum"] == sum(i * i for i in range(n)))


if __name__ == "__main__":
    main()
