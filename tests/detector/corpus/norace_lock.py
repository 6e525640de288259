"""TestNoRaceLock: every access to the counter under one ``threading.Lock``."""
# expect: none
import threading


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.n = 0
        self.history = {}

    def bump(self, who):
        with self.lock:
            self.n += 1
            self.history[who] = self.history.get(who, 0) + 1


def main():
    c = Counter()
    threads = [threading.Thread(target=c.bump, args=(f"T{i}",), name=f"T{i}") for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(c.n, sorted(c.history))


if __name__ == "__main__":
    main()
