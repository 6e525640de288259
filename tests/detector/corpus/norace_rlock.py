"""TestNoRaceRLock: re-entrant locking; the outermost release publishes the updates."""
# expect: none
import threading


class Ledger:
    def __init__(self):
        self.lock = threading.RLock()
        self.entries = []
        self.total = 0

    def add(self, amount):
        with self.lock:
            self.entries.append(amount)
            self._recount()

    def _recount(self):
        with self.lock:
            self.total = sum(self.entries)


def main():
    ledger = Ledger()
    threads = [threading.Thread(target=ledger.add, args=(i,), name=f"T{i}") for i in range(1, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(ledger.total, sorted(ledger.entries))


if __name__ == "__main__":
    main()
