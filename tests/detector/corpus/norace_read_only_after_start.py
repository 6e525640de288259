"""TestNoRaceReadOnly: shared data built before ``start`` and only read afterwards, in every way."""
# expect: none
import threading


class Catalog:
    def __init__(self):
        self.items = {"apple": 3, "pear": 5}
        self.names = ["apple", "pear"]
        self.tags = {"fruit"}


LIMITS = {"max": 10}


def browse(catalog, out):
    total = sum(catalog.items.values())
    first = catalog.names[0]
    has = "pear" in catalog.items and "fruit" in catalog.tags
    keys = sorted(catalog.items)
    pairs = [(k, v) for k, v in catalog.items.items()]
    for name in catalog.names:
        total += len(name)
    out.append((total, first, has, keys, len(pairs), LIMITS["max"], len(catalog.names)))


def main():
    catalog = Catalog()
    out_a, out_b = [], []
    a = threading.Thread(target=browse, args=(catalog, out_a), name="A")
    b = threading.Thread(target=browse, args=(catalog, out_b), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(out_a == out_b, out_a)


if __name__ == "__main__":
    main()
