"""TestRaceGlobalAugAssign: ``global total; total += 1`` from two threads."""
# expect python: lost-update global total @ inc,inc
# expect strict: data-race global total @ inc,inc
import threading

total = 0


def work():
    global total
    total += 1  # [inc]


def main():
    threads = [threading.Thread(target=work, name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(total)


if __name__ == "__main__":
    main()
