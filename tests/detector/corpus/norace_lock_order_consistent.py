"""TestNoDeadlockLockOrder: nested locks always taken in one order, RLock re-entry, a Condition wait
under another lock, try-acquires in the other order: no race and no potential deadlock (exit 0)."""
# expect: none
import threading


class Bank:
    def __init__(self):
        self.ledger = threading.Lock()
        self.audit = threading.RLock()
        self.ready = threading.Condition()
        self.total = 0
        self.entries = []
        self.done = False

    def post(self, amount):
        with self.ledger:  # noqa: SIM117 (one acquisition per line)
            with self.audit:
                with self.audit:  # re-entry: no edge
                    self.total += amount
                    self.entries.append(amount)

    def try_reverse(self):
        # the other order, but only as a try-acquire: it cannot block, so it is no edge
        with self.audit:
            if self.ledger.acquire(blocking=False):
                try:
                    return self.total
                finally:
                    self.ledger.release()
        return None

    def wait_for(self):
        with self.ready:
            with self.ledger:  # the condition's lock, then ledger: consistent with everything else
                pass
            while not self.done:
                self.ready.wait(0.01)  # gives the condition's lock back and retakes it: no new edge

    def announce(self):
        with self.ready:
            self.done = True
            self.ready.notify_all()


def main():
    bank = Bank()
    waiter = threading.Thread(target=bank.wait_for, name="T0")
    waiter.start()
    workers = []
    for i in range(4):
        t = threading.Thread(target=lambda: (bank.post(1), bank.post(2), bank.try_reverse()),
                             name=f"T{i + 1}")
        workers.append(t)
        t.start()
    for t in workers:
        t.join()
    bank.announce()
    waiter.join()
    print(bank.total, len(bank.entries))


if __name__ == "__main__":
    main()
