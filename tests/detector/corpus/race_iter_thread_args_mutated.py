"""TestRaceIterThreadArgsMutated: the main thread appends to a list it passed to a running thread."""
# expect python: iteration list jobs @ for,app
# expect strict: data-race list jobs @ for,app
import threading


def process(jobs, out):
    for job in jobs:  # [for]
        out.append(job * 10)


def main():
    jobs = [1, 2]
    out = []
    t = threading.Thread(target=process, args=(jobs, out), name="worker")
    t.start()
    jobs.append(3)  # [app]
    t.join()
    print(len(jobs))


if __name__ == "__main__":
    main()
