"""TestNoRaceClosureLoopDefaultArg: the loop variable bound as a default argument, or read after join.

``lambda v=v: ...`` copies the value when the lambda is made (before start), and the
function rebinds ``latest`` only after joining the thread that reads it.
"""
# expect: none
import threading

seen = []


def spawn(items):
    latest = None
    threads = []
    for v in items:
        t = threading.Thread(target=lambda v=v: seen.append((v, latest)), name=f"T{v}")  # noqa: B023
        t.start()
        t.join()
        threads.append(t)
        latest = v
    return latest


if __name__ == "__main__":
    print(spawn([1, 2, 3]), len(seen))
