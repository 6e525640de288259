"""TestRaceSnapshotMutatedAfterSet: the publisher keeps changing the dict it already published."""
# expect python: lost-update dict limits['max'] @ late,use
# expect strict: data-race dict limits['max'] @ late,use
import threading

from racefree.sync import Snapshot


def publish(snap):
    limits = {"max": 1}
    snap.set(limits)
    limits["max"] = 5  # [late]


def consume(snap):
    while (limits := snap.get()) is None:
        pass
    limits["max"] += 1  # [use]


def main():
    snap = Snapshot(None)
    threads = [threading.Thread(target=consume, args=(snap,), name="consumer"),
               threading.Thread(target=publish, args=(snap,), name="publisher")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(snap.get()["max"] in (2, 5, 6))


if __name__ == "__main__":
    main()
