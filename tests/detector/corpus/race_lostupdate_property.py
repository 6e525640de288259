"""TestRaceLostUpdateProperty: ``o.count = o.count + 1`` through a property (getter's read, setter's write).

The location is the field the accessors touch (``Meter._count``), not the property.
"""
# expect python: lost-update Meter._count @ set,set
# expect strict: data-race Meter._count @ set,set
# allow strict: data-race Meter._count @ get,set
import threading


class Meter:
    def __init__(self):
        self._count = 0

    @property
    def count(self):
        return self._count  # [get]

    @count.setter
    def count(self, value):
        self._count = value  # [set]


def tick(meter):
    meter.count = meter.count + 1


def main():
    meter = Meter()
    threads = [threading.Thread(target=tick, args=(meter,), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(meter.count in (1, 2))


if __name__ == "__main__":
    main()
