"""Happens-before edges and lock order of raw ``_thread`` locks: every lock orders what it protects.

A lock the program made while a detector records is a tracked lock whatever
the factory: ``threading.Lock``/``RLock`` (see :mod:`racefree.detector.hb_threading`)
and, patched here, ``_thread.allocate_lock``, ``_thread.allocate``,
``_thread.LockType`` and ``_thread.RLock``.  A *raw* lock the program uses
anyway -- made before the detector started (by a module imported earlier), by C
code, or by thread machinery (a ``Queue``'s ``mutex``) -- is a C object whose
methods cannot be wrapped, so its edges are taken where instrumented code uses
it: the rewriter routes ``with E:`` through :func:`entering` and
``E.acquire(...)``/``E.release()`` through :func:`lockcall` (both return at
once for anything but a raw lock).  There the raw lock gets a *stand-in*, kept
in a side table weakly keyed by the lock, that carries its clock and its
lock-order state, so:

=============================================  ===================================
operation (in instrumented code)               edge
=============================================  ===================================
``release``/end of ``with`` on a raw lock      → a later ``acquire``/``with`` of it
=============================================  ===================================

and a thread that holds it while blocking on another lock adds a lock-order
edge, as a tracked lock does.  Acquisitions by code the detector does not
instrument (the standard library, C code) give no edge: they are invisible.
A ``Queue``'s own ``put``/``get`` take its mutex that way, so the queue's
bookkeeping still orders nothing (see :mod:`racefree.detector.hb_queue`, which
adds the mutex to the lock-order graph only).

Invariants: ``_stands`` maps a live raw lock to its one stand-in (created under
``_create``); a stand-in's ``_clock`` is touched only by the thread holding the
raw lock, as for a tracked lock.
"""

from __future__ import annotations

import _thread
from sys import _getframe
from types import BuiltinMethodType
from typing import TYPE_CHECKING, Any

from racefree.detector.patching import Patches
from racefree.detector.sidetable import SideTable

if TYPE_CHECKING:
    from racefree.detector.faces import SyncRecorder

_hooks: SyncRecorder | None = None
_RawLock: Any = _thread.LockType
_RawRLock: Any = _thread.RLock
_create = _thread.allocate_lock()
_stands = SideTable()  # raw lock -> its stand-in (a Lock or RLock below)
stands = _stands  # for hb_queue's put/get in C, which look a stand-in up without a call
_ACQUIRE = frozenset({"acquire", "acquire_lock"})
_RELEASE = frozenset({"release", "release_lock"})


class _Stand:
    """What the detector keeps for one raw lock: the slots a tracked lock has (see hb_threading)."""

    __slots__ = ("__weakref__", "_clock", "_order_epoch", "_order_node", "_order_site", "raw")
    raw: Any

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self._clock = None
        self._order_epoch = 0
        self._order_node = None
        self._order_site = None  # made before the detector saw it: no creation site

    def owned(self) -> bool:
        raise NotImplementedError

    def acquired(self, frame: Any, blocking: bool) -> None:
        """After the raw lock was acquired by `frame` (blocking: without a timeout)."""
        h = _hooks
        if h is not None:
            h.lock_acquired(self)
            o = h.lock_order
            if o is not None:
                o.acquired(self, frame, blocking)

    def releasing(self) -> None:
        """Before the raw lock's release, if the calling thread holds it."""
        h = _hooks
        if h is not None and self.owned():
            h.lock_released(self)
            o = h.lock_order
            if o is not None:
                o.released(self)

    def __repr__(self) -> str:
        return f"<racefree stand-in for {self.raw!r}>"


class Lock(_Stand):
    """The stand-in of a raw ``_thread.lock`` (named like the lock in deadlock reports)."""

    __slots__ = ()

    def owned(self) -> bool:
        return bool(self.raw.locked())


class RLock(_Stand):
    """The stand-in of a raw ``_thread.RLock``."""

    __slots__ = ()

    def owned(self) -> bool:
        return bool(self.raw._is_owned())


def stand_in(raw: Any) -> _Stand:
    """The stand-in of the raw lock `raw` (created the first time)."""
    s: _Stand | None = _stands.get(raw)
    if s is None:
        with _create:
            s = _stands.get(raw)
            if s is None:
                s = RLock(raw) if type(raw) is _RawRLock else Lock(raw)
                _stands.set(raw, s)
    return s


class _With:
    """``with raw_lock:`` in instrumented code: the raw lock's protocol plus its edges."""

    __slots__ = ("raw",)

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def __enter__(self) -> bool:
        ok = self.raw.acquire()
        stand_in(self.raw).acquired(_getframe(1), True)
        return bool(ok)

    def __exit__(self, *exc: object) -> None:
        stand_in(self.raw).releasing()
        self.raw.release()


# ------------------------------------------------- runtime functions (see runtime.py)

def entering(obj: Any) -> Any:
    """The context manager of ``with obj:``: `obj` itself unless it is a raw lock."""
    t = type(obj)
    if t is _RawLock or t is _RawRLock:
        return _With(obj)
    return obj


class _Acquire:
    """A raw lock's ``acquire`` as instrumented code calls it: the call, then the edges."""

    __slots__ = ("method", "raw")

    def __init__(self, method: Any, raw: Any) -> None:
        self.method = method
        self.raw = raw

    def __call__(self, blocking: bool = True, timeout: float = -1) -> Any:
        ok = self.method(blocking, timeout)
        if ok:
            stand_in(self.raw).acquired(_getframe(1), bool(blocking) and timeout < 0)
        return ok


class _Release:
    """A raw lock's ``release`` as instrumented code calls it: the edges, then the call."""

    __slots__ = ("method", "raw")

    def __init__(self, method: Any, raw: Any) -> None:
        self.method = method
        self.raw = raw

    def __call__(self) -> Any:
        stand_in(self.raw).releasing()
        return self.method()


def lockcall(method: Any) -> Any:
    """What ``x.acquire(...)``/``x.release()`` calls: `method` itself unless it is a raw lock's.

    Returning the callable (not calling it) keeps the program's frame the caller of
    every other ``acquire`` (a tracked lock names its acquisition site from it).
    """
    if type(method) is BuiltinMethodType:
        raw = method.__self__
        t = type(raw)
        if t is _RawLock or t is _RawRLock:
            name = method.__name__
            if name in _ACQUIRE:
                return _Acquire(method, raw)
            if name in _RELEASE:
                return _Release(method, raw)
    return method


def runtime_functions() -> dict[str, Any]:
    """The recording versions of ``runtime.entering`` and ``runtime.lockcall``."""
    return {"entering": entering, "lockcall": lockcall}


# ----------------------------------------------------------- _thread's factories

def install(detector: SyncRecorder) -> Patches:
    """While `detector` records, the program's ``_thread`` locks are tracked locks."""
    global _hooks
    from racefree.detector.hb_threading import Lock as Tracked
    from racefree.detector.hb_threading import RLock as TrackedR

    p = Patches()
    for name in ("allocate_lock", "allocate", "LockType"):
        if hasattr(_thread, name):
            p.set(_thread, name, Tracked)
    p.set(_thread, "RLock", TrackedR)
    _hooks = detector
    return p


def uninstall(patches: Patches) -> None:
    global _hooks
    _hooks = None
    patches.restore()
