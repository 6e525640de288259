"""TestRaceStrictClosureReadWrite: a closure variable read by one thread and rebound by another."""
# expect python: none
# expect strict: data-race closure latest @ rd,wr
import threading


def main():
    latest = None
    out = []

    def reader():
        out.append(latest)  # [rd]

    def writer():
        nonlocal latest
        latest = "v2"  # [wr]

    a = threading.Thread(target=reader, name="A")
    b = threading.Thread(target=writer, name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(latest)


if __name__ == "__main__":
    main()
