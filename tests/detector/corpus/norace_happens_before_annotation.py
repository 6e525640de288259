"""TestNoRaceHappensBeforeAnnotation: a pipe round trip orders two threads; the program says so."""
# expect: none
import os
import threading

import racefree

data = {"n": 0}
r, w = os.pipe()


def producer():
    data["n"] += 1
    racefree.happens_before(data)  # what follows os.write is after this thread's past
    os.write(w, b"x")


def consumer():
    os.read(r, 1)
    racefree.happens_after(data)
    data["n"] += 1


def main():
    threads = [threading.Thread(target=producer, name="P"), threading.Thread(target=consumer, name="C")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(data)


if __name__ == "__main__":
    main()
