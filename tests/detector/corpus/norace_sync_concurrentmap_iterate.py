"""TestNoRaceConcurrentMapIterate: iterating a ``ConcurrentMap`` (a snapshot) while another thread writes it.

A ConcurrentMap synchronizes itself: listing, ``pop``, ``setdefault`` and item
stores from several threads are not races, even though it is a dict subclass.
"""
# expect: none
import threading

from racefree.sync import ConcurrentMap


def writer(m):
    for i in range(50):
        m[f"k{i}"] = i
        m.setdefault("shared", 0)
        m.pop(f"k{i - 1}", None)


def lister(m, seen):
    for _ in range(50):
        seen.append(len([k for k in m]))
        seen.append(len(list(m.items())))
        seen.append("shared" in m)


def main():
    m = ConcurrentMap()
    seen = []
    threads = [threading.Thread(target=writer, args=(m,), name="writer"),
               threading.Thread(target=lister, args=(m, seen), name="lister")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(len(seen))


if __name__ == "__main__":
    main()
