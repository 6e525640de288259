"""TestRaceIterSum: ``sum(values)`` while another thread appends."""
# expect python: iteration list values @ sum,app
# expect strict: data-race list values @ sum,app
import threading


def total(values, out):
    out.append(sum(values))  # [sum]


def record(values):
    values.append(5)  # [app]


def main():
    values = [1, 2, 3]
    out = []
    a = threading.Thread(target=total, args=(values, out), name="A")
    b = threading.Thread(target=record, args=(values,), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(out[0] in (6, 11), values)


if __name__ == "__main__":
    main()
