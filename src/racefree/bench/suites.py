"""The workloads, each with racefree's implementation, named baselines and optional peers.

Every case of a suite runs the same loop (bound once per thread, then called
``n`` times), so the ratios compare the operations, not the loops.  Peers are
imported through :mod:`racefree.bench.peers` and left out, with the reason,
when unavailable.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from racefree.bench import peers
from racefree.bench.readmostly import CONFIG_THREADS, config_cases, snapshot_cases
from racefree.bench.timing import Case
from racefree.sync import AtomicInt, ConcurrentMap, RWLock, ShardedCounter, _backend, backend_info

__all__ = ["KEYS", "READ_SHARE", "SUITES", "Suite"]

_repeat = itertools.repeat


@dataclass(frozen=True)
class Suite:
    """A workload and the cases that implement it; ratios are taken against ``baseline``."""

    key: str
    title: str
    baseline: str
    build_cases: Callable[[], list[Case]]
    fixed_threads: tuple[int, ...] | None = None  # None: the thread counts asked for on the command line
    ops_scale: float = 1.0  # fraction of the run's operation budget (slow workloads get less)
    notes: tuple[str, ...] = field(default=())


def _calls(method: str) -> Callable[[object, int], Callable[[int], None]]:
    """work(n) = call ``shared.<method>()`` n times, through a method bound once per thread."""

    def make_work(shared: object, index: int) -> Callable[[int], None]:
        f = getattr(shared, method)

        def work(n: int) -> None:
            for _ in _repeat(None, n):
                f()

        return work

    return make_work


# -- counters -----------------------------------------------------------------------------------


def _handle_add(shared: Any, index: int) -> Callable[[int], None]:
    """work(n): take the thread's handle (in the worker thread: it belongs to it), add n times."""

    def work(n: int) -> None:
        add = shared.handle().add
        for _ in _repeat(None, n):
            add()

    return work


