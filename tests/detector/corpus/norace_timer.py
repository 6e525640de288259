"""TestNoRaceTimer: a ``Timer`` behaves as a thread: start and join order its function's accesses."""
# expect: none
import threading


class Stats:
    def __init__(self):
        self.flushes = 0


def flush(stats):
    stats.flushes += 1


def main():
    stats = Stats()
    stats.flushes = 5
    timer = threading.Timer(0.0, flush, args=(stats,))
    timer.start()
    timer.join()
    stats.flushes += 1
    cancelled = threading.Timer(60.0, flush, args=(stats,))
    cancelled.start()
    cancelled.cancel()
    cancelled.join()
    print(stats.flushes)


if __name__ == "__main__":
    main()
