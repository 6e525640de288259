"""TestRaceNoJoin: the main thread updates the counter before joining the worker."""
# expect python: lost-update Counter.n @ winc,minc
# expect strict: data-race Counter.n @ winc,minc
import threading


class Counter:
    def __init__(self):
        self.n = 0


def work(c):
    c.n += 1  # [winc]


def main():
    c = Counter()
    t = threading.Thread(target=work, args=(c,), name="worker")
    t.start()
    c.n += 1  # [minc]
    t.join()
    print(c.n)


if __name__ == "__main__":
    main()
