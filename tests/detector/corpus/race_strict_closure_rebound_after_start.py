"""TestRaceStrictClosureReboundAfterStart: ``x = c2.get()`` while a started thread still reads ``x``."""
# expect python: none
# expect strict: data-race closure config @ read,rebind
import threading

defaults = {"level": 1}
override = {"level": 2}


def main():
    config = defaults.get("level")
    out = []

    def worker():
        out.append(config)  # [read]

    t = threading.Thread(target=worker, name="W")
    t.start()
    config = override.get("level")  # [rebind]
    t.join()
    print(config, len(out))


if __name__ == "__main__":
    main()
