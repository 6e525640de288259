"""TestNoRaceAtomicRefSnapshot: objects published through ``AtomicRef.store`` / ``Snapshot.set``.

Whatever the publisher wrote before the store (set) happens before what a reader
does after the ``load`` (``get``) that returns it; ``ShardedCounter.value`` acquires
what every ``add`` released.
"""
# expect: none
import threading

from racefree.sync import AtomicRef, ShardedCounter, Snapshot


class Config:
    def __init__(self):
        self.values = {}
        self.version = 0


def publish(ref, snap, counter):
    cfg = Config()
    cfg.values["mode"] = "fast"
    cfg.version = 2
    ref.store(cfg)
    snap.set({"limit": 10})
    counter.add(1)


def consume(ref, snap, out):
    while (cfg := ref.load()) is None:
        pass
    cfg.values["seen"] = True
    cfg.version += 1
    while (limits := snap.get()) is None:
        pass
    out.append((sorted(cfg.values), cfg.version, limits["limit"]))


def main():
    ref = AtomicRef(None)
    snap = Snapshot(None)
    counter = ShardedCounter()
    out = []
    threads = [threading.Thread(target=consume, args=(ref, snap, out), name="consumer"),
               threading.Thread(target=publish, args=(ref, snap, counter), name="publisher")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(out, counter.value())


if __name__ == "__main__":
    main()
