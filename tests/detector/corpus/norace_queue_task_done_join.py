"""TestNoRaceQueueJoin: the worker's writes before ``task_done`` happen before ``Queue.join`` returns."""
# expect: none
import queue
import threading


def worker(q, results):
    while True:
        item = q.get()
        if item is None:
            q.task_done()
            return
        results.append(item * item)
        q.task_done()


def main():
    q = queue.Queue()
    results = []
    t = threading.Thread(target=worker, args=(q, results), name="worker")
    t.start()
    for i in range(4):
        q.put(i)
    q.join()
    total = sum(results)
    results.append(total)
    print(sorted(results))
    q.put(None)
    t.join()


if __name__ == "__main__":
    main()
