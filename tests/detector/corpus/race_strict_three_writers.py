"""TestRaceStrictThreeWriters: three threads store one existing dict key; the race is seen twice.

The report keeps one consistent pair of accesses from two different threads, and the
key set is untouched (an update of an existing key is no insertion).
"""
# expect python: none
# expect strict: data-race dict shared['k'] @ store,store
import threading


def work(shared, i):
    shared["k"] = i  # [store]


def main():
    shared = {"k": -1}
    threads = [threading.Thread(target=work, args=(shared, i), name=f"T{i}") for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(shared["k"] in (0, 1, 2))


if __name__ == "__main__":
    main()
