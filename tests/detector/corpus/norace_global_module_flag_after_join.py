"""TestNoRaceGlobalModuleFlagAfterJoin: the script body rebinds globals only before start and after join.

Module constants (``LIMIT``), imports and defs are never recorded at all.
"""
# expect: none
import threading

LIMIT = 3
state = "new"
results = []


def work():
    results.append((state, LIMIT))


if __name__ == "__main__":
    state = "ready"
    t = threading.Thread(target=work, name="W")
    t.start()
    t.join()
    state = "done"
    print(results, state)
