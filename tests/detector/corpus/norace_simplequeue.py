"""TestNoRaceSimpleQueue: ``queue.SimpleQueue`` (implemented in C) hands objects over too."""
# expect: none
import queue
import threading


def produce(q):
    for i in range(3):
        q.put({"id": i, "tags": ["raw"]})
    q.put(None)


def consume(q, out):
    while (msg := q.get()) is not None:
        msg["tags"].append("seen")
        msg["id"] *= 10
        out.append(msg["id"])


def main():
    q = queue.SimpleQueue()
    out = []
    c = threading.Thread(target=consume, args=(q, out), name="consumer")
    p = threading.Thread(target=produce, args=(q,), name="producer")
    c.start()
    p.start()
    p.join()
    c.join()
    print(out)


if __name__ == "__main__":
    main()
