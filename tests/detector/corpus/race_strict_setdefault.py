"""TestRaceStrictSetdefault: ``setdefault`` is one atomic call in CPython, but a Go race (strict only)."""
# expect python: none
# expect strict: data-race dict groups['admins'] @ sd,sd
import threading


def join_group(groups):
    groups.setdefault("admins", 0)  # [sd]


def main():
    groups = {}
    threads = [threading.Thread(target=join_group, args=(groups,), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(groups)


if __name__ == "__main__":
    main()
