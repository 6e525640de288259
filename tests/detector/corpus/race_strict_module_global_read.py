"""TestRaceStrictModuleGlobalRead: a helper module's function reads the global another thread bumps."""
# expect python: none
# expect strict: data-race global count @ libread,libbump
import threading

from lib import shared_state


def main():
    out = []
    a = threading.Thread(target=lambda: out.append(shared_state.read_count()), name="A")
    b = threading.Thread(target=shared_state.bump, name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(shared_state.count)


if __name__ == "__main__":
    main()
