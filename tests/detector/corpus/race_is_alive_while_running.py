"""TestRaceIsAliveWhileRunning: ``is_alive()`` returning True orders nothing."""
# expect python: lost-update dict results['n'] @ worker,main
# expect strict: data-race dict results['n'] @ worker,main
import threading
import time

results = {"n": 0}
stop = threading.Event()


def work():
    results["n"] += 1  # [worker]
    stop.wait()


def main():
    t = threading.Thread(target=work, name="W")
    t.start()
    time.sleep(0.05)
    if t.is_alive():
        results["n"] += 1  # [main]
    stop.set()
    t.join()
    print(results)


if __name__ == "__main__":
    main()
