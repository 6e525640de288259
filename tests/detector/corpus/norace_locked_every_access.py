"""TestNoRaceLockedEverywhere: a dict mutated, measured, searched and iterated, always under its lock."""
# expect: none
import threading


class Registry:
    def __init__(self):
        self.lock = threading.Lock()
        self.tasks = {}

    def register(self, task_id, name):
        with self.lock:
            self.tasks[task_id] = name

    def snapshot(self):
        with self.lock:
            return {k: v for k, v in self.tasks.items()}

    def stats(self):
        with self.lock:
            return len(self.tasks), "t0" in self.tasks, sorted(self.tasks), list(self.tasks.values())

    def drop(self, task_id):
        with self.lock:
            self.tasks.pop(task_id, None)


def work(reg, i, out):
    reg.register(f"t{i}", f"task {i}")
    out.append(reg.stats()[0])
    reg.snapshot()
    reg.drop(f"t{i + 10}")


def main():
    reg = Registry()
    outs = [[], []]
    threads = [threading.Thread(target=work, args=(reg, i, outs[i]), name=f"T{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sorted(reg.snapshot()))


if __name__ == "__main__":
    main()
