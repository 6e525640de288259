"""TestRaceSemaphoreReleaseEarly: the producer releases before it writes the value."""
# expect python: lost-update Slot.value @ wr,use
# expect strict: data-race Slot.value @ wr,use
import threading


class Slot:
    def __init__(self):
        self.value = 0


def produce(slot, sem):
    sem.release()
    slot.value = 7  # [wr]


def consume(slot, sem):
    sem.acquire()
    slot.value += 1  # [use]


def main():
    slot = Slot()
    sem = threading.Semaphore(0)
    c = threading.Thread(target=consume, args=(slot, sem), name="consumer")
    p = threading.Thread(target=produce, args=(slot, sem), name="producer")
    c.start()
    p.start()
    p.join()
    c.join()
    print(slot.value in (1, 7, 8))


if __name__ == "__main__":
    main()
