"""TestRaceEventSetEarly: the event is set before the result is written."""
# expect python: lost-update Job.result @ wr,use
# expect strict: data-race Job.result @ wr,use
import threading


class Job:
    def __init__(self):
        self.done = threading.Event()
        self.result = 0


def run_job(job):
    job.done.set()
    job.result = 10  # [wr]


def collect(job):
    job.done.wait()
    job.result += 1  # [use]


def main():
    job = Job()
    c = threading.Thread(target=collect, args=(job,), name="collector")
    r = threading.Thread(target=run_job, args=(job,), name="runner")
    c.start()
    r.start()
    r.join()
    c.join()
    print(job.result in (1, 10, 11))


if __name__ == "__main__":
    main()
