"""A dict that many threads may read and write, with atomic compound operations.

Invariants (true with and without the GIL):

* ``_data`` is a plain dict.  Key ``k`` is written only under its stripe lock
  ``_locks[hash(k) & _MASK]``, so the operations on one key — including
  compound ones (:meth:`ConcurrentMap.compute`, :meth:`~ConcurrentMap.setdefault`,
  :meth:`~ConcurrentMap.pop`) — are serialized and each is atomic; writers of
  keys in different stripes run in parallel (each single dict store is atomic
  on both builds).
* Whole-map operations (:meth:`~ConcurrentMap.snapshot`, ``clear``,
  ``popitem``) hold *every* stripe lock; ``update`` holds the stripes of its
  keys.  Locks are always taken in increasing stripe order and a single-key
  operation holds one, so no two operations can deadlock.
* Reads take no lock of ours: ``_data[key]`` is atomic on both builds (on the
  GIL build because it is one bytecode; on a free-threaded build because dict
  lookups are lock-free and safe against concurrent writers).  We never call
  ``dict.get`` on the read path: on 3.13t it takes the dict's internal lock,
  and readers would contend.
* Detector reporting: writes, snapshots and iteration check ``_hb.listener`` on
  every call; single-key reads (the hot path) report only in a map created
  while a detector was attached (``ConcurrentMap()`` then returns a
  ``_ReportingConcurrentMap``), so that without a detector a read is one dict
  lookup.
* ``_busy`` holds the idents of threads running a :meth:`~ConcurrentMap.compute`
  callback of this map (a set: its add/remove/contains are atomic on both
  builds).  A thread only ever tests for its own ident, which only it adds and
  removes, so the answer it gets is exact.
"""

from __future__ import annotations

import reprlib
import threading
from collections.abc import (
    Callable,
    ItemsView,
    Iterable,
    Iterator,
    KeysView,
    Mapping,
    MutableMapping,
    ValuesView,
)
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from racefree.sync import _hb
from racefree.sync.errors import ReentrantCallError

__all__ = ["ConcurrentMap", "ConcurrentMapStatistics"]

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")

_get_ident = threading.get_ident

STRIPES = 16  # a power of two
_MASK = STRIPES - 1


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


@dataclass(frozen=True)
class ConcurrentMapStatistics:
    """A point-in-time view of a :class:`ConcurrentMap`."""

    size: int


