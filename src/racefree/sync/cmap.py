"""A dict that many threads may read and write, with atomic compound operations.

Invariants (true with and without the GIL):

* The map *is* a dict (a subclass), so ``m[k]``, ``k in m`` and ``len(m)`` run
  the dict's own C code.  Key ``k`` is written only under its stripe lock
  ``_locks[hash(k) & _MASK]``, so the operations on one key — including
  compound ones (:meth:`ConcurrentMap.compute`, :meth:`~ConcurrentMap.setdefault`,
  :meth:`~ConcurrentMap.pop`) — are serialized and each is atomic; writers of
  keys in different stripes run in parallel (each single dict store is atomic
  on both builds).
* Whole-map operations (:meth:`~ConcurrentMap.snapshot`, ``clear``,
  ``popitem``) hold *every* stripe lock; ``update`` holds the stripes of its
  keys.  Locks are always taken in increasing stripe order and a single-key
  operation holds one, so no two operations can deadlock.
* Reads take no lock of ours: a dict lookup is atomic on both builds (on the
  GIL build because it is one C call; on a free-threaded build because dict
  lookups are lock-free and safe against concurrent writers).  ``get`` is
  ours, a subscript in a try: on 3.13t ``dict.get`` takes the dict's internal
  lock, and readers would contend.
* Writes through the C API or ``dict.__setitem__(m, ...)`` bypass the stripe
  locks; each stays atomic by itself, but not with respect to ``compute``.
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

_dict_getitem = dict.__getitem__
_dict_contains = dict.__contains__
_dict_setitem = dict.__setitem__
_dict_delitem = dict.__delitem__
_dict_setdefault = dict.setdefault
_dict_pop = dict.pop
_dict_popitem = dict.popitem
_dict_update = dict.update
_dict_clear = dict.clear
_dict_items = dict.items
_dict_keys = dict.keys

STRIPES = 16  # a power of two
_MASK = STRIPES - 1


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


class _MapClock:
    """The hashable, weakly referenceable stand-in for a map in sync keys ``(clock, key)``.

    Only its map holds it, so a detector that keys its clocks weakly by it
    forgets them when the map goes away.
    """

    __slots__ = ("__weakref__",)

    def __repr__(self) -> str:
        return f"<ConcurrentMap clock {id(self):#x}>"


@dataclass(frozen=True)
class ConcurrentMapStatistics:
    """A point-in-time view of a :class:`ConcurrentMap`."""

    size: int


class ConcurrentMap(dict[K, V]):
    """A dict that is safe to share between threads, with atomic compound operations.

    Initial state: empty, or the items of ``initial``.

    Single-key operations (``m[k]``, ``m[k] = v``, ``del m[k]``, ``get``,
    ``in``) are atomic.  Compound operations are atomic too, which a plain dict
    cannot give: :meth:`compute` (read-modify-write of one key),
    :meth:`setdefault`, :meth:`pop`, :meth:`popitem`, :meth:`update` (all
    pairs appear together), :meth:`clear`, :meth:`snapshot`.  Iteration, and
    ``keys()``/``values()``/``items()``, walk a snapshot taken when they start,
    so they never raise "dict changed size during iteration" and never see a
    half-applied :meth:`update`; the views do not follow later changes.

    Performance: it is a ``dict`` subclass, so ``m[k]``, ``k in m`` and
    ``len(m)`` are the dict's own C code: reads take no lock and do not contend
    with each other or with writers.  A write takes one of 16 stripe locks (chosen by the key's hash),
    so writers of different keys rarely wait for each other; whole-map
    operations take all 16.

    Happens-before: a write of key ``k`` (store, compute, setdefault that
    inserts, pop, delete) releases on the sync key ``(clock, k)`` (``clock``: a
    hashable object private to the map — a dict is unhashable); a read that looks ``k`` up
    acquires on it; :meth:`snapshot` and iteration acquire on every key they
    return.  A detector hears about single-key reads of maps created while it
    is attached (attach it first).

    Misuse: the callback of :meth:`compute` runs under a stripe lock; if it
    writes to the map, or snapshots or iterates it, it raises
    :class:`~racefree.sync.ReentrantCallError` instead of deadlocking (reading
    single keys is fine).  Keep
    callbacks short and side-effect free.  Values are not protected: mutating
    a value object in place is a race — store a new value with ``compute``.

    Mutate it only through its own methods: ``dict.__setitem__(m, k, v)`` and C
    extensions that write through the C API skip the locks that make
    :meth:`compute` atomic.

    When not to use it: a map written once and then only read needs no
    synchronization after a safe publication (:class:`~racefree.sync.Snapshot`);
    a map whose every access is a compound update of several keys needs one
    lock around the whole update.
    """

    # The race detector records no container accesses on a ConcurrentMap: it
    # synchronizes itself and reports its own happens-before edges (see
    # racefree.detector.events.SYNCHRONIZED_ATTR).
    __racefree_synchronized__ = True

    __slots__ = ("__weakref__", "_busy", "_clock", "_locks")

    def __init__(self, initial: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        _dict_update(self, initial)  # not shared yet: no lock needed
        self._locks = tuple(threading.Lock() for _ in range(STRIPES))
        self._busy: set[int] = set()
        self._clock = _MapClock()  # names this map in detector sync keys (a dict is unhashable)

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
        return dict.__new__(cls)

    # __getitem__, __contains__, __len__: the dict's own (lock-free) C code.

    def get(self, key: K, default: Any = None) -> Any:
        """``m[key]`` if present, else ``default`` (never takes a lock)."""
        try:
            return self[key]
        except KeyError:
            return default

    def __iter__(self) -> Iterator[K]:
        return iter(self.snapshot())

    def __reversed__(self) -> Iterator[K]:
        return reversed(self.snapshot())

    def keys(self) -> KeysView[K]:  # type: ignore[override]
        """The keys of a snapshot taken now."""
        return self.snapshot().keys()

    def values(self) -> ValuesView[V]:  # type: ignore[override]
        """The values of a snapshot taken now."""
        return self.snapshot().values()

    def items(self) -> ItemsView[K, V]:  # type: ignore[override]
        """The pairs of a snapshot taken now (keys and values from the same instant)."""
        return self.snapshot().items()

    def snapshot(self) -> dict[K, V]:
        """A consistent copy: the map's contents between two mutations."""
        self._enter("snapshot")
        self._lock_all()
        try:
            copy = dict(_dict_items(self))  # not dict.copy: it would call our keys()
        finally:
            self._unlock_all()
        hb = _hb.listener
        if hb is not None:
            for key in copy:
                hb.acquire((self._clock, key))
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
        if self._busy:
            self._enter("__setitem__")
        lock = self._locks[hash(key) & _MASK]
        lock.acquire()  # not `with`: this is the hot write path, and acquire/release is cheaper
        try:
            hb = _hb.listener
            if hb is not None:
                hb.release((self._clock, key))
            _dict_setitem(self, key, value)
        finally:
            lock.release()

    def __delitem__(self, key: K) -> None:
        self._enter("__delitem__")
        with self._locks[hash(key) & _MASK]:
            hb = _hb.listener
            if hb is not None:
                hb.release((self._clock, key))
            _dict_delitem(self, key)

    def compute(self, key: K, fn: Callable[[V], V], default: V = _MISSING) -> V:
        """Atomically set ``m[key] = fn(m[key])`` and return the new value.

        If ``key`` is absent, ``fn`` gets ``default``; with no ``default``, an
        absent key raises :class:`KeyError` and ``fn`` is not called.  If ``fn``
        raises, the map is unchanged.  ``fn`` runs under the map's lock.
        """
        busy = self._busy
        if busy:
            self._enter("compute")
        lock = self._locks[hash(key) & _MASK]
        lock.acquire()
        try:
            try:
                old = _dict_getitem(self, key)
            except KeyError:
                if default is _MISSING:
                    raise
                old = default
            me = _get_ident()
            busy.add(me)
            try:
                new = fn(old)
            finally:
                busy.discard(me)
            hb = _hb.listener
            if hb is not None:
                hb.acquire((self._clock, key))
                hb.release((self._clock, key))
            _dict_setitem(self, key, new)
        finally:
            lock.release()
        return new

    def setdefault(self, key: K, default: V = None) -> V:  # type: ignore[assignment]
        """Return ``m[key]``, inserting ``default`` first if the key is absent (atomically)."""
        try:
            value = _dict_getitem(self, key)  # fast path: present, no lock
        except KeyError:
            self._enter("setdefault")
            with self._locks[hash(key) & _MASK]:
                value = _dict_setdefault(self, key, default)
                hb = _hb.listener
                if hb is not None:
                    hb.release((self._clock, key))
        hb = _hb.listener
        if hb is not None:
            hb.acquire((self._clock, key))
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
                hb.acquire((self._clock, key))
                hb.release((self._clock, key))
            if default is _MISSING:
                return _dict_pop(self, key)
            return _dict_pop(self, key, default)

    def popitem(self) -> tuple[K, V]:
        """Remove and return the most recently inserted pair (atomically); KeyError if empty."""
        self._enter("popitem")
        self._lock_all()
        try:
            key, value = _dict_popitem(self)
            hb = _hb.listener
            if hb is not None:
                hb.acquire((self._clock, key))
                hb.release((self._clock, key))
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
                    hb.release((self._clock, key))
            _dict_update(self, items)
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
                for key in _dict_keys(self):
                    hb.release((self._clock, key))
            _dict_clear(self)
        finally:
            self._unlock_all()

    def __ior__(self, other: Any) -> ConcurrentMap[K, V]:  # type: ignore[override, misc]
        self.update(other)
        return self

    def copy(self) -> dict[K, V]:
        """Same as :meth:`snapshot`: a plain dict."""
        return self.snapshot()

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.snapshot(),))

    # -- introspection -----------------------------------------------------------------

    def statistics(self) -> ConcurrentMapStatistics:
        """The number of keys, right now."""
        return ConcurrentMapStatistics(size=len(self))

    def __repr__(self) -> str:
        return f"<ConcurrentMap size={len(self)} {reprlib.repr(self.snapshot())}>"


class _ReportingConcurrentMap(ConcurrentMap[K, V]):
    """A ConcurrentMap created while a detector is attached: single-key reads report too."""

    __slots__ = ()

    def __getitem__(self, key: K) -> V:
        value = _dict_getitem(self, key)
        hb = _hb.listener
        if hb is not None:
            hb.acquire((self._clock, key))
        return value

    def get(self, key: K, default: Any = None) -> Any:
        try:
            value = _dict_getitem(self, key)
        except KeyError:
            value = default
        hb = _hb.listener
        if hb is not None:
            hb.acquire((self._clock, key))
        return value

    def __contains__(self, key: object) -> bool:
        found = _dict_contains(self, key)
        hb = _hb.listener
        if hb is not None:
            hb.acquire((self._clock, key))
        return found
