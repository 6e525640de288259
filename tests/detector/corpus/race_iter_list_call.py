"""TestRaceIterListCall: ``list(d)`` copies the keys while another thread inserts."""
# expect python: iteration dict cache @ copy,ins
# expect strict: data-race dict cache @ copy,ins
import threading


def snapshot(cache, out):
    out.append(list(cache))  # [copy]


def fill(cache):
    cache["k2"] = 2  # [ins]


def main():
    cache = {"k1": 1}
    out = []
    a = threading.Thread(target=snapshot, args=(cache, out), name="A")
    b = threading.Thread(target=fill, args=(cache,), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(sorted(cache))


if __name__ == "__main__":
    main()
