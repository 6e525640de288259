"""Atomic integer and atomic reference (Go's ``sync/atomic``).

Invariants (true with and without the GIL):

* All state lives in the back-end (see :mod:`racefree.sync._backend`), which
  is linearizable; nothing here adds a lock on the fast path.
* Detector reporting: an atomic created while a detector is attached
  (``_hb.listener`` set) is an instance of a *reporting* subclass, whose every
  operation runs under its own ``_hb_lock`` together with the edge it reports,
  so the detector sees edges in exactly the order the operations took effect.
  Atomics created with no detector attached are the plain classes: the listener
  then costs nothing at all per operation (for ``AtomicInt`` on C atomics, an
  operation is one C call).
"""

from __future__ import annotations

import _thread
import reprlib
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from racefree.sync import _atomic_py, _backend, _hb

__all__ = ["AtomicInt", "AtomicRef", "reporting_int_type"]

T = TypeVar("T")

_CONTRACT = """A signed 64-bit integer whose operations are atomic and sequentially consistent.

    ``AtomicInt(value=0)``.  Operations: ``load()``, ``store(v)``,
    ``add(delta)`` and ``increment()`` (return the *new* value), ``swap(v)``
    (returns the *old* value), ``compare_and_swap(expected, new) -> bool``.

    Initial state: ``value`` (default 0).  Arguments must be integers; results
    outside ``[-2**63, 2**63 - 1]`` raise :class:`OverflowError` and leave the
    value unchanged.

    Happens-before: every operation both releases and acquires on this
    ``AtomicInt`` (sync key: the object) — an operation that observes another
    thread's write sees everything that thread did before it, as with Go's
    ``sync/atomic``.  A race detector hears about the edges of atomics created
    while it is attached.

    Fairness: lock-free on a C back-end; on the pure-Python fallback each write
    takes one ``threading.Lock`` (no FIFO guarantee).

    Misuse: an ``AtomicInt`` is not a number — ``a + 1``, ``a == 3`` and
    ``a += 1`` raise :class:`TypeError` (``==`` compares identity).  Do not copy
    one; create a new one.  Do not subclass it: the class is chosen per back-end.

    When not to use it: to protect *several* variables at once (use a lock), or
    for a hot counter written by many threads on a free-threaded build (every
    write hits one cache line; :class:`~racefree.sync.ShardedCounter` scales).

    >>> hits = AtomicInt()
    >>> hits.increment()
    1
    """


def reporting_int_type(base: type[Any]) -> type[Any]:
    """The subclass of an ``AtomicInt`` implementation that reports its edges to ``_hb.listener``."""

    class Reporting(base):  # type: ignore[misc]
        __slots__ = ("_hb_clock", "_hb_lock")
        _racefree_own_clock = True  # every report is made under _hb_lock: see _hb

        def __init__(self, value: int = 0) -> None:
            base.__init__(self, value)
            self._hb_lock = _thread.allocate_lock()  # makes each operation and its report one step
            self._hb_clock: Any = None  # the detector's clock of this atomic, guarded by _hb_lock

        def load(self) -> int:
            hb = _hb.listener
            if hb is None:
                return base.load(self)  # type: ignore[no-any-return]
            with self._hb_lock:
                value = base.load(self)
                hb.acquire(self)
            return value  # type: ignore[no-any-return]

        def store(self, value: int) -> None:
            hb = _hb.listener
            with self._hb_lock:
                if hb is not None:
                    hb.release(self)
                base.store(self, value)

        def _rmw(self, op: Any, *args: Any) -> Any:
            hb = _hb.listener
            if hb is None:
                return op(self, *args)
            with self._hb_lock:
                # one step under the lock: releasing before or after the operation is the same
                hb.acquire_release(self)
                result = op(self, *args)
            return result

        def add(self, delta: int) -> int:
            return self._rmw(base.add, delta)  # type: ignore[no-any-return]

        def increment(self) -> int:
            return self._rmw(base.increment)  # type: ignore[no-any-return]

        def swap(self, value: int) -> int:
            return self._rmw(base.swap, value)  # type: ignore[no-any-return]

        def compare_and_swap(self, expected: int, new: int) -> bool:
            return self._rmw(base.compare_and_swap, expected, new)  # type: ignore[no-any-return]

    Reporting.__name__ = Reporting.__qualname__ = f"Reporting{base.__name__}"
    return Reporting


