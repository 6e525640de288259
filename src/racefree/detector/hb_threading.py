"""Happens-before edges of :mod:`threading`.

While a detector is started, ``threading.Lock``/``threading.RLock`` create
tracked locks (for the program; the thread machinery still gets raw ones), a
``Condition`` made by the program without a lock gets a tracked ``RLock``, and
the methods of ``Thread``, ``Event``, ``Semaphore``, ``BoundedSemaphore`` and
``Barrier`` are wrapped at the class level (so objects created before start and
names imported with ``from threading import …`` are covered too):

=========================  ==================================================
operation                  edge
=========================  ==================================================
``Thread.start``           parent's past → the new thread's first step
thread ends → ``join``     the thread's whole run → after ``join`` returns (also
                           ``join(timeout)`` that returned with the thread dead)
thread ends → observed     ``is_alive()`` returning False, ``threading.enumerate()``
                           no longer listing the thread: as ``join``
``Lock``/``RLock``         ``release`` → a later successful ``acquire``
``Condition``              through its lock (``wait`` releases and reacquires)
``Semaphore``              ``release`` → a later successful ``acquire``
``Event``                  ``set`` → a ``wait`` that returns True
``Barrier``                every party's arrival → every party's departure
``Timer``                  a Thread (start/join); ``cancel`` gives no edge
=========================  ==================================================

Objects that ``threading``, ``queue``, ``concurrent.futures`` or the detector
create for their own bookkeeping (``Thread._started``, a ``Queue``'s mutex, an
executor's idle semaphore) give no edge: those would order accesses that the
program does not order (see :func:`racefree.detector.patching.internal_caller`).

Locks made through ``_thread`` directly, and raw locks the detector did not make,
get their edges in :mod:`racefree.detector.hb_rawlocks`.  What the wrappers keep
about an object (made by thread machinery? its clocks) lives in weak side tables,
never on the object (the program must not see it in ``vars``/``dir``/pickles).

Tracked locks also feed the lock-order graph (:mod:`racefree.detector.lockorder`)
when the detector keeps one: acquisitions, releases, and ``Condition.wait``'s
release and re-acquire (``_release_save``/``_acquire_restore``, which set the
lock's entry aside instead of adding an edge).

Invariants: ``_hooks`` is the started detector or None, ``_order`` its
lock-order graph or None; they change only in :func:`install`/:func:`uninstall`
(the engine's activation lock).  A tracked lock's ``_clock`` is touched only by
the thread that holds the lock; ``_order_epoch`` only by a releasing thread.
"""

from __future__ import annotations

import _thread
import threading
from sys import _getframe
from typing import TYPE_CHECKING, Any

from racefree.detector import speedups
from racefree.detector.lockorder import creation_site
from racefree.detector.patching import Patches, internal_caller
from racefree.detector.sidetable import SideTable

if TYPE_CHECKING:
    from racefree.detector.faces import SyncRecorder
    from racefree.detector.lockorder import LockOrder

_hooks: SyncRecorder | None = None
_order: LockOrder | None = None  # the started detector's lock-order graph, if it keeps one
# _order.tls (per thread, the tracked locks held; a global: one lookup less); never None, so a
# thread racing with uninstall() writes to a throwaway _local instead of failing
_held: Any = _thread._local()
_held_gen = 0  # bumped whenever _held changes: the C `with lock:` remembers each thread's list by it
_lock_hooks: Any = None  # the C back-end's _speedups.LockHooks (what _hooks.lock_acquired is bound to)

_allocate_lock = _thread.allocate_lock
_raw_rlock: Any = threading.RLock
_Thread = threading.Thread
_Event = threading.Event
_Semaphore = threading.Semaphore
_BoundedSemaphore = threading.BoundedSemaphore
_Barrier = threading.Barrier
_Condition = threading.Condition
_orig: dict[str, Any] = {}
_internal = SideTable()  # Event/Semaphore/Barrier -> made by thread machinery? (off the object: issue 9)


