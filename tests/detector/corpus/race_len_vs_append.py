"""TestRaceLenVsAppend: ``len(items)`` in one thread, ``items.append`` in another (strict only)."""
# expect python: none
# expect strict: data-race list items @ len,app
import threading


def measure(items, out):
    out["n"] = len(items)  # [len]


def grow(items):
    items.append(4)  # [app]


def main():
    items = [1, 2, 3]
    out = {}
    a = threading.Thread(target=measure, args=(items, out), name="A")
    b = threading.Thread(target=grow, args=(items,), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(out["n"] in (3, 4), len(items))


if __name__ == "__main__":
    main()
