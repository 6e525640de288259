"""TestNoRaceFuturesException: the failing task's writes happen before ``exception()`` returns."""
# expect: none
from concurrent.futures import ThreadPoolExecutor

attempts = {"count": 0}


def flaky():
    attempts["count"] += 1
    raise ValueError("boom")


def main():
    with ThreadPoolExecutor(max_workers=1) as pool:
        fut = pool.submit(flaky)
        exc = fut.exception()
        attempts["count"] += 1
    print(type(exc).__name__, attempts)


if __name__ == "__main__":
    main()
