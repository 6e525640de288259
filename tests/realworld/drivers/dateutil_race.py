"""python-dateutil 2.8.0: tzoffset's strong LRU cache is updated with no lock (issue #901)."""
import threading

from dateutil import tz

barrier = threading.Barrier(2)


def work(first: int) -> None:
    barrier.wait()
    # More distinct offsets than the strong cache holds (8): every call moves a key to the end
    # and evicts the oldest one once the cache is full.
    for minutes in range(first, first + 40, 2):
        assert tz.tzoffset(None, minutes * 60).utcoffset(None).total_seconds() == minutes * 60


threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("ok")
