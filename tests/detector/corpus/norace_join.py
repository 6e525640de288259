"""TestNoRaceJoin: the worker's write happens before the main thread's accesses after ``join``."""
# expect: none
import threading


class Counter:
    def __init__(self):
        self.n = 0


def work(c):
    c.n += 1


def main():
    c = Counter()
    t = threading.Thread(target=work, args=(c,), name="worker")
    t.start()
    t.join()
    c.n += 1
    print(c.n)


if __name__ == "__main__":
    main()
