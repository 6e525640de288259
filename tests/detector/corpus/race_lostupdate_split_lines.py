"""TestRaceLostUpdateSplitLines: ``v = o.x; ...; o.x = v + 1`` in two threads.

Python mode reports the stale *write* against the other thread's write (the
read that made it stale is in the same function, a few lines up).
"""
# expect python: lost-update Account.balance @ wr,wr
# expect strict: data-race Account.balance @ rd,wr
# expect strict: data-race Account.balance @ wr,wr
import threading


class Account:
    def __init__(self):
        self.balance = 100


def deposit(account, amount):
    current = account.balance  # [rd]
    new = current + amount
    account.balance = new  # [wr]


def main():
    account = Account()
    threads = [threading.Thread(target=deposit, args=(account, 10), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(account.balance)


if __name__ == "__main__":
    main()
