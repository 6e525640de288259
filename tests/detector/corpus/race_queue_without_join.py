"""TestRaceQueueWithoutJoin: the main thread reads the results without waiting for ``Queue.join``."""
# expect python: iteration list results @ total,app
# expect strict: data-race list results @ total,app
import queue
import threading


def worker(q, results):
    item = q.get()
    results.append(item * item)  # [app]
    q.task_done()


def main():
    q = queue.Queue()
    results = []
    t = threading.Thread(target=worker, args=(q, results), name="worker")
    t.start()
    q.put(3)
    total = sum(results)  # [total]
    q.join()
    t.join()
    print(total in (0, 9), results)


if __name__ == "__main__":
    main()
