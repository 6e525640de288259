"""TestNoRacePropertyLockedAccessors: ``job.status = x`` where the property's accessors take the lock.

An assignment or read through a property is a call: only what the accessors touch, under
their lock, is recorded; the call site's ``job.status`` is not a location.
"""
# expect: none
import threading


class Job:
    def __init__(self):
        self._lock = threading.Lock()
        self._status = "new"

    @property
    def status(self):
        with self._lock:
            return self._status

    @status.setter
    def status(self, value):
        with self._lock:
            self._status = value


def run(job, name, seen, i):
    job.status = name
    seen[i] = job.status in ("A", "B")


def main():
    job = Job()
    seen = [None, None]
    threads = [threading.Thread(target=run, args=(job, n, seen, i), name=n) for i, n in enumerate("AB")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sorted(seen))


if __name__ == "__main__":
    main()
