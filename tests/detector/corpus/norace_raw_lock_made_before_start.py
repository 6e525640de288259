"""TestNoRaceRawLockMadeBeforeStart: a raw lock the detector never made (as a module imported before
``racefree run`` started makes one) still orders what it protects, through ``with`` and acquire/release."""
# expect: none
import threading

# threading's private factory is the raw _thread.allocate_lock, bound when threading was imported:
# the lock a library imported before the detector started would hold
lock = threading._allocate_lock()
totals = {"with": 0, "calls": 0}


def work():
    for _ in range(100):
        with lock:
            totals["with"] += 1
        lock.acquire()
        totals["calls"] += 1
        lock.release()


def main():
    threads = [threading.Thread(target=work, name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(totals)


if __name__ == "__main__":
    main()
