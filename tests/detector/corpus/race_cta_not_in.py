"""TestRaceCheckThenActNotIn: ``if k not in d: d[k] = ...`` on one key from two threads.

As in ``race_cta_is_none``: the second fill (when both threads pass the check) is
also a lost update, and the ``return`` read is reported only on some schedules.
"""
# expect python: check-then-act dict cache['user:1'] @ chk,fill
# allow python: lost-update dict cache['user:1'] @ fill,fill
# expect strict: data-race dict cache['user:1'] @ chk,fill
# allow strict: data-race dict cache['user:1'] @ ret,fill
# allow strict: data-race dict cache['user:1'] @ fill,fill
import threading


def load(cache, key):
    if key not in cache:  # [chk]
        cache[key] = {"id": key}  # [fill]
    return cache[key]  # [ret]


def main():
    cache = {}
    threads = [threading.Thread(target=load, args=(cache, "user:1"), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sorted(cache))


if __name__ == "__main__":
    main()
