"""lazy_loader 0.3: load() looks a module up in sys.modules and inserts it with no lock.

Two threads lazily load the same module. The second one starts later, so on this run it finds the
module the first one inserted: the race does not show, and must be reported all the same (nothing
orders the second thread's lookup after the first thread's insertion).
"""

import sys
import threading
import time

import lazy_loader

assert "colorsys" not in sys.modules
modules = []


def load(delay: float) -> None:
    time.sleep(delay)
    modules.append(lazy_loader.load("colorsys"))


threads = [threading.Thread(target=load, args=(delay,)) for delay in (0.0, 0.2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert modules[0] is modules[1]
print("ok")
