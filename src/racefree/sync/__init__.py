"""Synchronization primitives that stay correct without the GIL.

The atomic types run on the best back-end available (see :func:`backend_info`);
every primitive reports its happens-before edges to a race detector through
:mod:`racefree.sync._hb` when one is attached.
"""

from racefree.sync._backend import BackendInfo, backend_info
from racefree.sync.atomic import AtomicInt, AtomicRef
from racefree.sync.cmap import ConcurrentMap, ConcurrentMapStatistics
from racefree.sync.counter import ShardedCounter, ShardedCounterStatistics
from racefree.sync.errors import DeadlockError, LockNotHeldError, ReentrantCallError, SyncError
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
    "ShardedCounterStatistics",
    "Snapshot",
    "SnapshotStatistics",
    "SyncError",
    "backend_info",
]
