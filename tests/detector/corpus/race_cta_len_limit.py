"""TestRaceCheckThenActLen: ``if len(d) < LIMIT: d[name] = ...`` from two threads (both always insert)."""
# expect python: check-then-act dict sessions @ chk,add
# expect strict: data-race dict sessions @ chk,add
# expect strict: data-race dict sessions @ add,add
import threading

LIMIT = 10


def login(sessions, name):
    if len(sessions) < LIMIT:  # [chk]
        sessions[name] = "active"  # [add]


def main():
    sessions = {}
    threads = [threading.Thread(target=login, args=(sessions, n), name=n) for n in ("amy", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sorted(sessions))


if __name__ == "__main__":
    main()
