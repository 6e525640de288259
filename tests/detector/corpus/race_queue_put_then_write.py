"""TestRaceQueuePutThenWrite: the producer keeps writing the object after handing it over."""
# expect python: lost-update Order.status @ late,use
# expect strict: data-race Order.status @ late,use
import queue
import threading


class Order:
    def __init__(self):
        self.status = "new"


def produce(q, order):
    q.put(order)
    order.status = "sent"  # [late]


def consume(q):
    order = q.get()
    order.status += "+packed"  # [use]


def main():
    q = queue.Queue()
    order = Order()
    c = threading.Thread(target=consume, args=(q,), name="consumer")
    p = threading.Thread(target=produce, args=(q, order), name="producer")
    c.start()
    p.start()
    p.join()
    c.join()
    print(order.status in ("sent", "new+packed", "sent+packed"))


if __name__ == "__main__":
    main()
