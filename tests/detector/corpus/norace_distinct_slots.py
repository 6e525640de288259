"""TestNoRaceDistinctSlots: each thread owns one list index and one pre-inserted dict key."""
# expect: none
import threading


def work(i, slots, totals):
    slots[i] = i * i
    slots[i] += 1
    totals[f"w{i}"] = totals[f"w{i}"] + slots[i]


def main():
    slots = [0, 0, 0]
    totals = {"w0": 0, "w1": 0, "w2": 0}
    threads = [threading.Thread(target=work, args=(i, slots, totals), name=f"T{i}") for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(slots, totals)


if __name__ == "__main__":
    main()
