"""TestNoRaceCheckThenActLocked: the check and the write both under one lock."""
# expect: none
import threading


class Cache:
    def __init__(self):
        self.lock = threading.Lock()
        self.data = {}
        self.conn = None

    def get(self, key):
        with self.lock:
            if self.conn is None:
                self.conn = "db"
            if key not in self.data:
                self.data[key] = len(self.data)
            if len(self.data) < 5:
                self.data[key + "!"] = 0
            return self.data[key]


def main():
    cache = Cache()
    threads = [threading.Thread(target=cache.get, args=("k",), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sorted(cache.data.items()), cache.conn)


if __name__ == "__main__":
    main()
