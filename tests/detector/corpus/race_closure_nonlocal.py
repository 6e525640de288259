"""TestRaceClosureNonlocal: a closure cell incremented through ``nonlocal`` by two threads."""
# expect python: lost-update closure total @ inc,inc
# expect strict: data-race closure total @ inc,inc
import threading


def main():
    total = 0

    def work():
        nonlocal total
        total += 1  # [inc]

    threads = [threading.Thread(target=work, name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(total)


if __name__ == "__main__":
    main()
