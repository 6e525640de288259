"""TestNoRaceConcurrentMap: ``ConcurrentMap.compute`` is an atomic read-modify-write of one key."""
# expect: none
import threading

from racefree.sync import ConcurrentMap


def count_words(counts, words):
    for w in words:
        counts.compute(w, lambda n: n + 1, default=0)


def main():
    counts = ConcurrentMap()
    words = ["a", "b", "a", "c"]
    threads = [threading.Thread(target=count_words, args=(counts, words), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sorted(counts.snapshot().items()))


if __name__ == "__main__":
    main()
