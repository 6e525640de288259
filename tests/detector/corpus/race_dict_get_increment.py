"""TestRaceDictGetIncrement: ``d[k] = d.get(k, 0) + 1`` on one key from two threads."""
# expect python: lost-update dict counts['hits'] @ inc,inc
# expect strict: data-race dict counts['hits'] @ inc,inc
import threading


def work(counts):
    counts["hits"] = counts.get("hits", 0) + 1  # [inc]


def main():
    counts = {"hits": 0}
    threads = [threading.Thread(target=work, args=(counts,), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(counts)


if __name__ == "__main__":
    main()
