"""TestNoRaceDistinctObjects: same class, same attribute name, different objects per thread."""
# expect: none
import threading


class Counter:
    def __init__(self):
        self.n = 0
        self.items = []


def work(c):
    for i in range(5):
        c.n += 1
        c.items.append(i)
    c.items.pop()


def main():
    counters = [Counter(), Counter()]
    threads = [threading.Thread(target=work, args=(c,), name=f"T{i}") for i, c in enumerate(counters)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print([(c.n, len(c.items)) for c in counters])


if __name__ == "__main__":
    main()
