"""TestRaceStrictGlobalReadWrite: a module global read in one thread, assigned in another."""
# expect python: none
# expect strict: data-race global mode @ rd,wr
import threading

mode = "slow"
seen = []


def observe():
    seen.append(mode)  # [rd]


def switch():
    global mode
    mode = "fast"  # [wr]


def main():
    a = threading.Thread(target=observe, name="A")
    b = threading.Thread(target=switch, name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(mode)


if __name__ == "__main__":
    main()
