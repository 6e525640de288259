"""TestNoRaceJoinChain: T1 writes, main joins T1 and only then starts T2, which writes too."""
# expect: none
import threading

log = []


def step(name):
    log.append(name)
    if len(log) > 1:
        log[0] = log[0].upper()


def main():
    for name in ("first", "second", "third"):
        t = threading.Thread(target=step, args=(name,), name=name)
        t.start()
        t.join()
    print(log)


if __name__ == "__main__":
    main()
