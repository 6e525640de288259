"""TestNoRaceConditionWaitFor: ``wait_for`` with a predicate, ``notify_all`` to two waiters."""
# expect: none
import threading

cond = threading.Condition()
state = {"phase": "init"}
config = {}


def waiter(out, name):
    with cond:
        cond.wait_for(lambda: state["phase"] == "go")
    out[name] = config["mode"]


def main():
    out_a, out_b = {}, {}
    threads = [threading.Thread(target=waiter, args=(o, n), name=n) for o, n in ((out_a, "a"), (out_b, "b"))]
    for t in threads:
        t.start()
    config["mode"] = "fast"
    with cond:
        state["phase"] = "go"
        cond.notify_all()
    for t in threads:
        t.join()
    print(out_a, out_b)


if __name__ == "__main__":
    main()
