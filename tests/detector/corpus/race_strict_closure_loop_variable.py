"""TestRaceStrictClosureLoopVariable: a thread target reads the loop variable the loop rebinds.

``lambda: report(v)`` closes over ``v`` itself, not its value: the loop's next
binding of ``v`` races with the started thread's read (it may print the next
item). No ``nonlocal`` anywhere. A single read racing a single write is a
strict-mode race only.
"""
# expect python: none
# expect strict: data-race closure v @ bind,use
import threading


def report(value):
    return value * 2


def spawn(items):
    threads = []
    for v in items:  # [bind]
        t = threading.Thread(target=lambda: report(v), name=f"T{v}")  # noqa: B023  # [use]
        t.start()
        threads.append(t)
    for t in threads:
        t.join()


if __name__ == "__main__":
    spawn([1])
    spawn([2, 3, 4])
