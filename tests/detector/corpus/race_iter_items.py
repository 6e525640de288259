"""TestRaceIterItems: ``for k, v in d.items()`` while another thread deletes a key."""
# expect python: iteration dict workers @ items,del
# expect strict: data-race dict workers @ items,del
import threading


def count_busy(workers, out):
    busy = 0
    for _name, state in workers.items():  # [items]
        busy += state == "busy"
    out.append(busy)


def retire(workers):
    del workers["w1"]  # [del]


def main():
    workers = {"w1": "busy", "w2": "idle", "w3": "busy"}
    # touched here, so shared from the start: otherwise, when B deletes before A first looks, the
    # dict counts as built by B and published to A (the accepted construct-then-publish miss)
    out = [len(workers)]
    a = threading.Thread(target=count_busy, args=(workers, out), name="A")
    b = threading.Thread(target=retire, args=(workers,), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(sorted(workers))


if __name__ == "__main__":
    main()
