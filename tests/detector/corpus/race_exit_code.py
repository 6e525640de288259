"""TestRaceExitCode: a racy program that exits 5 makes the run exit 66 instead."""
# expect python: lost-update global hits @ inc,inc
# expect strict: data-race global hits @ inc,inc
# exit: 5
import sys
import threading

hits = 0


def work():
    global hits
    hits += 1  # [inc]


def main():
    threads = [threading.Thread(target=work, name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sys.exit(5)


if __name__ == "__main__":
    main()