class LockedCounter:
    """The baseline a Python programmer writes: an int under a threading.Lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._n = 0

    def increment(self) -> int:
        with self._lock:
            self._n += 1
            return self._n


def _counter_cases() -> list[Case]:
    active = backend_info().name
    cases = [Case(f"AtomicInt.increment [{active}]", "racefree", AtomicInt, _calls("increment"))]
    if active != "python":
        py = _backend.AVAILABLE["python"].int_type
        cases.append(Case("AtomicInt.increment [python]", "racefree", lambda: py(0), _calls("increment")))
    cases += [
        Case("ShardedCounter.add", "racefree", ShardedCounter, _calls("add")),
        Case("ShardedCounter.handle().add", "racefree", ShardedCounter, _handle_add),
        Case("Lock+int", "baseline", LockedCounter, _calls("increment")),
        Case(
            "itertools.count",
            "baseline",
            itertools.count,
            _calls("__next__"),
            note="a C iterator: no atomic API",
        ),
    ]
    cereggii = peers.load("cereggii")
    if cereggii is not None:
        cases.append(
            Case("cereggii AtomicInt64", "peer", lambda: cereggii.AtomicInt64(0), _calls("increment_and_get"))
        )
    ft = peers.load("ft_utils")
    if ft is not None:
        cases.append(Case("ft_utils AtomicInt64", "peer", lambda: ft.AtomicInt64(0), _calls("incr")))
    return cases


# -- read-heavy map -------------------------------------------------------------------------------

KEYS = 1000
READ_SHARE = 0.95
_PATTERN = 1024  # per-thread precomputed key/operation pattern, cycled


def _map_work(shared: Any, index: int) -> Callable[[int], None]:
    rng = random.Random(index)
    keys = [rng.randrange(KEYS) for _ in range(_PATTERN)]
    writes = [j % round(1 / (1 - READ_SHARE)) == 0 for j in range(_PATTERN)]  # every 20th: 5 %
    rng.shuffle(writes)
    mask = _PATTERN - 1

    def work(n: int) -> None:
        c = shared
        for i in range(n):
            j = i & mask
            if writes[j]:
                c[keys[j]] = i
            else:
                _ = c[keys[j]]

    return work


def _filled(factory: Callable[[dict[int, int]], object]) -> Callable[[], object]:
    return lambda: factory({k: k for k in range(KEYS)})


class LockedDict:
    """Baseline: every access under one threading.Lock."""

    def __init__(self, data: dict[int, int]) -> None:
        self._lock = threading.Lock()
        self._d = data

    def __getitem__(self, k: int) -> int:
        with self._lock:
            return self._d[k]

    def __setitem__(self, k: int, v: int) -> None:
        with self._lock:
            self._d[k] = v


class CopyOnWriteDict:
    """Baseline: readers read the current dict without a lock; writers copy it under a lock."""

    def __init__(self, data: dict[int, int]) -> None:
        self._lock = threading.Lock()
        self._d = data

    def __getitem__(self, k: int) -> int:
        return self._d[k]

    def __setitem__(self, k: int, v: int) -> None:
        with self._lock:
            d = self._d.copy()
            d[k] = v
            self._d = d


class RWGuardedDict:
    """A dict behind a readers-writer lock given as (read context, write context) factories."""

    def __init__(self, data: dict[int, int], read: Callable[[], Any], write: Callable[[], Any]) -> None:
        self._d, self._read, self._write = data, read, write

    def __getitem__(self, k: int) -> int:
        with self._read():
            return self._d[k]

    def __setitem__(self, k: int, v: int) -> None:
        with self._write():
            self._d[k] = v


def _racefree_rw(data: dict[int, int]) -> RWGuardedDict:
    rw = RWLock()
    return RWGuardedDict(data, rw.read, rw.write)


def _map_cases() -> list[Case]:
    cases = [
        Case("ConcurrentMap", "racefree", _filled(ConcurrentMap), _map_work),
        Case("RWLock + dict", "racefree", _filled(_racefree_rw), _map_work),
        Case("dict (unsynchronized)", "floor", _filled(dict), _map_work),
        Case("Lock + dict", "baseline", _filled(LockedDict), _map_work),
        Case("copy-on-write dict", "baseline", _filled(CopyOnWriteDict), _map_work),
    ]
    cereggii = peers.load("cereggii")
    if cereggii is not None:
        cases.append(Case("cereggii AtomicDict", "peer", _filled(cereggii.AtomicDict), _map_work))
    rwl = peers.load("readerwriterlock")
    if rwl is not None:

        def rwl_dict(data: dict[int, int]) -> RWGuardedDict:
            lock = rwl.RWLockFair()
            return RWGuardedDict(data, lock.gen_rlock, lock.gen_wlock)

        cases.append(Case("readerwriterlock RWLockFair + dict", "peer", _filled(rwl_dict), _map_work))
    fasteners = peers.load("fasteners")
    if fasteners is not None:

        def fasteners_dict(data: dict[int, int]) -> RWGuardedDict:
            lock = fasteners.ReaderWriterLock()
            return RWGuardedDict(data, lock.read_lock, lock.write_lock)

        cases.append(Case("fasteners ReaderWriterLock + dict", "peer", _filled(fasteners_dict), _map_work))
    return cases


# -- uncontended lock round-trips ---------------------------------------------------------------------


def _pair(acquire: str, release: str) -> Callable[[object, int], Callable[[int], None]]:
    def make_work(shared: object, index: int) -> Callable[[int], None]:
        a, r = getattr(shared, acquire), getattr(shared, release)

        def work(n: int) -> None:
            for _ in _repeat(None, n):
                a()
                r()

        return work

    return make_work


def _with(method: str) -> Callable[[object, int], Callable[[int], None]]:
    def make_work(shared: object, index: int) -> Callable[[int], None]:
        ctx = getattr(shared, method)

        def work(n: int) -> None:
            for _ in _repeat(None, n):
                with ctx():
                    pass

        return work

    return make_work


# -- many readers on one RWLock ------------------------------------------------------------------------

SECTION_KEYS = 16  # keys summed in one read section: a section long enough that serializing readers costs


class ReferenceRWLock(RWLock):
    """RWLock's reference implementation (every reader through the internal lock), for comparison."""

    __slots__ = ()


class GuardedTable:
    """A dict read ``SECTION_KEYS`` keys at a time under a read context, written under a write context."""

    def __init__(self, data: dict[int, int], read: Callable[[], Any], write: Callable[[], Any]) -> None:
        self._d, self._read, self._write = data, read, write

    def total(self, keys: list[int]) -> int:
        with self._read():
            d = self._d
            n = 0
            for k in keys:
                n += d[k]
            return n

    def put(self, k: int, v: int) -> None:
        with self._write():
            self._d[k] = v


def _table(make: Callable[[], Any], rw: bool) -> Callable[[], GuardedTable]:
    def build() -> GuardedTable:
        lock = make()
        read, write = (lock.read, lock.write) if rw else ((lambda: lock), (lambda: lock))
        return GuardedTable({k: k for k in range(KEYS)}, read, write)

    return build


