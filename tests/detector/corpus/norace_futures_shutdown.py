"""TestNoRaceFuturesShutdown: ``shutdown(wait=True)`` orders every task before what follows it."""
# expect: none
from concurrent.futures import ThreadPoolExecutor


class Tally:
    def __init__(self):
        self.by_task = {}


def work(tally, i):
    tally.by_task[i] = i + 1


def main():
    tally = Tally()
    pool = ThreadPoolExecutor(max_workers=1)
    for i in range(3):
        pool.submit(work, tally, i)
    pool.shutdown(wait=True)
    tally.by_task[99] = sum(tally.by_task.values())
    print(sorted(tally.by_task.items()))


if __name__ == "__main__":
    main()
