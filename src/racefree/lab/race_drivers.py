"""The programs ``racefree lab --race`` runs under the race detector, one per component.

Run as ``racefree run [--include PATTERN...] -m racefree.lab.race_drivers NAME
[THREADS OPS]`` (:mod:`racefree.lab.race` does, in a subprocess).  Each driver
exercises one component the way the course module's Go program does — many
threads calling its methods with no synchronization of their own beyond
``Thread.start``/``join`` — with small counts: the detector finds an unordered
pair of accesses whatever the interleaving, so a few threads and a few
operations each are enough.

The driver module is the program's ``__main__``, so it is instrumented too;
it must therefore be race-free itself (each thread writes only its own slot of
a list sized before the threads start, and the main thread reads it after
``join``), and everything the detector reports belongs to the component.  The
component's own module is instrumented because the caller passes
``--include`` for it (racefree's own modules are skipped otherwise).

Prints one JSON line: the driver's name, what the component counted (for the
lab's JSON, not for the verdict) and which of racefree's modules the import
hook instrumented (the lab checks the component's are among them: silence
from code the detector never saw would prove nothing).  Exit status 2 for an
unknown driver name or bad counts.
"""

from __future__ import annotations

import json
import random
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

__all__ = ["DRIVERS", "main"]

TASK_TYPES = ("file_process", "email_send", "db_update", "report_gen", "data_sync")
CONFIG_KEYS = ("database_url", "api_timeout", "max_workers", "log_level")
INITIAL = {"database_url": "postgres://localhost:5432/automation", "api_timeout": "30s",
           "max_workers": "10", "log_level": "info"}


class _Counter(Protocol):
    def increment(self) -> Any: ...
    def value(self) -> int: ...


class _Store(Protocol):
    def get(self, key: str) -> str | None: ...
    def get_all(self) -> dict[str, str]: ...
    def set(self, key: str, value: str) -> None: ...
    def delete(self, key: str) -> Any: ...


class _Processor(Protocol):
    def process(self, task_id: str) -> None: ...
    def stats(self) -> Any: ...


