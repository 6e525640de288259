"""TestRaceRawLocksDifferent: two different ``_thread`` locks do not order each other's sections."""
# expect python: lost-update Account.balance @ first,second
# expect strict: data-race Account.balance @ first,second
import _thread
import threading


class Account:
    def __init__(self):
        self.balance = 0


def main():
    acct = Account()
    l1, l2 = _thread.allocate_lock(), _thread.allocate_lock()

    def one():
        with l1:
            acct.balance += 1  # [first]

    def two():
        l2.acquire()
        acct.balance += 1  # [second]
        l2.release()

    a = threading.Thread(target=one, name="A")
    b = threading.Thread(target=two, name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(acct.balance)


if __name__ == "__main__":
    main()
