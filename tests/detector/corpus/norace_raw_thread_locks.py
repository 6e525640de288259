"""TestNoRaceRawThreadLocks: locks made with ``_thread`` directly (as shims do) order what they protect."""
# expect: none
import _thread
import threading


class Counter:
    def __init__(self):
        self.lock = _thread.allocate_lock()
        self.rlock = _thread.RLock()
        self.n = 0
        self.m = 0

    def bump(self):
        with self.lock:
            self.n += 1
        self.rlock.acquire()
        try:
            with self.rlock:  # reentered
                self.m += 1
        finally:
            self.rlock.release()


def main():
    c = Counter()
    threads = [threading.Thread(target=c.bump, name=f"T{i}") for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(c.n, c.m)


if __name__ == "__main__":
    main()
