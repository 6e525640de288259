"""TestNoRaceFuturesMap: results from ``Executor.map`` are safe to use, and so is what the tasks wrote."""
# expect: none
from concurrent.futures import ThreadPoolExecutor


class Page:
    def __init__(self, url):
        self.url = url
        self.size = 0


def fetch(page):
    page.size = len(page.url) * 100
    return page


def main():
    pages = [Page(u) for u in ("a.io", "bb.io", "ccc.io")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for page in pool.map(fetch, pages):
            page.size += 1
    print([p.size for p in pages])


if __name__ == "__main__":
    main()
