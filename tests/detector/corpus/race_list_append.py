"""TestRaceListAppend: ``append`` racing ``append`` is a data race, but not a Python bug (strict only)."""
# expect python: none
# expect strict: data-race list results @ app,app
import threading


def work(results, i):
    results.append(i)  # [app]


def main():
    results = []
    threads = [threading.Thread(target=work, args=(results, i), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sorted(results))


if __name__ == "__main__":
    main()