class ConcurrentMap(MutableMapping[K, V]):
    """A mutable mapping that is safe to share between threads.

    Initial state: empty, or the items of ``initial``.

    Single-key operations (``m[k]``, ``m[k] = v``, ``del m[k]``, ``get``,
    ``in``) are atomic.  Compound operations are atomic too, which a plain dict
    cannot give: :meth:`compute` (read-modify-write of one key),
    :meth:`setdefault`, :meth:`pop`, :meth:`popitem`, :meth:`update` (all
    pairs appear together), :meth:`clear`, :meth:`snapshot`.  Iteration, and
    ``keys()``/``values()``/``items()``, walk a snapshot taken when they start,
    so they never raise "dict changed size during iteration" and never see a
    half-applied :meth:`update`; the views do not follow later changes.

    Performance: reads take no lock and do not contend with each other or with
    writers.  A write takes one of 16 stripe locks (chosen by the key's hash),
    so writers of different keys rarely wait for each other; whole-map
    operations take all 16.

    Happens-before: a write of key ``k`` (store, compute, setdefault that
    inserts, pop, delete) releases on ``(map, k)``; a read that looks ``k`` up
    acquires on it; :meth:`snapshot` and iteration acquire on every key they
    return.  A detector hears about single-key reads of maps created while it
    is attached (attach it first).

    Misuse: the callback of :meth:`compute` runs under a stripe lock; if it
    writes to the map, or snapshots or iterates it, it raises
    :class:`~racefree.sync.ReentrantCallError` instead of deadlocking (reading
    single keys is fine).  Keep
    callbacks short and side-effect free.  Values are not protected: mutating
    a value object in place is a race — store a new value with ``compute``.

    When not to use it: a map written once and then only read needs no
    synchronization after a safe publication (:class:`~racefree.sync.Snapshot`);
    a map whose every access is a compound update of several keys needs one
    lock around the whole update.
    """

    __slots__ = ("__weakref__", "_busy", "_data", "_locks")

    def __init__(self, initial: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._data: dict[K, V] = dict(initial)  # key k written only under _locks[hash(k) & _MASK]
        self._locks = tuple(threading.Lock() for _ in range(STRIPES))
        self._busy: set[int] = set()

    def _lock_all(self) -> None:
        for lock in self._locks:
            lock.acquire()

    def _unlock_all(self) -> None:
        for lock in reversed(self._locks):
            lock.release()

    # -- reads (no lock) ---------------------------------------------------------

    def __new__(cls, *args: Any, **kwargs: Any) -> ConcurrentMap[K, V]:
        if cls is ConcurrentMap and _hb.listener is not None:
            cls = _ReportingConcurrentMap  # reads report their edges (see the module invariants)
        return object.__new__(cls)

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def get(self, key: K, default: Any = None) -> Any:
        """``m[key]`` if present, else ``default`` (never takes a lock)."""
        try:
            return self._data[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        try:
            self._data[key]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[K]:
        return iter(self.snapshot())

    def keys(self) -> KeysView[K]:
        """The keys of a snapshot taken now."""
        return self.snapshot().keys()

    def values(self) -> ValuesView[V]:
        """The values of a snapshot taken now."""
        return self.snapshot().values()

    def items(self) -> ItemsView[K, V]:
        """The pairs of a snapshot taken now (keys and values from the same instant)."""
        return self.snapshot().items()

    def snapshot(self) -> dict[K, V]:
        """A consistent copy: the map's contents between two mutations."""
        self._enter("snapshot")
        self._lock_all()
        try:
            copy = self._data.copy()
        finally:
            self._unlock_all()
        hb = _hb.listener
        if hb is not None:
            for key in copy:
                hb.acquire((self, key))
        return copy

    # -- writes (under the stripe locks) -------------------------------------------------

    def _enter(self, method: str) -> None:
        busy = self._busy
        if busy and _get_ident() in busy:
            raise ReentrantCallError(
                f"ConcurrentMap.{method}() called from inside a compute() callback on the same map; "
                "the callback must not touch the map"
            )

    def __setitem__(self, key: K, value: V) -> None:
        self._enter("__setitem__")
        with self._locks[hash(key) & _MASK]:
            hb = _hb.listener
            if hb is not None:
                hb.release((self, key))
            self._data[key] = value

    def __delitem__(self, key: K) -> None:
        self._enter("__delitem__")
        with self._locks[hash(key) & _MASK]:
            hb = _hb.listener
            if hb is not None:
                hb.release((self, key))
            del self._data[key]

    def compute(self, key: K, fn: Callable[[V], V], default: V = _MISSING) -> V:
        """Atomically set ``m[key] = fn(m[key])`` and return the new value.

        If ``key`` is absent, ``fn`` gets ``default``; with no ``default``, an
        absent key raises :class:`KeyError` and ``fn`` is not called.  If ``fn``
        raises, the map is unchanged.  ``fn`` runs under the map's lock.
        """
        self._enter("compute")
        with self._locks[hash(key) & _MASK]:
            data = self._data
            try:
                old = data[key]
            except KeyError:
                if default is _MISSING:
                    raise
                old = default
            me = _get_ident()
            self._busy.add(me)
            try:
                new = fn(old)
            finally:
                self._busy.discard(me)
            hb = _hb.listener
            if hb is not None:
                hb.acquire((self, key))
                hb.release((self, key))
            data[key] = new
        return new

    def setdefault(self, key: K, default: V = None) -> V:  # type: ignore[assignment]
        """Return ``m[key]``, inserting ``default`` first if the key is absent (atomically)."""
        try:
            value = self._data[key]  # fast path: present, no lock
        except KeyError:
            self._enter("setdefault")
            with self._locks[hash(key) & _MASK]:
                value = self._data.setdefault(key, default)
                hb = _hb.listener
                if hb is not None:
                    hb.release((self, key))
        hb = _hb.listener
        if hb is not None:
            hb.acquire((self, key))
        return value

    @overload
    def pop(self, key: K) -> V: ...
    @overload
    def pop(self, key: K, default: V | D) -> V | D: ...

    def pop(self, key: K, default: Any = _MISSING) -> Any:
        """Remove ``key`` and return its value (atomically); ``default`` or KeyError if absent."""
        self._enter("pop")
        with self._locks[hash(key) & _MASK]:
            hb = _hb.listener
            if hb is not None:
                hb.acquire((self, key))
                hb.release((self, key))
            if default is _MISSING:
                return self._data.pop(key)
            return self._data.pop(key, default)

    def popitem(self) -> tuple[K, V]:
        """Remove and return the most recently inserted pair (atomically); KeyError if empty."""
        self._enter("popitem")
        self._lock_all()
        try:
            key, value = self._data.popitem()
            hb = _hb.listener
            if hb is not None:
                hb.acquire((self, key))
                hb.release((self, key))
        finally:
            self._unlock_all()
        return key, value

    def update(self, other: Any = (), /, **kwargs: V) -> None:
        """Insert all pairs of ``other`` and ``kwargs``; readers of a snapshot see all or none."""
        items = dict(other, **kwargs)  # built outside the lock: may run user code
        self._enter("update")
        locks = [self._locks[i] for i in sorted({hash(key) & _MASK for key in items})]
        for lock in locks:
            lock.acquire()
        try:
            hb = _hb.listener
            if hb is not None:
                for key in items:
                    hb.release((self, key))
            self._data.update(items)
        finally:
            for lock in reversed(locks):
                lock.release()

    def clear(self) -> None:
        """Remove every key (atomically)."""
        self._enter("clear")
        self._lock_all()
        try:
            hb = _hb.listener
            if hb is not None:
                for key in self._data:
                    hb.release((self, key))
            self._data.clear()
        finally:
            self._unlock_all()

    # -- introspection -----------------------------------------------------------------

    def statistics(self) -> ConcurrentMapStatistics:
        """The number of keys, right now."""
        return ConcurrentMapStatistics(size=len(self._data))

    def __repr__(self) -> str:
        return f"<ConcurrentMap size={len(self._data)} {reprlib.repr(self.snapshot())}>"


class _ReportingConcurrentMap(ConcurrentMap[K, V]):
    """A ConcurrentMap created while a detector is attached: single-key reads report too."""

    __slots__ = ()

    def __getitem__(self, key: K) -> V:
        value = self._data[key]
        hb = _hb.listener
        if hb is not None:
            hb.acquire((self, key))
        return value

    def get(self, key: K, default: Any = None) -> Any:
        value = super().get(key, default)
        hb = _hb.listener
        if hb is not None:
            hb.acquire((self, key))
        return value

    def __contains__(self, key: object) -> bool:
        found = super().__contains__(key)
        hb = _hb.listener
        if hb is not None:
            hb.acquire((self, key))
        return found
