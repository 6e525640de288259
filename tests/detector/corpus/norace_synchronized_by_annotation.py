"""TestNoRaceSynchronizedByAnnotation: a lock the detector cannot see (here: an exclusive file lock),
declared with ``racefree.synchronized_by``."""
# expect: none
import fcntl
import tempfile
import threading

import racefree

totals = {"n": 0}


def work(path):
    with open(path, "w") as f:
        for _ in range(20):
            fcntl.flock(f, fcntl.LOCK_EX)
            with racefree.synchronized_by(path):
                totals["n"] += 1
            fcntl.flock(f, fcntl.LOCK_UN)


def main():
    with tempfile.NamedTemporaryFile() as tmp:
        threads = [threading.Thread(target=work, args=(tmp.name,), name=f"T{i}") for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    print(totals)


if __name__ == "__main__":
    main()
