"""pyee < 8.1.0: a once-handler removes itself while another thread removes it (issue #76)."""
import threading

from pyee import EventEmitter

ee = EventEmitter()
results = []


@ee.once("done")
def on_done(value: int) -> None:
    results.append(value)


barrier = threading.Barrier(2)


def emitter() -> None:
    barrier.wait()
    ee.emit("done", 1)


def canceller() -> None:
    # The caller's timeout path: give up waiting and remove the handler.
    barrier.wait()
    try:
        ee.remove_listener("done", on_done)
    except KeyError:
        pass  # the handler already ran and removed itself


threads = [threading.Thread(target=emitter), threading.Thread(target=canceller)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("ok")
