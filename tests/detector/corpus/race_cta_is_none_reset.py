"""TestRaceCheckThenActReset: lazy init racing a reset; the checker always reaches its write.

Python mode: the check races the reset (check-then-act). The guarded write stores a new
object, not a value computed from the check's read, so it is no lost update.
Strict mode: when the reset comes after A's check *and* write, FastTrack has
folded A's read into A's later write and reports only the write/write pair.
"""
# expect python: check-then-act Client.session @ chk,reset
# allow strict: data-race Client.session @ chk,reset
# expect strict: data-race Client.session @ init,reset
import threading


class Client:
    def __init__(self):
        self.session = None

    def ensure(self):
        if self.session is None:  # [chk]
            self.session = {"token": 1}  # [init]

    def close(self):
        self.session = None  # [reset]


def main():
    client = Client()
    a = threading.Thread(target=client.ensure, name="A")
    b = threading.Thread(target=client.close, name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(client.session in (None, {"token": 1}))


if __name__ == "__main__":
    main()
