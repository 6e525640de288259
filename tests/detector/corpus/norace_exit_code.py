"""TestNoRaceExitCode: a race-free program's own exit code passes through unchanged."""
# expect: none
# exit: 3
import sys
import threading

results = {}


def work():
    results["ok"] = True


def main():
    t = threading.Thread(target=work, name="worker")
    t.start()
    t.join()
    print(results)
    sys.exit(3)


if __name__ == "__main__":
    main()