class _TrackedLock:
    """What ``Lock`` and ``RLock`` share while a detector records: the raw lock, its clock, lock order.

    ``_owned(raw)`` is the raw lock type's "held?" test (``locked`` for a Lock, ``_is_owned``
    for an RLock): a release by a thread that does not hold the lock reports nothing, and
    the raw lock raises as it would without the detector.
    """

    __slots__ = ("__weakref__", "_clock", "_lock", "_order_epoch", "_order_node", "_order_site")
    _owned: Any
    _lock: Any
    _clock: Any
    _order_epoch: int  # bumped when a thread that did not acquire the lock releases it
    _order_node: Any  # (LockOrder, Node) once the lock is in the lock-order graph
    _order_site: Any  # (code, lasti) where the program created the lock

    def _init_tracked(self, raw: Any) -> None:
        self._lock = raw
        self._clock = None
        _order_init(self)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        # True, False or (Python RLock, re-entered) 1: "is not False" is bool() without a call
        ok = self._lock.acquire(blocking, timeout) is not False
        if ok:
            h = _hooks
            if h is not None:
                h.lock_acquired(self)
                o = _order
                if o is not None:  # inlined LockOrder.acquired: locks are hot
                    f = _getframe(1)
                    try:
                        held = _held.held
                    except AttributeError:
                        held = _held.held = []
                    if held and blocking and timeout < 0:
                        o.nested(self, held, f)
                    held.append((self, self._order_epoch, f, f.f_lasti))
        return ok

    def release(self) -> None:
        h = _hooks
        if h is not None and self._owned(self._lock):
            h.lock_released(self)
            o = _order
            if o is not None:  # inlined LockOrder.released
                try:
                    held = _held.held
                except AttributeError:
                    held = _held.held = []
                if held and held[-1][0] is self:
                    del held[-1]
                else:
                    o.released(self)
        self._lock.release()

    def __enter__(self) -> bool:
        ok = self._lock.acquire() is not False  # see acquire
        h = _hooks
        if h is not None:
            h.lock_acquired(self)
            o = _order
            if o is not None:
                f = _getframe(1)
                try:
                    held = _held.held
                except AttributeError:
                    held = _held.held = []
                if held:
                    o.nested(self, held, f)
                held.append((self, self._order_epoch, f, f.f_lasti))
        return ok

    def __exit__(self, *exc: object) -> None:
        h = _hooks
        if h is not None and self._owned(self._lock):
            h.lock_released(self)
            o = _order
            if o is not None:  # inlined LockOrder.released
                try:
                    held = _held.held
                except AttributeError:
                    held = _held.held = []
                if held and held[-1][0] is self:
                    del held[-1]
                else:
                    o.released(self)
        self._lock.release()

    def _at_fork_reinit(self) -> None:
        self._lock._at_fork_reinit()


class Lock(_TrackedLock):
    """``threading.Lock`` while a detector records: a raw lock plus its clock and lock-order state."""

    __slots__ = ()
    _owned = staticmethod(type(_allocate_lock()).locked)

    def __new__(cls) -> Any:
        if _hooks is None or internal_caller(1):
            return _allocate_lock()
        return cls._tracked()

    @classmethod
    def _tracked(cls) -> Lock:
        self = object.__new__(cls)
        self._init_tracked(_allocate_lock())
        return self

    def locked(self) -> bool:
        return bool(self._lock.locked())

    # the Condition protocol (threading's fallback does the same release/acquire; here
    # the lock-order entry is set aside during the wait instead of dropped and re-added)
    def _release_save(self) -> Any:
        saved = None
        h = _hooks
        if h is not None and self._lock.locked():
            h.lock_released(self)
            o = _order
            if o is not None:
                saved = o.suspend(self)
        self._lock.release()
        return saved

    def _acquire_restore(self, saved: Any) -> None:
        self._lock.acquire()
        h = _hooks
        if h is not None:
            h.lock_acquired(self)
            o = _order
            if o is not None and saved:
                o.resume(self, saved)

    acquire_lock = _TrackedLock.acquire
    release_lock = _TrackedLock.release

    def __repr__(self) -> str:
        return f"<racefree tracked {'locked' if self.locked() else 'unlocked'} Lock at {id(self):#x}>"


