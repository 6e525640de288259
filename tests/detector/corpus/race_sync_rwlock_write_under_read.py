"""TestRaceRWLockWriteUnderRead: updating shared state while holding only the *read* side."""
# expect python: lost-update Config.reads @ inc,inc
# expect strict: data-race Config.reads @ inc,inc
import threading

from racefree.sync import RWLock


class Config:
    def __init__(self):
        self.lock = RWLock()
        self.reads = 0


def lookup(cfg, barrier):
    with cfg.lock.read():
        barrier.wait()
        cfg.reads += 1  # [inc]


def main():
    cfg = Config()
    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=lookup, args=(cfg, barrier), name=f"R{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(cfg.reads)


if __name__ == "__main__":
    main()
