"""A copy-on-write holder for read-mostly data: readers take no lock.

Invariants (true with and without the GIL):

* ``_value`` always refers to a complete value.  It is replaced by one
  attribute store (atomic on both builds), so a reader sees the old value or the
  new one, never a mix.
* Detector reporting: ``set``/``update`` check ``_hb.listener`` on every call;
  ``get`` (the readers' path) reports only in a snapshot created while a
  detector was attached (``Snapshot()`` then returns a ``_ReportingSnapshot``).
* ``_lock`` serializes writers (:meth:`Snapshot.set`, :meth:`Snapshot.update`),
  so an ``update`` never loses a concurrent ``set`` or ``update``; ``_version``
  is guarded by it.
* ``_value`` lives in the base class: the C ``PublishedValue`` of
  :mod:`racefree.sync._fastread` when it is built (``get`` is then one C call,
  reading the slot the way CPython reads a ``__slots__`` attribute: safe
  against a concurrent store without the GIL), else :class:`_PyPublishedValue`,
  the same in Python (see :mod:`racefree.sync._fast`).  :data:`READ_PATH`
  names the one in use.
"""

from __future__ import annotations

import reprlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from racefree.sync import _fast, _hb
from racefree.sync.errors import ReentrantCallError

__all__ = ["READ_PATH", "Snapshot", "SnapshotStatistics"]

T = TypeVar("T")

_get_ident = threading.get_ident


class _PyPublishedValue:
    """The pure-Python base of :class:`Snapshot`: the contract of ``_fastread.PublishedValue``."""

    __slots__ = ("_value",)

    _value: Any

    def get(self) -> Any:
        """The current value (takes no lock)."""
        return self._value


if TYPE_CHECKING:  # the checker sees the Python base; both have the same members
    _Base = _PyPublishedValue
else:
    _Base = _PyPublishedValue if _fast.FASTREAD is None else _fast.FASTREAD.PublishedValue
READ_PATH = _fast.REASON


@dataclass(frozen=True)
class SnapshotStatistics:
    """How many times a :class:`Snapshot` was replaced."""

    version: int


class Snapshot(_Base, Generic[T]):
    """Holds one value that readers get without locking and writers replace whole.

    Initial state: ``value``; version 0.

    Use it for configuration and other read-mostly data: build a new value (a
    ``MappingProxyType``, a tuple, a frozen dataclass) and :meth:`set` it, or
    :meth:`update` it from the old one.  :meth:`get` is one attribute load
    (in C when the optional ``racefree.sync._fastread`` is built).

    Happens-before: :meth:`set` and :meth:`update` release on the snapshot
    (sync key: the object); :meth:`get` acquires — a reader that gets a new value
    sees everything the writer did before publishing it.
    A detector hears about ``get`` on snapshots created while it is attached.

    Misuse: mutating the held value in place defeats the point (readers would
    race with the mutation); treat values as immutable.  The ``fn`` of
    :meth:`update` runs under the writers' lock and must not call
    ``set``/``update`` on the same snapshot (:class:`~racefree.sync.ReentrantCallError`).

    When not to use it: for write-heavy data (every write copies) or for data
    updated key by key (use :class:`~racefree.sync.ConcurrentMap`).
    """

    __slots__ = ("__weakref__", "_lock", "_owner", "_version")  # _value: in the base (module invariants)

    def __init__(self, value: T) -> None:
        self._value = value
        self._lock = threading.Lock()
        self._version = 0  # guarded by _lock
        self._owner = 0  # ident of the thread running update()'s fn, else 0

    def __new__(cls, value: T) -> Snapshot[T]:
        if cls is Snapshot and _hb.listener is not None:
            cls = _ReportingSnapshot  # get() reports its edge (see the module invariants)
        return _Base.__new__(cls)

    if TYPE_CHECKING:  # at run time get() is the base class's: one C call when _fastread is built

        def get(self) -> T:
            """The current value (takes no lock)."""

    def _enter(self, method: str) -> None:
        if self._owner == _get_ident():
            raise ReentrantCallError(
                f"Snapshot.{method}() called from inside an update() callback on the same snapshot"
            )

    def set(self, value: T) -> None:
        """Replace the value."""
        self._enter("set")
        with self._lock:
            hb = _hb.listener
            if hb is not None:
                hb.release(self)
            self._value = value
            self._version += 1

    def update(self, fn: Callable[[T], T]) -> T:
        """Atomically replace the value by ``fn(value)`` and return the new value.

        Writers are serialized, so no concurrent ``set``/``update`` is lost.  If
        ``fn`` raises, the value is unchanged.
        """
        self._enter("update")
        with self._lock:
            self._owner = _get_ident()
            try:
                new = fn(self._value)
            finally:
                self._owner = 0
            hb = _hb.listener
            if hb is not None:
                hb.acquire(self)
                hb.release(self)
            self._value = new
            self._version += 1
        return new

    def statistics(self) -> SnapshotStatistics:
        """The number of replacements so far."""
        return SnapshotStatistics(version=self._version)

    def __repr__(self) -> str:
        return f"<Snapshot version={self._version} value={reprlib.repr(self._value)}>"


class _ReportingSnapshot(Snapshot[T]):
    """A Snapshot created while a detector is attached: ``get`` reports its acquire."""

    __slots__ = ()

    def get(self) -> T:
        value: T = self._value
        hb = _hb.listener
        if hb is not None:
            hb.acquire(self)
        return value
