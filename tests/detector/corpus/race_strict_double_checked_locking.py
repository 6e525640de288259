"""TestRaceDoubleCheckedLocking: unlocked check, locked re-check and write.

Python mode stays silent: the write is inside ``with lock:``, so the unlocked check
does not guard it. Strict mode reports the unlocked read against the locked write.
"""
# expect python: none
# expect strict: data-race Registry.instance @ chk,init
import threading


class Registry:
    def __init__(self):
        self.lock = threading.Lock()
        self.instance = None

    def get(self):
        if self.instance is None:  # [chk]
            with self.lock:
                if self.instance is None:
                    self.instance = object()  # [init]


def main():
    reg = Registry()
    threads = [threading.Thread(target=reg.get, name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(reg.instance is not None)


if __name__ == "__main__":
    main()
