"""tqdm 4.32.1: tqdm(disable=True) iterates tqdm._instances (a WeakSet) outside the lock."""
import threading

from tqdm import tqdm

tqdm.monitor_interval = 0  # no monitor thread: only the two workers touch _instances
# The first bar creates the class-wide lock and instance set before any thread starts (tqdm
# creates both lazily, itself racily: see the docs).
tqdm(disable=True)
barrier = threading.Barrier(2)
bars = []


def work() -> None:
    barrier.wait()
    for _ in range(30):
        bar = tqdm(range(3), disable=True)
        bars.append(bar)  # keep every bar alive so _instances keeps changing size
        assert list(bar) == [0, 1, 2]


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("ok")
