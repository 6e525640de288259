"""Synchronization primitives that stay correct without the GIL.

The atomic types run on the best back-end available (see :func:`backend_info`:
cereggii's lock-free C atomics when installed and safe for this interpreter, else
a pure-Python implementation on ``threading.Lock``).

Every primitive reports its happens-before edges to a race detector through
:mod:`racefree.sync._hb` (each class documents its sync keys).  A detector must
attach *before* the primitives it watches are created: the hot paths — every
``AtomicInt`` operation, ``ConcurrentMap`` single-key reads, ``Snapshot.get`` —
decide at construction whether they report, which is what lets an
``AtomicInt.increment`` be one C call and a map read one dict lookup when
nobody listens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from racefree._lazy import front_door

if TYPE_CHECKING:
    from racefree.sync._backend import BackendInfo, backend_info
    from racefree.sync.atomic import AtomicInt, AtomicRef
    from racefree.sync.cmap import ConcurrentMap, ConcurrentMapStatistics
    from racefree.sync.counter import ShardedCounter, ShardedCounterHandle, ShardedCounterStatistics
    from racefree.sync.errors import (
        DeadlockError,
        LockNotHeldError,
        ReentrantCallError,
        SyncError,
        WrongThreadError,
    )
    from racefree.sync.rwlock import RWLock, RWLockStatistics
    from racefree.sync.snapshot import Snapshot, SnapshotStatistics

# Each name is imported from its module on first use, so that importing one
# sub-module (``racefree.sync._hb``, which the race detector needs) does not load
# every primitive and the atomics' back-end.
_HOME = {
    "BackendInfo": "_backend", "backend_info": "_backend",
    "AtomicInt": "atomic", "AtomicRef": "atomic",
    "ConcurrentMap": "cmap", "ConcurrentMapStatistics": "cmap",
    "ShardedCounter": "counter", "ShardedCounterHandle": "counter", "ShardedCounterStatistics": "counter",
    "DeadlockError": "errors", "LockNotHeldError": "errors", "ReentrantCallError": "errors",
    "SyncError": "errors", "WrongThreadError": "errors",
    "RWLock": "rwlock", "RWLockStatistics": "rwlock",
    "Snapshot": "snapshot", "SnapshotStatistics": "snapshot",
}

__all__ = [
    "AtomicInt",
    "AtomicRef",
    "BackendInfo",
    "ConcurrentMap",
    "ConcurrentMapStatistics",
    "DeadlockError",
    "LockNotHeldError",
    "RWLock",
    "RWLockStatistics",
    "ReentrantCallError",
    "ShardedCounter",
    "ShardedCounterHandle",
    "ShardedCounterStatistics",
    "Snapshot",
    "SnapshotStatistics",
    "SyncError",
    "WrongThreadError",
    "backend_info",
]


__getattr__, __dir__ = front_door(__name__, _HOME, __all__)
