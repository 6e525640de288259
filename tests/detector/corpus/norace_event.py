"""TestNoRaceEvent: writes before ``Event.set`` are visible after ``Event.wait`` returns."""
# expect: none
import threading


class Job:
    def __init__(self):
        self.done = threading.Event()
        self.result = None


def run_job(job):
    job.result = [1, 2]
    job.done.set()


def collect(job, out):
    job.done.wait()
    job.result.append(3)
    out.append(len(job.result))


def main():
    job = Job()
    out = []
    c = threading.Thread(target=collect, args=(job, out), name="collector")
    r = threading.Thread(target=run_job, args=(job,), name="runner")
    c.start()
    r.start()
    r.join()
    c.join()
    print(out)


if __name__ == "__main__":
    main()
