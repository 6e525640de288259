"""TestNoRaceRWLock: writers under ``RWLock.write()``, readers under ``RWLock.read()``."""
# expect: none
import threading

from racefree.sync import RWLock


class Config:
    def __init__(self):
        self.lock = RWLock()
        self.values = {"mode": "slow"}
        self.version = 0

    def set(self, key, value):
        with self.lock.write():
            self.values[key] = value
            self.version += 1

    def get(self, key):
        with self.lock.read():
            return self.values.get(key), self.version, len(self.values), sorted(self.values)


def main():
    cfg = Config()
    out = []
    threads = [
        threading.Thread(target=cfg.set, args=("mode", "fast"), name="W1"),
        threading.Thread(target=cfg.set, args=("level", "debug"), name="W2"),
        threading.Thread(target=lambda: out.append(cfg.get("mode")), name="R1"),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(cfg.version, sorted(cfg.values.items()))


if __name__ == "__main__":
    main()
