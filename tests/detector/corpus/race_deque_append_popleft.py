"""TestRaceDequeAppendPopleft: ``deque.append`` racing ``deque.popleft`` (strict only)."""
# expect python: none
# expect strict: data-race deque backlog @ app,pop
import collections
import threading


def add(backlog):
    backlog.append("job3")  # [app]


def take(backlog, out):
    out.append(backlog.popleft())  # [pop]


def main():
    backlog = collections.deque(["job1", "job2"])
    out = []
    a = threading.Thread(target=add, args=(backlog,), name="A")
    b = threading.Thread(target=take, args=(backlog, out), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(out, list(backlog))


if __name__ == "__main__":
    main()
