"""multimethod 1.9: dispatch iterates the method cache while another thread caches a resolution."""
import threading

from multimethod import multimethod


@multimethod
def area(x: int) -> str:
    return "int"


@multimethod
def area(x: float) -> str:  # noqa: F811
    return "float"


# One subclass per call: each first call misses the cache (__missing__ -> parents() iterates the
# multimethod while the other thread's miss stores its own resolution with setdefault).
classes = [type(f"I{i}", (int,), {}) for i in range(40)]
barrier = threading.Barrier(2)


def work(offset: int) -> None:
    barrier.wait()
    for cls in classes[offset::2]:
        assert area(cls(1)) == "int"


threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("ok")
