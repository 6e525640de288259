"""TestRaceDelVsGet: ``del d[k]`` in one thread, ``d.get(k)`` in another (strict only)."""
# expect python: none
# expect strict: data-race dict sessions['s1'] @ del,get
import threading


def expire(sessions):
    del sessions["s1"]  # [del]


def lookup(sessions, out):
    out.append(sessions.get("s1"))  # [get]


def main():
    sessions = {"s1": "alice", "s2": "bob"}
    out = []
    a = threading.Thread(target=expire, args=(sessions,), name="A")
    b = threading.Thread(target=lookup, args=(sessions, out), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(sorted(sessions), out[0] in (None, "alice"))


if __name__ == "__main__":
    main()
