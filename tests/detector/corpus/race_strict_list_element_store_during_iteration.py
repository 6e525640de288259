"""TestRaceStrictListElementStoreDuringIteration: ``s[3] = 3`` while another thread iterates the list.

The list's size does not change: the iteration neither fails nor skips, so python mode
reports nothing; the store writes an element the iteration reads (strict).
"""
# expect python: none
# expect strict: data-race list s[*] @ scan,store
import threading

s = [0, 1, 2, 3, 4]
seen = []


def scan():
    seen.append([x for x in s])  # [scan]


def store():
    s[3] = 3  # [store]


def main():
    a = threading.Thread(target=scan, name="A")
    b = threading.Thread(target=store, name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(s)


if __name__ == "__main__":
    main()
