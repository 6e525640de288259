"""TestNoRaceEnumeratePoll: waiting until ``threading.enumerate()`` no longer lists the workers."""
# expect: none
import threading
import time

results = {"n": 0}


def work():
    results["n"] += 1


def main():
    t = threading.Thread(target=work, name="W")
    t.start()
    while t in threading.enumerate():
        time.sleep(0.001)
    results["n"] += 1
    print(results)


if __name__ == "__main__":
    main()
