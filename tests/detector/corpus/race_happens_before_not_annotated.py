"""TestRaceHappensBeforeNotAnnotated: the same pipe round trip, unannotated: the detector cannot see it."""
# expect python: lost-update dict data['n'] @ producer,consumer
# expect strict: data-race dict data['n'] @ producer,consumer
import os
import threading

data = {"n": 0}
r, w = os.pipe()


def producer():
    data["n"] += 1  # [producer]
    os.write(w, b"x")


def consumer():
    os.read(r, 1)
    data["n"] += 1  # [consumer]


def main():
    threads = [threading.Thread(target=producer, name="P"), threading.Thread(target=consumer, name="C")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(data)


if __name__ == "__main__":
    main()
