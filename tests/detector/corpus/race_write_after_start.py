"""TestRaceWriteAfterStart: the main thread changes a setting after starting the thread that reads it."""
# expect python: none
# expect strict: data-race Settings.verbose @ rd,wr
import threading


class Settings:
    def __init__(self):
        self.verbose = False


def work(settings, out):
    out.append(settings.verbose)  # [rd]


def main():
    settings = Settings()
    out = []
    t = threading.Thread(target=work, args=(settings, out), name="worker")
    t.start()
    settings.verbose = True  # [wr]
    t.join()
    print(len(out))


if __name__ == "__main__":
    main()
