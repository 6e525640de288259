"""TestRaceThreadingLocalSharedValue: a thread-local slot that holds a *shared* object protects nothing."""
# expect python: lost-update Stats.hits @ inc,inc
# expect strict: data-race Stats.hits @ inc,inc
import threading


class Stats:
    def __init__(self):
        self.hits = 0


ctx = threading.local()
shared = Stats()


def work():
    ctx.stats = shared
    ctx.stats.hits += 1  # [inc]


def main():
    threads = [threading.Thread(target=work, name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(shared.hits)


if __name__ == "__main__":
    main()
