"""TestNoRaceBoundedSemaphore: a ``BoundedSemaphore(1)`` used as a mutex around a read-modify-write."""
# expect: none
import threading

guard = threading.BoundedSemaphore(1)
inventory = {"widgets": 0}


def restock(n):
    with guard:
        inventory["widgets"] = inventory.get("widgets", 0) + n


def main():
    threads = [threading.Thread(target=restock, args=(i,), name=f"T{i}") for i in range(1, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(inventory)


if __name__ == "__main__":
    main()
