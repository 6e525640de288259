"""TestRacePopVsAppend: ``pop`` and ``append`` on one list from two threads (strict only)."""
# expect python: none
# expect strict: data-race list items @ pop,app
import threading


def take(items):
    items.pop(0)  # [pop]


def give(items):
    items.append(9)  # [app]


def main():
    items = [1, 2, 3]
    a = threading.Thread(target=take, args=(items,), name="A")
    b = threading.Thread(target=give, args=(items,), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(sorted(items))


if __name__ == "__main__":
    main()
