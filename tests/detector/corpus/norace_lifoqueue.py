"""TestNoRaceLifoQueue: ``LifoQueue`` put happens before the get that returns that item."""
# expect: none
import queue
import threading


def produce(q, box):
    box["data"] = [3, 1, 2]
    q.put(box)


def consume(q, out):
    box = q.get()
    box["data"].sort()
    box["sorted"] = True
    out.append(box["data"])


def main():
    q = queue.LifoQueue()
    box = {}
    out = []
    c = threading.Thread(target=consume, args=(q, out), name="consumer")
    p = threading.Thread(target=produce, args=(q, box), name="producer")
    c.start()
    p.start()
    p.join()
    c.join()
    print(out, sorted(box))


if __name__ == "__main__":
    main()
