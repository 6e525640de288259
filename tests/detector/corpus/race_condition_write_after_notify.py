"""TestRaceConditionWriteAfterNotify: the producer writes the item after it notified."""
# expect python: lost-update Box.item @ late,use
# expect strict: data-race Box.item @ late,use
import threading


class Box:
    def __init__(self):
        self.cond = threading.Condition()
        self.ready = False
        self.item = 0


def produce(box):
    with box.cond:
        box.ready = True
        box.cond.notify()
    box.item = 42  # [late]


def consume(box):
    with box.cond:
        while not box.ready:
            box.cond.wait()
    box.item += 1  # [use]


def main():
    box = Box()
    c = threading.Thread(target=consume, args=(box,), name="consumer")
    p = threading.Thread(target=produce, args=(box,), name="producer")
    c.start()
    p.start()
    p.join()
    c.join()
    print(box.item in (1, 42, 43))


if __name__ == "__main__":
    main()
