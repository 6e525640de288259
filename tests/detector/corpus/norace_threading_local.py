"""TestNoRaceThreadingLocal: attributes of a ``threading.local`` are never shared between threads."""
# expect: none
import threading

ctx = threading.local()
done = threading.Barrier(2)


def work(name, out):
    ctx.name = name
    ctx.calls = 0
    done.wait()
    ctx.calls += 1
    ctx.stack = [ctx.name]
    ctx.stack.append("leaf")
    out.append((ctx.name, ctx.calls, len(ctx.stack)))


def main():
    out_a, out_b = [], []
    a = threading.Thread(target=work, args=("a", out_a), name="A")
    b = threading.Thread(target=work, args=("b", out_b), name="B")
    for t in (a, b):
        t.start()
    for t in (a, b):
        t.join()
    print(out_a, out_b)


if __name__ == "__main__":
    main()
