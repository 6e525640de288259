from collections.abc import Iterable
from types import TracebackType
from typing import Any

class PublishedValue:
    """A published object reference read by one C call (base of racefree.sync.Snapshot)."""

    _value: Any
    def get(self) -> Any: ...

class CounterCells:
    """Per-thread counter cells with add() in C (base of racefree.sync.ShardedCounter)."""

    _local: Any
    def add(self, n: int = 1) -> None: ...

class ReaderCell:
    """An atomic 64-bit reader cell of the free-threaded RWLock (racefree.sync._rwlock_ft)."""

    def __init__(self, value: int = 0) -> None: ...
    def load(self) -> int: ...
    def add(self, delta: int, /) -> int: ...
    def compare_and_swap(self, expected: int, new: int, /) -> bool: ...

class GuardHolder:
    """The read and write guards of an RWLock, returned by read() and write() in C."""

    _read_guard: Any
    _write_guard: Any
    def read(self) -> Any: ...
    def write(self) -> Any: ...

class _Guard:
    def __init__(self, lock: Any, /) -> None: ...
    def __enter__(self) -> None: ...
    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None, /
    ) -> None: ...

class ShardedReadGuard(_Guard):
    """with rw.read(): for the free-threaded RWLock (_ShardedRWLock), in C."""

class GILReadGuard(_Guard):
    """with rw.read(): for the GIL build's RWLock (_GILRWLock), in C."""

def add_all(cells: Iterable[ReaderCell], delta: int, /) -> None:
    """Add delta to every ReaderCell of cells."""

def mark_all(cells: Iterable[ReaderCell], pending: ReaderCell, /) -> None:
    """Mark every unmarked ReaderCell with shares, counting each in pending."""
