"""TestNoRaceLockAcquireRelease: explicit ``acquire``/``release`` (and a non-blocking try) order updates."""
# expect: none
import threading

lock = threading.Lock()
total = 0


def work():
    global total
    lock.acquire()
    try:
        total += 1
    finally:
        lock.release()
    while not lock.acquire(blocking=False):
        pass
    total += 10
    lock.release()


def main():
    threads = [threading.Thread(target=work, name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(total)


if __name__ == "__main__":
    main()
