"""ratelimit < 1.4.1: rate_limited reads and updates last_called[0] with no lock (issue #9)."""
import threading

from ratelimit import rate_limited

calls = []


@rate_limited(1000, 1.0)  # at most one call per millisecond
def ping(i: int) -> int:
    return i


barrier = threading.Barrier(2)


def work() -> None:
    barrier.wait()
    for i in range(5):
        assert ping(i) == i


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("ok")
