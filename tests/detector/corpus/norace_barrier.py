"""TestNoRaceBarrier: what each party wrote before ``Barrier.wait`` is visible to all after it."""
# expect: none
import threading


class Board:
    def __init__(self):
        self.left = 0
        self.right = 0


def left_party(board, barrier, out):
    board.left = 1
    barrier.wait()
    board.right += 10
    out.append(board.right)


def right_party(board, barrier, out):
    board.right = 2
    barrier.wait()
    out.append(board.left)


def main():
    board = Board()
    barrier = threading.Barrier(2)
    out_l, out_r = [], []
    a = threading.Thread(target=left_party, args=(board, barrier, out_l), name="left")
    b = threading.Thread(target=right_party, args=(board, barrier, out_r), name="right")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(out_l, out_r)


if __name__ == "__main__":
    main()