def _table_work(write_every: int) -> Callable[[Any, int], Callable[[int], None]]:
    """work(n): n read sections of SECTION_KEYS keys; every ``write_every``-th a one-key write (0: none)."""

    def make_work(shared: Any, index: int) -> Callable[[int], None]:
        rng = random.Random(index)
        sections = [[rng.randrange(KEYS) for _ in range(SECTION_KEYS)] for _ in range(64)]
        writes = [bool(write_every) and (j + index) % write_every == 0 for j in range(_PATTERN)]
        mask = _PATTERN - 1

        def work(n: int) -> None:
            total, put = shared.total, shared.put
            for i in range(n):
                j = i & mask
                if writes[j]:
                    put(j & 511, i)
                else:
                    total(sections[j & 63])

        return work

    return make_work


def _readers_cases(write_every: int) -> Callable[[], list[Case]]:
    def build() -> list[Case]:
        work = _table_work(write_every)
        cases = [
            Case("RWLock", "racefree", _table(RWLock, True), work),
            Case("RWLock reference", "baseline", _table(ReferenceRWLock, True), work,
                 note="readers through its internal lock"),
            Case("threading.Lock", "baseline", _table(threading.Lock, False), work),
        ]
        rwl = peers.load("readerwriterlock")
        if rwl is not None:

            def rwl_table() -> GuardedTable:
                lock = rwl.RWLockFair()
                return GuardedTable({k: k for k in range(KEYS)}, lock.gen_rlock, lock.gen_wlock)

            cases.append(Case("readerwriterlock RWLockFair", "peer", rwl_table, work))
        return cases

    return build


def _rwlock_cases() -> list[Case]:
    cases = [
        Case("RWLock acquire_read+release_read", "racefree", RWLock, _pair("acquire_read", "release_read")),
        Case("RWLock with read()", "racefree", RWLock, _with("read")),
        Case(
            "RWLock acquire_write+release_write", "racefree", RWLock, _pair("acquire_write", "release_write")
        ),
        Case("threading.Lock acquire+release", "baseline", threading.Lock, _pair("acquire", "release")),
    ]
    rwl = peers.load("readerwriterlock")
    if rwl is not None:
        cases.append(
            Case(
                "readerwriterlock RWLockFair read",
                "peer",
                lambda: rwl.RWLockFair().gen_rlock(),
                _pair("acquire", "release"),
            )
        )
    fasteners = peers.load("fasteners")
    if fasteners is not None:
        cases.append(Case("fasteners read_lock()", "peer", fasteners.ReaderWriterLock, _with("read_lock")))
    return cases


SUITES: dict[str, Suite] = {
    "counter": Suite(
        key="counter",
        title="Counter increment (shared counter, every thread increments)",
        baseline="Lock+int",
        build_cases=_counter_cases,
    ),
    "map": Suite(
        key="map",
        title=f"Read-heavy map ({READ_SHARE:.0%} reads, 5 % writes, {KEYS} keys)",
        baseline="dict (unsynchronized)",
        build_cases=_map_cases,
        ops_scale=0.5,
        notes=("ft_utils ConcurrentDict is not run: it segfaulted in 6 of 12 read-heavy runs on 3.13t",),
    ),
    "rwlock-readers": Suite(
        key="rwlock-readers",
        title="Readers only: every thread sums 16 dict values under the lock, over and over",
        baseline="threading.Lock",
        build_cases=_readers_cases(0),
        ops_scale=0.5,
    ),
    "rwlock-mostly": Suite(
        key="rwlock-mostly",
        title="Read-mostly: as rwlock-readers, but 1 operation in 100 is a one-key write (exercise 3's mix)",
        baseline="threading.Lock",
        build_cases=_readers_cases(100),
        ops_scale=0.5,
        notes=("a write makes every reader that arrives while it claims or holds block once (phase-fair)",),
    ),
    "rwlock": Suite(
        key="rwlock",
        title="Uncontended lock round-trip (one thread: acquire + release)",
        baseline="threading.Lock acquire+release",
        build_cases=_rwlock_cases,
        fixed_threads=(1,),
    ),
    "config": Suite(
        key="config",
        title="Read-mostly configuration (exercise 3): every 10th thread writes, the rest read",
        baseline="Lock + dict",
        build_cases=config_cases,
        fixed_threads=CONFIG_THREADS,
        ops_scale=0.5,
        notes=(
            "many more threads than CPUs at 50: the lab's shape (50 readers, 5 writers)",
            "a writer makes one write per ten reader operations, over at most 100 keys of its own",
        ),
    ),
    "snapshot": Suite(
        key="snapshot",
        title="Uncontended read of a published value (one thread)",
        baseline="plain attribute",
        build_cases=snapshot_cases,
        fixed_threads=(1,),
    ),
}
