"""TestRaceCheckThenActManyKeys: ``if i not in seen: seen.add(i)`` over 200 keys from two threads.

One pair of code sites on one container is one race, whatever the number of keys
it hit (issue 9): the report names the container, counts the keys and shows the
first few.  The second thread starts its loop once the first is done, handed over
through a pipe, which the detector does not see (no happens-before), so the
report is the same on every run.
"""
# expect python: check-then-act set seen[*] @ chk,add
# expect strict: data-race set seen[*] @ chk,add
import os
import threading

handover_r, handover_w = os.pipe()


def work(seen, first):
    if not first:
        os.read(handover_r, 1)
    for i in range(200):
        if i not in seen:  # [chk]
            seen.add(i)  # [add]
    if first:
        os.write(handover_w, b"x")


def main():
    seen = set()
    threads = [threading.Thread(target=work, args=(seen, i == 0), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(len(seen))


if __name__ == "__main__":
    main()
