"""TestRaceRawLockOneSide: a raw lock made before the detector started orders only the side that takes it."""
# expect python: lost-update dict totals['n'] @ locked,unlocked
# expect strict: data-race dict totals['n'] @ locked,unlocked
import threading

lock = threading._allocate_lock()  # raw, as made by a module imported before the detector started
totals = {"n": 0}


def careful():
    with lock:
        totals["n"] += 1  # [locked]


def hasty():
    totals["n"] += 1  # [unlocked]


def main():
    a = threading.Thread(target=careful, name="A")
    b = threading.Thread(target=hasty, name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(totals)


if __name__ == "__main__":
    main()
