"""TestRaceStrictReadThenBlindWrite: a thread reads a field, then (elsewhere) overwrites it blindly.

The write does not use what was read (the module's ``GetStats`` then ``Process`` on
``LastProcessed``): single reads racing single writes and blind writes racing each
other are strict-mode races only, so python mode reports nothing.
"""
# expect python: none
# expect strict: data-race Probe.stamp @ peek,touch
# expect strict: data-race Probe.stamp @ touch,touch
import threading


class Probe:
    def __init__(self):
        self.stamp = 0.0

    def peek(self):
        return self.stamp  # [peek]

    def touch(self, value):
        self.stamp = value  # [touch]


def work(probe, value):
    probe.peek()
    probe.touch(value)


def main():
    probe = Probe()
    threads = [threading.Thread(target=work, args=(probe, float(i)), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(probe.stamp in (0.0, 1.0))


if __name__ == "__main__":
    main()
