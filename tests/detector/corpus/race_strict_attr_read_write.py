"""TestRaceStrictAttrReadWrite: one thread reads a flag another writes: a Go race, not a Python bug."""
# expect python: none
# expect strict: data-race Job.done @ rd,wr
import threading


class Job:
    def __init__(self):
        self.done = False


def poll(job, out):
    out.append(job.done)  # [rd]


def finish(job):
    job.done = True  # [wr]


def main():
    job = Job()
    out = []
    a = threading.Thread(target=poll, args=(job, out), name="A")
    b = threading.Thread(target=finish, args=(job,), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(job.done)


if __name__ == "__main__":
    main()
