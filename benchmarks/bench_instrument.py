"""Single-thread cost of the instrumentation: plain vs instrumented (detector stopped) vs recording.

    python benchmarks/bench_instrument.py [--quick]

Each workload is compiled twice from the same source — plainly, and with
``compile_instrumented`` — and run in one thread.  Three timings per workload,
best of several repeats, all measured in this run:

* ``plain``        — the baseline: ``compile(source)``;
* ``instrumented`` — rewritten code, runtime no-ops (no detector started);
* ``recording``    — rewritten code with a ``Detector("python")`` started.

Ratios are against ``plain``.  The machine is shared, so absolute numbers are
noisy; the ratios of one run are what to compare.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from racefree._build import build_info
from racefree.detector.instrument import compile_instrumented

WORKLOADS = '''
import collections

class Counter:
    def __init__(self):
        self.n = 0
    def inc(self):
        self.n += 1

total = 0

def attr_rmw(n):
    c = Counter()
    for _ in range(n):
        c.inc()
    return c.n

def attr_reads(n):
    c = Counter()
    c.n = 3
    s = 0
    for _ in range(n):
        s += c.n + c.n
    return s

def global_rmw(n):
    global total
    for _ in range(n):
        total += 1
    return total

def closure_rmw(n):
    count = 0
    def bump():
        nonlocal count
        count += 1
    for _ in range(n):
        bump()
    return count

def dict_get_set(n):
    d = {}
    for i in range(n):
        k = i & 63
        d[k] = d.get(k, 0) + 1
    return len(d)

def list_ops(n):
    out = []
    for i in range(n):
        out.append(i)
        if len(out) > 100:
            out.clear()
    return sum(out)

def pure_arith(n):
    s = 0
    for i in range(n):
        s += i * i % 7
    return s
'''

NAMES = ["attr_rmw", "attr_reads", "global_rmw", "closure_rmw", "dict_get_set", "list_ops", "pure_arith"]


def load(instrumented: bool) -> dict[str, Any]:
    ns: dict[str, Any] = {"__name__": "bench_workloads"}
    code = (compile_instrumented(WORKLOADS, "<bench>") if instrumented
            else compile(WORKLOADS, "<bench>", "exec", dont_inherit=True))
    exec(code, ns)
    return ns


def best(fn: Callable[[int], Any], n: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(n)
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_import(repeats: int) -> None:
    """Cost of getting a module's code: plain compile vs rewrite vs the rewrite cache's hit."""
    import argparse as sample
    import inspect
    import os
    import tempfile

    from racefree.detector.instrument import BytecodeCache

    source = inspect.getsource(sample).encode()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sample.py")
        with open(path, "wb") as f:
            f.write(source)
        st = os.stat(path)
        dont_write, sys.dont_write_bytecode = sys.dont_write_bytecode, False
        try:
            cache = BytecodeCache()
            cache.store(path, source, st, "rt", compile_instrumented(source, path, runtime="rt"), True)
            timings = {
                "plain compile": lambda: compile(source, path, "exec", dont_inherit=True),
                "rewrite+compile": lambda: compile_instrumented(source, path, runtime="rt"),
                "cache hit": lambda: cache.load(path, source, st, "rt"),
            }
            base = None
            lines = source.count(b"\n")
            print(f"\nimport cost of {sample.__name__} ({lines} lines), best of {repeats}:")
            for label, fn in timings.items():
                t = best(lambda _n, fn=fn: fn(), 0, repeats)
                base = base or t
                print(f"  {label:<16}{t * 1e3:>8.1f} ms {t / base:>7.2f}x")
        finally:
            sys.dont_write_bytecode = dont_write


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    args = parser.parse_args()
    n, repeats = (20_000, 2) if args.quick else (200_000, 5)
    plain, inst = load(False), load(True)
    from racefree.detector.engine import Detector

    print(build_info().describe())
    print(f"{n} iterations, best of {repeats}; ratios vs plain")
    print(f"{'workload':<14}{'plain ms':>10}{'instr.':>9}{'recording':>11}")
    for name in NAMES:
        assert plain[name](100) == inst[name](100), name
        base = best(plain[name], n, repeats)
        stopped = best(inst[name], n, repeats)
        with Detector("python"):
            recording = best(inst[name], n, repeats)
        print(f"{name:<14}{base * 1e3:>10.1f}{stopped / base:>8.2f}x{recording / base:>10.2f}x")
    bench_import(repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
