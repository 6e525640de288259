"""``ThreadPoolExecutor``: many small CPU tasks through submit/as_completed and map.

Category: mixed.
"""
# category: mixed
# races: no
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed

from _args import scale


class Job:
    def __init__(self, i: int) -> None:
        self.i = i
        self.result = 0


def run(job: Job) -> Job:
    acc = 0
    for k in range(200):
        acc += (job.i * k) % 7
    job.result = acc
    return job


def main() -> None:
    n = int(5_000 * scale())
    jobs = [Job(i) for i in range(n)]
    total = 0
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(run, j) for j in jobs[: n // 2]]
        for fut in as_completed(futures):
            total += fut.result().result
        for job in pool.map(run, jobs[n // 2:]):
            total += job.result
    print(n, total)


if __name__ == "__main__":
    main()
