"""TestRaceStrictGlobalModuleFlag: the script body sets a flag a thread polls, with no ``global`` anywhere."""
# expect python: none
# expect strict: data-race global done @ poll,stop
import threading
import time

done = False
rounds = []


def spin():
    while not done:  # [poll]
        rounds.append(1)
        time.sleep(0.001)


if __name__ == "__main__":
    t = threading.Thread(target=spin, name="S")
    t.start()
    time.sleep(0.02)
    done = True  # [stop]
    t.join()
    print(len(rounds) > 0)
