"""TestRaceCheckThenActOneWriter: reported even when only one thread reaches the write.

The main thread sets ``leader`` before starting the threads, so B's check always
fails and B never writes; A writes blindly. B's check of ``leader`` is still
unordered with A's write of ``leader``: a check-then-act candidate.
"""
# expect python: check-then-act global leader @ chk,elect
# expect strict: data-race global leader @ chk,elect
import threading

leader = None


def elect_a():
    global leader
    leader = "A"  # [elect]


def elect_b():
    global leader
    if leader is None:  # [chk]
        leader = "B"


def main():
    global leader
    leader = "main"
    a = threading.Thread(target=elect_a, name="A")
    b = threading.Thread(target=elect_b, name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(leader in ("A", "main"))


if __name__ == "__main__":
    main()
