"""TestNoRaceSemaphore: ``release`` by the producer happens before the consumer's ``acquire`` returns."""
# expect: none
import threading


class Slot:
    def __init__(self):
        self.value = None


def produce(slot, sem):
    slot.value = {"payload": 7}
    sem.release()


def consume(slot, sem, out):
    sem.acquire()
    slot.value["payload"] += 1
    out.append(slot.value["payload"])


def main():
    slot = Slot()
    sem = threading.Semaphore(0)
    out = []
    c = threading.Thread(target=consume, args=(slot, sem, out), name="consumer")
    p = threading.Thread(target=produce, args=(slot, sem), name="producer")
    c.start()
    p.start()
    p.join()
    c.join()
    print(out)


if __name__ == "__main__":
    main()
