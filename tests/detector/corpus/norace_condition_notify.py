"""TestNoRaceConditionNotify: data written before ``notify`` is visible after ``wait`` returns."""
# expect: none
import threading


class Box:
    def __init__(self):
        self.cond = threading.Condition()
        self.ready = False
        self.item = None


def produce(box):
    box.item = [1, 2, 3]
    with box.cond:
        box.ready = True
        box.cond.notify()


def consume(box, out):
    with box.cond:
        while not box.ready:
            box.cond.wait()
    box.item.append(4)
    out.append(sum(box.item))


def main():
    box = Box()
    out = []
    c = threading.Thread(target=consume, args=(box, out), name="consumer")
    p = threading.Thread(target=produce, args=(box,), name="producer")
    c.start()
    p.start()
    p.join()
    c.join()
    print(out)


if __name__ == "__main__":
    main()