class RLock(_TrackedLock):
    """``threading.RLock`` while a detector records: a raw reentrant lock, its clock, lock-order state."""

    __slots__ = ()
    _owned = staticmethod(type(_raw_rlock())._is_owned)

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if _hooks is None or internal_caller(1):
            return _raw_rlock(*args, **kwargs)
        return cls._tracked()

    @classmethod
    def _tracked(cls) -> RLock:
        self = object.__new__(cls)
        self._init_tracked(_raw_rlock())
        return self

    # the Condition protocol
    def _release_save(self) -> Any:
        saved = None
        h = _hooks
        if h is not None and self._lock._is_owned():
            h.lock_released(self)
            o = _order
            if o is not None:
                saved = o.suspend(self)
        return (self._lock._release_save(), saved)

    def _acquire_restore(self, state: Any) -> None:
        raw, saved = state
        self._lock._acquire_restore(raw)
        h = _hooks
        if h is not None:
            h.lock_acquired(self)
            o = _order
            if o is not None and saved:
                o.resume(self, saved)

    def _is_owned(self) -> bool:
        return bool(self._lock._is_owned())

    def __getattr__(self, name: str) -> Any:  # _recursion_count() and friends
        return getattr(object.__getattribute__(self, "_lock"), name)

    def __repr__(self) -> str:
        return f"<racefree tracked RLock at {id(self):#x}>"


def _order_init(lock: _TrackedLock) -> None:
    lock._order_epoch = 0
    lock._order_node = None
    # where the program created the lock, to name it in deadlock reports (cheap: one frame walk)
    lock._order_site = creation_site(1) if _order is not None else None


def _mark(obj: Any) -> None:
    """Called from a wrapped ``__init__``: remember objects made by thread machinery.

    The outermost constructor decides (a BoundedSemaphore's ``__init__`` calls
    Semaphore's from inside threading).
    """
    _internal.setdefault(obj, internal_caller(2))


def _tracked(obj: Any) -> SyncRecorder | None:
    h = _hooks
    if h is None:
        return None
    if _internal.get(obj):
        return None
    return h


# --------------------------------------------------------------------- Thread

def _thread_start(self: threading.Thread) -> None:
    h = _hooks
    if h is not None:
        h.thread_starting(self)
    _orig["Thread.start"](self)


def _thread_bootstrap_inner(self: threading.Thread) -> None:
    h = _hooks
    if h is not None:
        h.thread_begin(self)
    try:
        _orig["Thread._bootstrap_inner"](self)
    finally:
        if h is not None:
            h.thread_end(self)


def _thread_join(self: threading.Thread, timeout: float | None = None) -> None:
    _orig["Thread.join"](self, timeout)
    h = _hooks
    if h is not None and not _orig["Thread.is_alive"](self):
        h.thread_joined(self)


def _thread_is_alive(self: threading.Thread) -> bool:
    alive: bool = _orig["Thread.is_alive"](self)
    if not alive:
        h = _hooks
        if h is not None:
            h.thread_observed_ended(self)
    return alive


def _thread_delete(self: threading.Thread) -> None:
    # the thread's last step before threading.enumerate() stops listing it: publish its end
    h = _hooks
    if h is not None:
        h.thread_end(self)
    _orig["Thread._delete"](self)


def _enumerate() -> list[threading.Thread]:
    listed: list[threading.Thread] = _orig["enumerate"]()
    h = _hooks
    if h is not None:
        h.threads_not_listed(listed)
    return listed


# ------------------------------------------------------------ Condition, Event

def _condition_enter(self: threading.Condition) -> bool:
    # the lock's acquisition is the caller's ``with cond:``, not this frame's
    lock = self._lock  # type: ignore[attr-defined]
    o = _order
    if o is None or (type(lock) is not Lock and type(lock) is not RLock):
        return bool(lock.__enter__())
    ok = bool(lock._lock.acquire())
    h = _hooks
    if h is not None:
        h.lock_acquired(lock)
        o.acquired(lock, _getframe(1), True)
    return ok


def _condition_init(self: threading.Condition, lock: Any = None) -> None:
    if lock is None and _hooks is not None and not internal_caller(1):
        lock = RLock._tracked()
    _orig["Condition.__init__"](self, lock)


def _event_init(self: threading.Event) -> None:
    _mark(self)
    _orig["Event.__init__"](self)


def _event_set(self: threading.Event) -> None:
    h = _tracked(self)
    if h is not None:
        h.release_object(self)
    _orig["Event.set"](self)


def _event_wait(self: threading.Event, timeout: float | None = None) -> bool:
    ok: bool = _orig["Event.wait"](self, timeout)
    if ok:
        h = _tracked(self)
        if h is not None:
            h.acquire_object(self)
    return ok


# ---------------------------------------------------------------- Semaphore

def _semaphore_init(self: threading.Semaphore, value: int = 1) -> None:
    _mark(self)
    _orig["Semaphore.__init__"](self, value)


