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
