"""TestRaceLostUpdateSplitFunctions: ``v = load(stats)`` then ``save(stats, v + 1)`` (an RMW split in two)."""
# expect python: lost-update Stats.hits @ save,save
# expect strict: data-race Stats.hits @ save,save
# allow strict: data-race Stats.hits @ load,save
import threading


class Stats:
    def __init__(self):
        self.hits = 0


def load(stats):
    return stats.hits  # [load]


def save(stats, value):
    stats.hits = value  # [save]


def record(stats):
    v = load(stats)
    save(stats, v + 1)


def main():
    stats = Stats()
    threads = [threading.Thread(target=record, args=(stats,), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(stats.hits in (1, 2))


if __name__ == "__main__":
    main()
