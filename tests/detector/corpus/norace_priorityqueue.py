"""TestNoRacePriorityQueue: items handed over through a ``PriorityQueue``."""
# expect: none
import queue
import threading


class Task:
    def __init__(self, name):
        self.name = name
        self.state = "new"


def produce(q, tasks):
    for prio, task in enumerate(tasks):
        task.state = "queued"
        q.put((prio, task.name))
    q.put((99, None))


def consume(q, tasks, out):
    by_name = {t.name: t for t in tasks}
    while (item := q.get())[1] is not None:
        task = by_name[item[1]]
        task.state += "+done"
        out.append(task.state)


def main():
    tasks = [Task("a"), Task("b")]
    q = queue.PriorityQueue()
    out = []
    c = threading.Thread(target=consume, args=(q, tasks, out), name="consumer")
    p = threading.Thread(target=produce, args=(q, tasks), name="producer")
    c.start()
    p.start()
    p.join()
    c.join()
    print(out)


if __name__ == "__main__":
    main()
