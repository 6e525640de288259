"""TestRaceDifferentLocks: each thread holds a lock, but not the same one."""
# expect python: lost-update Counter.n @ inc,inc
# expect strict: data-race Counter.n @ inc,inc
import threading


class Counter:
    def __init__(self):
        self.n = 0


def work(c):
    own_lock = threading.Lock()
    with own_lock:
        c.n += 1  # [inc]


def main():
    c = Counter()
    threads = [threading.Thread(target=work, args=(c,), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(c.n)


if __name__ == "__main__":
    main()
