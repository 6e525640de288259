"""TestNoDeadlockGateLock: two locks taken in both orders, but always under one outer gate lock, which
makes the inversion harmless: no potential deadlock is reported (ThreadSanitizer would report one)."""
# expect: none
import threading

gate = threading.Lock()
left = threading.Lock()
right = threading.Lock()
moves = []


def left_then_right():
    with gate:  # noqa: SIM117 (one acquisition per line)
        with left:
            with right:
                moves.append("lr")


def right_then_left():
    with gate:  # noqa: SIM117 (one acquisition per line)
        with right:
            with left:
                moves.append("rl")


def main():
    threads = [threading.Thread(target=f, name=f"T{i}")
               for i, f in enumerate([left_then_right, right_then_left] * 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sorted(moves))


if __name__ == "__main__":
    main()
