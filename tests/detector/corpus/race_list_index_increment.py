"""TestRaceListIndexIncrement: ``results[0] += 1`` from two threads."""
# expect python: lost-update list results[0] @ inc,inc
# expect strict: data-race list results[0] @ inc,inc
import threading


def work(results):
    results[0] += 1  # [inc]


def main():
    results = [0, 0]
    threads = [threading.Thread(target=work, args=(results,), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(results)


if __name__ == "__main__":
    main()