_atomic_py._reporting_variant[0] = reporting_int_type(_atomic_py.PyAtomicInt)
_atomic_py.PyAtomicInt.__doc__ = _CONTRACT
if "cereggii" in _backend.AVAILABLE:
    from racefree.sync import _atomic_c

    _atomic_c._reporting_variant[0] = reporting_int_type(_atomic_c.CAtomicInt)
    _atomic_c.CAtomicInt.__doc__ = _CONTRACT

if TYPE_CHECKING:
    AtomicInt = _atomic_py.PyAtomicInt
else:
    AtomicInt = _backend.ACTIVE.int_type


class AtomicRef(Generic[T]):
    """A reference to an object, replaced atomically; compare-and-swap compares by identity.

    Initial state: ``obj`` (default ``None``).

    Happens-before: as :class:`AtomicInt` — ``load`` acquires, ``store``
    releases, ``swap`` and ``compare_and_swap`` do both (sync key: this object).
    This is what makes publication safe: build an object, ``store`` it; a thread
    that ``load``\\ s it sees it fully built.

    Misuse: the referenced object is *not* protected — mutating it after
    publishing is a data race.  Publish immutable objects, or copies.
    ``compare_and_swap`` uses ``is``, never ``==``: pass the object you loaded.

    When not to use it: for read-mostly data replaced by an update function,
    :class:`~racefree.sync.Snapshot` serializes the writers for you.
    """

    __slots__ = ("__weakref__", "_cas", "_cell", "_get", "_hb_clock", "_hb_lock", "_set", "_swap")
    _racefree_own_clock = True  # every report is made under _hb_lock: see _hb

    def __init__(self, obj: T | None = None) -> None:
        self._init(_backend.ACTIVE.ref_cell(obj))

    def _init(self, cell: _backend.AtomicRefCell) -> None:
        self._cell = cell
        # Bound methods cached on the instance: one attribute load on the fast path.
        self._get = cell.get
        self._set = cell.set
        self._swap = cell.get_and_set
        self._cas = cell.compare_and_set
        self._hb_lock = _thread.allocate_lock()  # orders detector reports; unused without a detector
        self._hb_clock: Any = None  # the detector's clock of this reference, guarded by _hb_lock

    @classmethod
    def _with_backend(cls, backend: _backend.Backend, obj: Any = None) -> AtomicRef[Any]:
        """Create an instance on a specific back-end (for tests and benchmarks)."""
        self: AtomicRef[Any] = cls.__new__(cls)
        self._init(backend.ref_cell(obj))
        return self

    def load(self) -> T | None:
        """Return the current object."""
        hb = _hb.listener
        if hb is None:
            return self._get()  # type: ignore[no-any-return]
        with self._hb_lock:
            obj = self._get()
            hb.acquire(self)
        return obj  # type: ignore[no-any-return]

    def store(self, obj: T | None) -> None:
        """Replace the object."""
        hb = _hb.listener
        if hb is None:
            return self._set(obj)
        with self._hb_lock:
            hb.release(self)
            self._set(obj)
        return None

    def swap(self, obj: T | None) -> T | None:
        """Replace the object and return the old one."""
        hb = _hb.listener
        if hb is None:
            return self._swap(obj)  # type: ignore[no-any-return]
        with self._hb_lock:
            hb.acquire_release(self)
            old = self._swap(obj)
        return old  # type: ignore[no-any-return]

    def compare_and_swap(self, expected: T | None, new: T | None) -> bool:
        """If the current object *is* ``expected``, replace it by ``new`` and return True."""
        hb = _hb.listener
        if hb is None:
            return self._cas(expected, new)
        with self._hb_lock:
            hb.acquire_release(self)
            done = self._cas(expected, new)
        return done

    @property
    def backend(self) -> str:
        """The name of the back-end this reference lives in."""
        return "python" if isinstance(self._cell, _atomic_py.LockedRef) else _backend.ACTIVE.name

    def __repr__(self) -> str:
        return f"<AtomicRef obj={reprlib.repr(self._get())} backend={self.backend}>"
