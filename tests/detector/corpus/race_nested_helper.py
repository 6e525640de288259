"""TestRaceNestedHelper: the racing access is two calls deep; each stack lists the callers too."""
# expect python: lost-update Meter.ticks @ tick,tick
# expect strict: data-race Meter.ticks @ tick,tick
import threading


class Meter:
    def __init__(self):
        self.ticks = 0

    def tick(self):
        self.ticks += 1  # [tick]


def handle(meter):
    meter.tick()  # [call]


def serve(meter):
    handle(meter)


def main():
    meter = Meter()
    threads = [threading.Thread(target=serve, args=(meter,), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(meter.ticks)


if __name__ == "__main__":
    main()
