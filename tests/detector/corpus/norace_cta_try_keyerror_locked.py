"""TestNoRaceCheckThenActTryKeyErrorLocked: lookup-or-fill under a lock, and getattr lazy init under one."""
# expect: none
import threading

cache = {}
lock = threading.Lock()


class Lazy:
    def __init__(self):
        self.lock = threading.Lock()

    def get(self):
        with self.lock:
            if getattr(self, "value", None) is None:
                self.value = object()
            return self.value


def load(key, lazy):
    with lock:
        try:
            return cache[key]
        except KeyError:
            cache[key] = value = lazy.get()
            return value


def main():
    lazy = Lazy()
    threads = [threading.Thread(target=load, args=("cfg", lazy), name=f"T{i}") for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(len(cache))


if __name__ == "__main__":
    main()
