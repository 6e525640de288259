"""TestNoRaceLocals: local variables, fresh objects and class constants are per-thread or read-only."""
# expect: none
import threading


class Shape:
    SIDES = 4

    def __init__(self, size):
        self.size = size

    def area(self):
        return self.size * self.size


def work(out, seed):
    acc = 0
    data = {}
    for i in range(10):
        acc += i * seed
        data[i] = acc
    shape = Shape(seed)
    shape.size += Shape.SIDES
    out.append((acc, len(data), shape.area()))


def main():
    outs = [[], []]
    threads = [threading.Thread(target=work, args=(outs[i], i + 1), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(outs)


if __name__ == "__main__":
    main()
