"""TestRaceLostUpdateGlobalSplit: a global read, a call, then the global written from the stale value.

A plain call is no synchronization: the read and the write stay one read-modify-write.
"""
# expect python: lost-update global next_id @ wr,wr
# expect strict: data-race global next_id @ rd,wr
# expect strict: data-race global next_id @ wr,wr
import threading

next_id = 1


def audit(value):
    return value * 1


def allocate():
    global next_id
    mine = next_id  # [rd]
    audit(mine)
    next_id = mine + 1  # [wr]


def main():
    threads = [threading.Thread(target=allocate, name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(next_id)


if __name__ == "__main__":
    main()
