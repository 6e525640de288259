"""TestNoRaceQueueHandoff: an object built by the producer is owned by the consumer after ``get``."""
# expect: none
import queue
import threading


class Order:
    def __init__(self, n):
        self.n = n
        self.lines = []


def produce(q):
    for n in range(3):
        order = Order(n)
        order.lines.append(f"item-{n}")
        q.put(order)
    q.put(None)


def consume(q, out):
    while (order := q.get()) is not None:
        order.lines.append("packed")
        order.n += 100
        out.append((order.n, len(order.lines)))


def main():
    q = queue.Queue()
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
