"""TestRaceStrictCopyListCall: ``list(d)`` copies the keys while another thread inserts.

Python mode: ``list()`` of an exact dict copies it in one step on both builds (under the
dict's critical section on 3.13t), so the copy has the key or not: a snapshot, no race.
Its twin, race_iter_copy_item_by_item.py, copies item by item. Strict mode: Go's verdict.
"""
# expect python: none
# expect strict: data-race dict cache @ copy,ins
import threading


def snapshot(cache, out):
    out.append(list(cache))  # [copy]


def fill(cache):
    cache["k2"] = 2  # [ins]


def main():
    cache = {"k1": 1}
    out = []
    a = threading.Thread(target=snapshot, args=(cache, out), name="A")
    b = threading.Thread(target=fill, args=(cache,), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(sorted(cache))


if __name__ == "__main__":
    main()
