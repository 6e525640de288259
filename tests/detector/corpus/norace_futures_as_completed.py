"""TestNoRaceFuturesAsCompleted: each task's writes are visible once ``as_completed`` yields it."""
# expect: none
from concurrent.futures import ThreadPoolExecutor, as_completed


class Cell:
    def __init__(self):
        self.value = 0


def fill(cell, v):
    cell.value += v
    return cell


def main():
    cells = [Cell() for _ in range(4)]
    total = 0
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(fill, c, i) for i, c in enumerate(cells)]
        for fut in as_completed(futures):
            cell = fut.result()
            cell.value *= 10
            total += cell.value
    print(total)


if __name__ == "__main__":
    main()
