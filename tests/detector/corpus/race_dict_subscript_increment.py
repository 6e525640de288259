"""TestRaceDictSubscriptIncrement: ``d[k] = d[k] + 1`` on one existing key from two threads."""
# expect python: lost-update dict stock['apples'] @ inc,inc
# expect strict: data-race dict stock['apples'] @ inc,inc
import threading


def work(stock):
    stock["apples"] = stock["apples"] + 1  # [inc]


def main():
    stock = {"apples": 10, "pears": 3}
    threads = [threading.Thread(target=work, args=(stock,), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(stock)


if __name__ == "__main__":
    main()
