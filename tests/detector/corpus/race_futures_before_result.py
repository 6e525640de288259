"""TestRaceFuturesBeforeResult: the submitter updates what the task updates before calling ``result()``."""
# expect python: lost-update Tally.done @ tinc,minc
# expect strict: data-race Tally.done @ tinc,minc
from concurrent.futures import ThreadPoolExecutor


class Tally:
    def __init__(self):
        self.done = 0


def task(tally):
    tally.done += 1  # [tinc]


def main():
    tally = Tally()
    with ThreadPoolExecutor(max_workers=1) as pool:
        fut = pool.submit(task, tally)
        tally.done += 1  # [minc]
        fut.result()
    print(tally.done)


if __name__ == "__main__":
    main()
