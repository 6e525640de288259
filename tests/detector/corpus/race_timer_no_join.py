"""TestRaceTimerNoJoin: the main thread updates what the timer's function updates, without joining first."""
# expect python: lost-update Stats.flushes @ tinc,minc
# expect strict: data-race Stats.flushes @ tinc,minc
import threading


class Stats:
    def __init__(self):
        self.flushes = 0


def flush(stats):
    stats.flushes += 1  # [tinc]


def main():
    stats = Stats()
    timer = threading.Timer(0.0, flush, args=(stats,))
    timer.start()
    stats.flushes += 1  # [minc]
    timer.join()
    print(stats.flushes)


if __name__ == "__main__":
    main()
