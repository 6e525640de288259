"""TestRaceIterCopyItemByItem: copies CPython makes item by item, while another thread inserts.

``tuple(d)`` and ``tuple(d.values())`` walk an exact dict with its iterator, and ``list(d)``
of a dict subclass (``defaultdict``) does the same: on 3.13t each step takes the dict's lock on its own, and
an insertion between two steps raises "dictionary changed size during iteration".
Twin of race_strict_copy_list_call.py (``list(d)`` of an exact dict: one step).
"""
# expect python: iteration dict cache @ tup,ins
# expect python: iteration dict names @ tv,ren
# expect python: iteration defaultdict counts @ sub,bump
# expect strict: data-race dict cache @ tup,ins
# expect strict: data-race dict names @ tv,ren
# expect strict: data-race defaultdict counts @ sub,bump
import collections
import threading


def snapshot(cache, names, counts, out):
    # on 3.13t each copy can really fail here: "dictionary changed size during iteration"
    for copy in (lambda: tuple(cache),  # [tup]
                 lambda: tuple(names.values()),  # [tv]
                 lambda: list(counts)):  # [sub]
        try:
            out.append(copy())
        except RuntimeError:
            pass


def fill(cache, names, counts):
    cache["k2"] = 2  # [ins]
    names["n2"] = "b"  # [ren]
    counts["b"] += 1  # [bump]


def main():
    cache = {"k1": 1}
    names = {"n1": "a"}
    counts = collections.defaultdict(int, a=1)
    out = [len(cache) + len(names) + len(counts)]  # touched here: shared from the start
    a = threading.Thread(target=snapshot, args=(cache, names, counts, out), name="A")
    b = threading.Thread(target=fill, args=(cache, names, counts), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(sorted(cache), sorted(names), sorted(counts))


if __name__ == "__main__":
    main()
