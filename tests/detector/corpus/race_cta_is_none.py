"""TestRaceCheckThenActIsNone: lazy initialization ``if self.conn is None: self.conn = ...`` in two threads.

Whichever thread checks second is racing with the first one's write, whether or not
it saw None. Both threads reach the write only on some schedules; then the second
write is also a lost update (it read the location at the check), and the writes race
in strict mode, hence those ``allow`` lines. The final ``return self.conn`` read is
reported in strict mode only when it is that thread's first access of its epoch.
"""
# expect python: check-then-act Pool.conn @ chk,init
# allow python: lost-update Pool.conn @ init,init
# expect strict: data-race Pool.conn @ chk,init
# allow strict: data-race Pool.conn @ ret,init
# allow strict: data-race Pool.conn @ init,init
import threading


class Pool:
    def __init__(self):
        self.conn = None

    def get(self):
        if self.conn is None:  # [chk]
            self.conn = object()  # [init]
        return self.conn  # [ret]


def main():
    pool = Pool()
    threads = [threading.Thread(target=pool.get, name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(pool.conn is not None)


if __name__ == "__main__":
    main()
