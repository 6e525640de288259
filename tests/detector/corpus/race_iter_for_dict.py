"""TestRaceIterForDict: a ``for`` loop over a dict while another thread inserts into it."""
# expect python: iteration dict config @ for,ins
# expect strict: data-race dict config @ for,ins
import threading


def dump(config, out):
    for key in config:  # [for]
        out.append(key)


def update(config):
    config["new"] = 1  # [ins]


def main():
    config = {"a": 1, "b": 2}
    out = []
    a = threading.Thread(target=dump, args=(config, out), name="A")
    b = threading.Thread(target=update, args=(config,), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(sorted(config))


if __name__ == "__main__":
    main()
