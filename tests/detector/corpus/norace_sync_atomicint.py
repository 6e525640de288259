"""TestNoRaceAtomicInt: ``racefree.sync.AtomicInt`` counts race-free and publishes (release/acquire)."""
# expect: none
import threading

from racefree.sync import AtomicInt


class Mailbox:
    def __init__(self):
        self.letter = None
        self.flag = AtomicInt(0)


def count(counter):
    for _ in range(100):
        counter.increment()


def send(box):
    box.letter = ["hello"]
    box.flag.store(1)


def receive(box, out):
    while box.flag.load() == 0:
        pass
    box.letter.append("world")
    out.append(" ".join(box.letter))


def main():
    counter = AtomicInt()
    box = Mailbox()
    out = []
    threads = [threading.Thread(target=count, args=(counter,), name=f"C{i}") for i in range(2)]
    threads.append(threading.Thread(target=receive, args=(box, out), name="receiver"))
    threads.append(threading.Thread(target=send, args=(box,), name="sender"))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(counter.load(), out)


if __name__ == "__main__":
    main()
