"""TestRaceIterComprehension: a list comprehension over a list another thread appends to."""
# expect python: iteration list items @ comp,app
# expect strict: data-race list items @ comp,app
import threading


def double(items, out):
    out.append([x * 2 for x in items])  # [comp]


def grow(items):
    items.append(4)  # [app]


def main():
    items = [1, 2, 3]
    out = []
    a = threading.Thread(target=double, args=(items, out), name="A")
    b = threading.Thread(target=grow, args=(items,), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(items)


if __name__ == "__main__":
    main()