def run_all(threads: int, target: Callable[[int], None]) -> None:
    """``target(g)`` in `threads` threads (Go: ``go func(g)`` per goroutine, then ``wg.Wait()``)."""
    workers = [threading.Thread(target=target, args=(g,), name=f"worker-{g}") for g in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()


# -- exercise 1 and 2: counters -------------------------------------------------

def unsafe_counter(threads: int, ops: int) -> str:
    from racefree.lab.unsafe import UnsafeCounter

    counter = UnsafeCounter()

    def work(g: int) -> None:
        for _ in range(ops):
            counter.increment()

    run_all(threads, work)
    return f"value {counter.read()} of {threads * ops}"


def _safe_counter(counter: _Counter, threads: int, ops: int) -> str:
    def work(g: int) -> None:
        for j in range(ops):
            counter.increment()
            if j % 10 == 0:
                counter.value()

    run_all(threads, work)
    return f"value {counter.value()} of {threads * ops}"


def atomic_counter(threads: int, ops: int) -> str:
    from racefree.lab.counters import AtomicCounter

    return _safe_counter(AtomicCounter(), threads, ops)


def mutex_counter(threads: int, ops: int) -> str:
    from racefree.lab.counters import MutexCounter

    return _safe_counter(MutexCounter(), threads, ops)


def workload(threads: int, ops: int) -> str:
    from racefree.automation import Workload

    wl = Workload(workers=threads, tasks_per_worker=ops, work_time=0.0005, monitor_interval=0.005,
                  monitor_ticks=3)
    result = wl.run()
    return f"tasks {result.final.tasks_processed} of {threads * ops}, mismatches {result.mismatches()}"


# -- exercise 3: configuration, registries, processors ---------------------------

def _config(make: Callable[[Mapping[str, str]], _Store], threads: int, ops: int) -> str:
    store = make(dict(INITIAL))
    writers = max(1, threads // 4)

    def work(g: int) -> None:
        if g < threads - writers:  # a reader
            for j in range(ops):
                store.get(CONFIG_KEYS[j % len(CONFIG_KEYS)])
                if j % 5 == 0:
                    store.get_all()
        else:  # a writer, with deletes
            w = g - (threads - writers)
            for j in range(ops):
                store.set(f"dynamic_config_{w}_{j}", f"value_{j}")
                if j % 3 == 0 and j > 0:
                    store.delete(f"dynamic_config_{w}_{j - 1}")

    run_all(threads, work)
    return f"keys {len(store.get_all())}"


def config_store(threads: int, ops: int) -> str:
    from racefree.automation import ConfigStore

    return _config(ConfigStore, threads, ops)


def config_rwlock(threads: int, ops: int) -> str:
    from racefree.lab.config_managers import ConfigurationManager

    return _config(ConfigurationManager, threads, ops)


def config_locked(threads: int, ops: int) -> str:
    from racefree.lab.config_managers import LockedConfigurationManager

    return _config(LockedConfigurationManager, threads, ops)


def unsafe_registry(threads: int, ops: int) -> str:
    """The Go program's map demonstration: register, and every tenth a get."""
    from racefree.lab.unsafe import UnsafeTaskRegistry

    registry = UnsafeTaskRegistry()

    def work(g: int) -> None:
        for j in range(ops):
            task_id = f"task_{g}_{j}"
            registry.register(task_id, f"Task {g}-{j}")
            if j % 10 == 0:
                registry.get(task_id)

    run_all(threads, work)
    return f"registered {len(registry.all())} of {threads * ops}"


def safe_registry(threads: int, ops: int) -> str:
    from racefree.automation import TaskRegistry

    registry = TaskRegistry()

    def work(g: int) -> None:
        for j in range(ops):
            task_id = f"task_{g}_{j}"
            registry.register(task_id, f"Task {g}-{j}", TASK_TYPES[j % len(TASK_TYPES)])
            if j % 10 == 0:
                registry.get(task_id)
                registry.all()
                registry.counts_by_type()

    run_all(threads, work)
    return f"registered {len(registry)} of {threads * ops}"


def _processors(make: Callable[[random.Random], _Processor], threads: int, ops: int) -> str:
    from racefree.automation import ProcessingError

    processor = make(random.Random(29))
    raised = [0] * threads  # each thread writes only its own slot

    def work(g: int) -> None:
        for j in range(ops):
            try:
                processor.process(f"task_{g}_{j}")
            except ProcessingError:
                raised[g] += 1
            if j % 5 == 0:
                processor.stats()

    run_all(threads, work)
    stats = processor.stats()
    return f"processed {stats.tasks_processed} of {threads * ops}, errors {stats.errors_occurred} " \
           f"of {sum(raised)}"


def unsafe_processor(threads: int, ops: int) -> str:
    from racefree.lab.unsafe import UnsafeProcessor

    return _processors(lambda rng: UnsafeProcessor(0.1, 0.0005, rng), threads, ops)


def safe_processor(threads: int, ops: int) -> str:
    from racefree.automation import SafeProcessor

    return _processors(lambda rng: SafeProcessor(0.1, 0.0005, rng), threads, ops)


# -- Python-only pitfalls (exercise 3 shows them; the Go program has neither) -----

def type_counter(threads: int, ops: int) -> str:
    """``counts[t] = counts.get(t, 0) + 1`` from many threads: two atomic dict operations."""
    from racefree.lab.pitfalls import UnsafeTypeCounter

    counter = UnsafeTypeCounter()

    def work(g: int) -> None:
        for j in range(ops):
            counter.record(TASK_TYPES[j % len(TASK_TYPES)])

    run_all(threads, work)
    return f"counted {sum(counter.counts.values())} of {threads * ops}"


def registry_listing(threads: int, ops: int) -> str:
    """Listing the unsafe registry (iterating its dict) while other threads register."""
    from racefree.lab.unsafe import UnsafeTaskRegistry

    registry = UnsafeTaskRegistry()
    failures = [0] * threads  # each thread writes only its own slot

    def work(g: int) -> None:
        for j in range(ops):
            if g == 0:
                try:
                    registry.all()
                except RuntimeError:  # dictionary changed size during iteration
                    failures[g] += 1
            else:
                registry.register(f"task_{g}_{j}", f"Task {g}-{j}")

    run_all(threads, work)
    return f"listing failures {sum(failures)}"


DRIVERS: dict[str, Callable[[int, int], str]] = {
    f.__name__: f for f in (
        unsafe_counter, atomic_counter, mutex_counter, workload, config_store, config_rwlock,
        config_locked, unsafe_registry, safe_registry, unsafe_processor, safe_processor,
        type_counter, registry_listing,
    )
}


def instrumented_modules() -> list[str]:
    """racefree's own modules the detector's import hook rewrote in this process (sorted)."""
    from racefree.detector.instrument.hook import InstrumentingLoader

    return sorted(name for name, module in list(sys.modules.items())
                  if name.startswith("racefree.") and isinstance(getattr(module, "__loader__", None),
                                                                InstrumentingLoader))


def main(argv: list[str]) -> int:
    usage = f"usage: race_drivers ({'|'.join(DRIVERS)}) [THREADS OPS]\n"
    if not argv or argv[0] not in DRIVERS or len(argv) not in (1, 3) or \
            not all(a.isdigit() and int(a) > 0 for a in argv[1:]):
        sys.stderr.write(usage)
        return 2
    threads, ops = (int(argv[1]), int(argv[2])) if len(argv) == 3 else (8, 20)
    summary = DRIVERS[argv[0]](threads, ops)
    # one JSON line for racefree.lab.race: what ran, and which modules were instrumented
    print(json.dumps({"driver": argv[0], "summary": summary, "instrumented": instrumented_modules()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
