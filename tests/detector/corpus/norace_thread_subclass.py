"""TestNoRaceThreadSubclass: a ``Thread`` subclass stores its result; the main thread reads it after join."""
# expect: none
import threading


class Summer(threading.Thread):
    def __init__(self, numbers):
        super().__init__(name="summer")
        self.numbers = numbers
        self.result = None

    def run(self):
        self.result = sum(self.numbers)
        self.numbers.append(self.result)


def main():
    numbers = [1, 2, 3]
    t = Summer(numbers)
    t.start()
    t.join()
    t.result += 1
    print(t.result, numbers)


if __name__ == "__main__":
    main()
