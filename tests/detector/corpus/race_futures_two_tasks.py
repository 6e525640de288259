"""TestRaceFuturesTwoTasks: two pool tasks increment one attribute, unordered with each other."""
# expect python: lost-update Tally.done @ inc,inc
# expect strict: data-race Tally.done @ inc,inc
import threading
from concurrent.futures import ThreadPoolExecutor


class Tally:
    def __init__(self):
        self.done = 0


def task(tally, barrier):
    barrier.wait()
    tally.done += 1  # [inc]


def main():
    tally = Tally()
    barrier = threading.Barrier(2)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(task, tally, barrier) for _ in range(2)]
    print(tally.done, [f.exception() for f in futures])


if __name__ == "__main__":
    main()
