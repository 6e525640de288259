"""TestNoRaceIsAlivePoll: the main thread polls ``is_alive()`` (or ``join(timeout)``), not ``join()``."""
# expect: none
import threading
import time

results = {"a": 0, "b": 0}


def work(name):
    results[name] += 1


def main():
    a = threading.Thread(target=work, args=("a",), name="A")
    b = threading.Thread(target=work, args=("b",), name="B")
    a.start()
    b.start()
    while a.is_alive():
        time.sleep(0.001)
    results["a"] += 10
    while True:
        b.join(0.01)
        if not b.is_alive():
            break
    results["b"] += 10
    print(sorted(results.items()))


if __name__ == "__main__":
    main()
