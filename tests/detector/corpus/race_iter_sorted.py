"""TestRaceIterSorted: ``sorted(names)`` while another thread appends."""
# expect python: iteration list names @ sort,app
# expect strict: data-race list names @ sort,app
import threading


def report(names, out):
    out.append(sorted(names))  # [sort]


def join_team(names):
    names.append("zoe")  # [app]


def main():
    names = ["bob", "amy"]
    out = []
    a = threading.Thread(target=report, args=(names, out), name="A")
    b = threading.Thread(target=join_team, args=(names,), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(sorted(names))


if __name__ == "__main__":
    main()
