"""TestRaceInVsInsert: ``'k' in seen`` while another thread inserts ``'k'`` (strict only)."""
# expect python: none
# expect strict: data-race dict seen['k'] @ in,ins
import threading


def probe(seen, out):
    out.append("k" in seen)  # [in]


def insert(seen):
    seen["k"] = True  # [ins]


def main():
    seen = {}
    out = []
    a = threading.Thread(target=probe, args=(seen, out), name="A")
    b = threading.Thread(target=insert, args=(seen,), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(len(out), seen)


if __name__ == "__main__":
    main()
