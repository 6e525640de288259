"""TestRaceSliceStoreDuringIteration: ``del a[i:j]`` (or ``a[i:j] = ...``) resizes a list under an iteration.

The iteration may skip elements. In strict mode the deletion also writes the elements it
shifts (``list items[*]``).
"""
# expect python: iteration list items @ scan,trim
# expect strict: data-race list items @ scan,trim
# expect strict: data-race list items[*] @ scan,trim
import threading

items = list(range(100))
totals = []


def scan():
    total = 0
    for x in items:  # [scan]
        total += x
    totals.append(total)


def trim():
    del items[:10]  # [trim]


def main():
    a = threading.Thread(target=scan, name="A")
    b = threading.Thread(target=trim, name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(len(items))


if __name__ == "__main__":
    main()
