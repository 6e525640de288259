"""TestNoRacePublishedBeforeStart: everything written before ``start`` is visible to the thread."""
# expect: none
import threading

settings = {}
limit = 0


class Box:
    pass


def work(box, out):
    global limit
    limit += 1
    box.value += 1
    settings["retries"] += 1
    out.extend(sorted(settings))


def main():
    global limit
    box = Box()
    box.value = 41
    settings["retries"] = 2
    settings["timeout"] = 30
    limit = 10
    out = []
    t = threading.Thread(target=work, args=(box, out), name="worker")
    t.start()
    t.join()
    print(box.value, limit, settings, out)


if __name__ == "__main__":
    main()
