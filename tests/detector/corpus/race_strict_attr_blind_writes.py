"""TestRaceStrictBlindWrites: two threads overwrite one attribute without reading it (strict only)."""
# expect python: none
# expect strict: data-race Status.phase @ wa,wb
import threading


class Status:
    def __init__(self):
        self.phase = "init"


def load(status):
    status.phase = "loading"  # [wa]


def stop(status):
    status.phase = "stopped"  # [wb]


def main():
    status = Status()
    a = threading.Thread(target=load, args=(status,), name="A")
    b = threading.Thread(target=stop, args=(status,), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(status.phase in ("loading", "stopped"))


if __name__ == "__main__":
    main()
