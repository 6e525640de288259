"""TestRaceCheckThenActTryKeyError: ``try: return d[k]`` / ``except KeyError: d[k] = make()``, two threads."""
# expect python: check-then-act dict cache['cfg'] @ look,fill
# allow python: lost-update dict cache['cfg'] @ fill,fill
# expect strict: data-race dict cache['cfg'] @ look,fill
# allow strict: data-race dict cache['cfg'] @ fill,fill
# allow strict: data-race dict cache @ fill,fill
# allow python: check-then-act dict cache @ look,fill
import threading

cache = {}


def load(key):
    try:
        return cache[key]  # [look]
    except KeyError:
        cache[key] = value = object()  # [fill]
        return value


def main():
    threads = [threading.Thread(target=load, args=("cfg",), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(len(cache))


if __name__ == "__main__":
    main()
