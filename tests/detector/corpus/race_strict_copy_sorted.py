"""TestRaceStrictCopySorted: ``sorted(names)`` while another thread appends.

Python mode: ``sorted`` first copies the exact list in one step (``list()``, under the list's
critical section on 3.13t), then sorts its own copy: a snapshot, no race.  Strict mode: Go's verdict.
"""
# expect python: none
# expect strict: data-race list names @ sort,app
import threading


def report(names, out):
    out.append(sorted(names))  # [sort]


def join_team(names):
    names.append("zoe")  # [app]


def main():
    names = ["bob", "amy"]
    out = []
    a = threading.Thread(target=report, args=(names, out), name="A")
    b = threading.Thread(target=join_team, args=(names,), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(sorted(names))


if __name__ == "__main__":
    main()
