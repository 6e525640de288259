"""TestRaceRLockOutside: the read is under the RLock but the write happens after leaving it.

A Go race (strict). Python mode's lost-update needs "no synchronization operation of
its own in between" the read and the write; the release of the RLock is one, so by
the issue's definition python mode is silent here.
"""
# expect python: none
# expect strict: data-race Ledger.total @ rd,wr
# expect strict: data-race Ledger.total @ wr,wr
import threading


class Ledger:
    def __init__(self):
        self.lock = threading.RLock()
        self.total = 0

    def add(self, amount):
        with self.lock:
            current = self.total  # [rd]
        self.total = current + amount  # [wr]


def main():
    ledger = Ledger()
    threads = [threading.Thread(target=ledger.add, args=(5,), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(ledger.total)


if __name__ == "__main__":
    main()
