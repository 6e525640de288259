"""TestRaceAtomicStoreEarly: the flag is stored before the letter is written."""
# expect python: lost-update Mailbox.letter @ wr,use
# expect strict: data-race Mailbox.letter @ wr,use
import threading

from racefree.sync import AtomicInt


class Mailbox:
    def __init__(self):
        self.letter = ""
        self.flag = AtomicInt(0)


def send(box):
    box.flag.store(1)
    box.letter = "hello"  # [wr]


def receive(box):
    while box.flag.load() == 0:
        pass
    box.letter += "!"  # [use]


def main():
    box = Mailbox()
    r = threading.Thread(target=receive, args=(box,), name="receiver")
    s = threading.Thread(target=send, args=(box,), name="sender")
    r.start()
    s.start()
    s.join()
    r.join()
    print(box.letter in ("!", "hello", "hello!"))


if __name__ == "__main__":
    main()
