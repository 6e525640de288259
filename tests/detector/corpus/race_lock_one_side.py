"""TestRaceLockOneSide: one thread takes the lock, the other forgets to."""
# expect python: lost-update Counter.n @ locked,unlocked
# expect strict: data-race Counter.n @ locked,unlocked
import threading


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.n = 0

    def safe_bump(self):
        with self.lock:
            self.n += 1  # [locked]

    def quick_bump(self):
        self.n += 1  # [unlocked]


def main():
    c = Counter()
    a = threading.Thread(target=c.safe_bump, name="A")
    b = threading.Thread(target=c.quick_bump, name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(c.n)


if __name__ == "__main__":
    main()
