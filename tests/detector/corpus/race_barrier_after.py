"""TestRaceBarrierAfter: both parties update the same field after the barrier."""
# expect python: lost-update Board.score @ inc,inc
# expect strict: data-race Board.score @ inc,inc
import threading


class Board:
    def __init__(self):
        self.score = 0


def party(board, barrier):
    barrier.wait()
    board.score += 1  # [inc]


def main():
    board = Board()
    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=party, args=(board, barrier), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(board.score)


if __name__ == "__main__":
    main()
