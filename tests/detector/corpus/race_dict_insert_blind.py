"""TestRaceDictInsertBlind: two threads insert different keys: the key set races (strict only)."""
# expect python: none
# expect strict: data-race dict registry @ ins,ins
import threading


def register(registry, name):
    registry[name] = len(name)  # [ins]


def main():
    registry = {}
    threads = [threading.Thread(target=register, args=(registry, n), name=n) for n in ("alpha", "beta")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sorted(registry.items()))


if __name__ == "__main__":
    main()
