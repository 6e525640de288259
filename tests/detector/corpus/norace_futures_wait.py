"""TestNoRaceFuturesWait: after ``wait(ALL_COMPLETED)`` the tasks' writes are visible."""
# expect: none
from concurrent.futures import ALL_COMPLETED, ThreadPoolExecutor, wait


def load(slots, i):
    slots[i] = i * i


def main():
    slots = [0] * 4
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(load, slots, i) for i in range(4)]
        done, pending = wait(futures, return_when=ALL_COMPLETED)
        for i in range(4):
            slots[i] += 1
        print(len(done), len(pending), slots)


if __name__ == "__main__":
    main()
