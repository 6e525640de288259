"""TestRaceListIndexBlindWrites: two threads store into the same list slot (strict only)."""
# expect python: none
# expect strict: data-race list results[0] @ wa,wb
import threading


def writer_a(results):
    results[0] = "a"  # [wa]


def writer_b(results):
    results[0] = "b"  # [wb]


def main():
    results = [None]
    a = threading.Thread(target=writer_a, args=(results,), name="A")
    b = threading.Thread(target=writer_b, args=(results,), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(results[0] in ("a", "b"))


if __name__ == "__main__":
    main()
