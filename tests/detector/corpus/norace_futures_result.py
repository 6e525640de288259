"""TestNoRaceFuturesResult: submit happens before the task runs; the task's end before ``result()``."""
# expect: none
from concurrent.futures import ThreadPoolExecutor


class Report:
    def __init__(self):
        self.rows = []
        self.title = ""


def build(report):
    report.rows.append(("total", len(report.title)))
    report.title += " (final)"
    return len(report.rows)


def main():
    report = Report()
    report.title = "Q3"
    with ThreadPoolExecutor(max_workers=2) as pool:
        fut = pool.submit(build, report)
        n = fut.result()
        report.rows.append(("checked", n))
        report.title += "!"
    print(report.title, report.rows)


if __name__ == "__main__":
    main()