def _bounded_semaphore_init(self: threading.BoundedSemaphore, value: int = 1) -> None:
    _mark(self)
    _orig["BoundedSemaphore.__init__"](self, value)


def _semaphore_acquire(
    self: threading.Semaphore, blocking: bool = True, timeout: float | None = None
) -> bool:
    ok: bool = _orig["Semaphore.acquire"](self, blocking, timeout)
    if ok:
        h = _tracked(self)
        if h is not None:
            h.acquire_object(self)
    return ok


def _semaphore_release(self: threading.Semaphore, n: int = 1) -> None:
    h = _tracked(self)
    if h is not None:
        h.release_object(self)
    _orig["Semaphore.release"](self, n)


def _bounded_semaphore_release(self: threading.BoundedSemaphore, n: int = 1) -> None:
    h = _tracked(self)
    if h is not None:
        h.release_object(self)
    _orig["BoundedSemaphore.release"](self, n)


# ------------------------------------------------------------------ Barrier

def _barrier_init(self: threading.Barrier, *args: Any, **kwargs: Any) -> None:
    _mark(self)
    _orig["Barrier.__init__"](self, *args, **kwargs)


def _barrier_wait(self: threading.Barrier, timeout: float | None = None) -> int:
    h = _tracked(self)
    if h is not None:
        h.release_object(self, "arrivals")
    index: int = _orig["Barrier.wait"](self, timeout)
    h = _tracked(self)
    if h is not None:
        h.acquire_object(self, "departures")
    return index


def _barrier_release(self: threading.Barrier) -> None:
    # called by the last party to arrive, under the barrier's lock, before anyone leaves
    h = _tracked(self)
    if h is not None:
        h.move_object_clock(self, "arrivals", "departures")
    _orig["Barrier._release"](self)


def install(detector: SyncRecorder) -> Patches:
    """Wrap threading for `detector`; returns the patches to restore."""
    global _hooks, _order, _held, _held_gen, _lock_hooks
    p = Patches()
    for cls, name, fn in (
        (_Thread, "start", _thread_start),
        (_Thread, "_bootstrap_inner", _thread_bootstrap_inner),
        (_Thread, "join", _thread_join),
        (_Thread, "is_alive", _thread_is_alive),
        (_Thread, "_delete", _thread_delete),
        (_Condition, "__init__", _condition_init),
        (_Condition, "__enter__", _condition_enter),
        (_Event, "__init__", _event_init),
        (_Event, "set", _event_set),
        (_Event, "wait", _event_wait),
        (_Semaphore, "__init__", _semaphore_init),
        (_Semaphore, "acquire", _semaphore_acquire),
        (_Semaphore, "__enter__", _semaphore_acquire),
        (_Semaphore, "release", _semaphore_release),
        (_BoundedSemaphore, "__init__", _bounded_semaphore_init),
        (_BoundedSemaphore, "release", _bounded_semaphore_release),
        (_Barrier, "__init__", _barrier_init),
        (_Barrier, "wait", _barrier_wait),
        (_Barrier, "_release", _barrier_release),
    ):
        key = f"{cls.__name__}.{name}"
        original = cls.__dict__.get(name)
        if original is None:  # inherited: call what the class would have used
            original = getattr(cls, name)
        _orig.setdefault(key, original)
        p.set(cls, name, fn)
    _orig.setdefault("enumerate", threading.enumerate)
    p.set(threading, "enumerate", _enumerate)
    p.set(threading, "Lock", Lock)
    p.set(threading, "RLock", RLock)
    methods = speedups.lock_methods(getattr(detector, "backend", "python"), globals())
    if methods is not None:  # `with lock:` in C (the methods above: reference)
        enter, exit_ = methods
        p.set(_TrackedLock, "__enter__", enter)
        p.set(_TrackedLock, "__exit__", exit_)
        # a Condition on a raw lock (a Queue's) enters it in C; the rest calls _condition_enter
        p.set(_Condition, "__enter__", speedups.condition_enter("c", globals()))
    order = getattr(detector, "lock_order", None)
    _held = order.tls if order is not None else _thread._local()
    _held_gen += 1
    _lock_hooks = getattr(detector.lock_acquired, "__self__", None)
    _order = order
    _hooks = detector
    return p


def uninstall(patches: Patches) -> None:
    global _hooks, _order, _held, _held_gen, _lock_hooks
    _hooks = None
    _order = None
    _lock_hooks = None
    _held = _thread._local()
    _held_gen += 1
    patches.restore()
