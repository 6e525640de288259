"""The race detector: thread states, happens-before edges, and the recording switch.

A :class:`Detector` watches every thread of the process between ``start()``
and ``stop()``: instrumented code reports accesses through
:mod:`racefree.detector.runtime`, the wrapped ``threading``/``queue``/
``concurrent.futures`` API and the :mod:`racefree.sync` listener report
synchronization, and races accumulate as :class:`~racefree.detector.findings.Race`
objects.

Invariants (true with and without the GIL):

* At most one detector is active (``_active``, guarded by ``_activation``).
* ``Detector._lock`` (a private ``_thread.RLock``: never visible to the program,
  so it never creates an edge; reentrant so that a signal handler running in a
  thread that holds it cannot deadlock) guards ``_threads`` (tid allocation), the
  ``_hb_clocks`` of :mod:`racefree.sync` keys, and every *accumulating*
  :class:`SyncClock` (events, semaphores, barriers, futures, thread ends) during
  merge and absorb.  No user code runs while it is held.
* A thread's :class:`ThreadState` lives in ``Detector.tls`` and is only written by
  its thread (see :mod:`racefree.detector.clocks`).
* Sync clocks of program objects (threads, events, futures...) live in weak
  side tables (:mod:`racefree.detector.sidetable`), never on the objects, and
  carry the detector's generation; a clock left by an earlier detector is ignored.
"""

from __future__ import annotations

import _thread
import functools
import gc
import importlib
import itertools
import os
import sys
import threading
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from racefree.detector import (
    access,
    clocks,
    containers,
    hb_queue,
    hb_rawlocks,
    hb_threading,
    runtime,
    speedups,
    stacks,
)
from racefree.detector.clocks import MASK, SHIFT, SyncClock, ThreadState
from racefree.detector.lockorder import LockOrder
from racefree.detector.patching import ImportWatch, Patches
from racefree.detector.races import Registry
from racefree.detector.shadow import Shadow
from racefree.detector.sidetable import SideTable
from racefree.detector.stress import Perturber
from racefree.sync import _hb

if TYPE_CHECKING:
    from racefree.detector.findings import Deadlock, Race

Mode = Literal["python", "strict"]
MODES = ("python", "strict")

_allocate_lock = _thread.allocate_lock
_get_ident = _thread.get_ident
_threads_by_ident: dict[int, threading.Thread] = getattr(threading, "_active", {})
_main_thread = threading.main_thread
_activation = _allocate_lock()
_active: Detector | None = None
_generations = itertools.count(1)
# what the detector attaches to program objects (threads, events, futures...), off the objects:
# the program must not see it (dir, vars, pickling, copy); shared by detectors, each value
# carries its detector's generation
_starts = SideTable()  # Thread -> (gen, vc, created, tid), from start() until the thread runs
_ends = SideTable()  # Thread -> its end clock (a SyncClock)
_object_clocks = SideTable()  # object -> {slot: SyncClock}
# patches that wait for the program to import what they patch (program module -> hb module):
# a run that never uses asyncio or concurrent.futures does not import them
_DEFERRED = (("concurrent.futures", "hb_futures"), ("asyncio", "hb_asyncio"))


def _after_fork_in_child() -> None:
    # only the forking thread survives: locks that another thread held stay held forever
    d = _active
    if d is not None:
        d._lock = _thread.RLock()
        d.stripes[:] = [_thread.RLock() for _ in d.stripes]
        d.registry.after_fork_in_child()
        d.shadow.after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _nothing() -> None:
    pass


def active() -> Detector | None:
    """The started detector, if any."""
    return _active


class Detector:
    """A happens-before race detector for the threads of this process.

    Initial state: not recording.  ``start()`` makes :mod:`racefree.detector.runtime`
    record the accesses of instrumented code in every thread and intercepts the
    synchronization of ``threading``, ``queue``, ``concurrent.futures``, ``asyncio``
    hand-offs and :mod:`racefree.sync` (``concurrent.futures`` and ``asyncio`` when
    the program imports them, if it had not: see ``_DEFERRED``); ``stop()`` undoes
    all of it.  Also a context manager.

    ``mode`` is ``"python"`` (races that lose data although every bytecode is
    atomic: lost updates, check-then-act, iteration during mutation) or
    ``"strict"`` (Go's definition: two unordered accesses, at least one a write);
    see :mod:`racefree.detector.access` for the exact definitions and examples.

    Guarantees: accesses ordered by a happens-before edge the program relies on
    (thread start/join, lock release → acquire, event set → wait, queue put →
    get of that item, future done → result…) are never reported; the detector's
    own locks and the thread machinery's private ones create no edge; a race is
    reported once per (kind, location, pair of sites) with a count; the program's
    behaviour and output are unchanged (only slower).

    ``history_size`` bounds the shadow memory (locations remembered, oldest
    forgotten first: that can hide a race, never invent one).  ``stress=True``
    perturbs scheduling at instrumented writes, seeded by ``seed`` (a random one
    if None, then readable as :attr:`seed`), so lost updates happen under the
    GIL too.  ``lock_order`` (default True) also records the order in which
    threads take tracked locks and reports cycles as potential deadlocks
    (:meth:`deadlocks`, see :mod:`racefree.detector.lockorder`).

    Misuse: starting a second detector while one is active raises RuntimeError;
    a detector starts once (``stop`` is idempotent).  Not for: threads already
    running at ``start`` (seen without their start edge), processes; a lock
    created before ``start`` (``threading.Lock`` is a C factory, replaced only
    while recording) gives edges only where rewritten code takes it (see
    :mod:`racefree.detector.hb_rawlocks`), so start before importing the program.
    """

    def __init__(
        self,
        mode: Mode = "python",
        *,
        history_size: int = 1 << 16,
        stress: bool = False,
        seed: int | None = None,
        lock_order: bool = True,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be 'python' or 'strict', not {mode!r}")
        if history_size < 1:
            raise ValueError(f"history_size must be positive, not {history_size}")
        self.mode: Mode = mode
        self.history_size = history_size
        self.stress = stress
        if stress and seed is None:
            import random

            seed = random.SystemRandom().randrange(1 << 32)
        self.seed: int | None = seed
        self.gen = next(_generations)
        self.shadow = Shadow(history_size)
        self.registry = Registry()
        # potential deadlocks (lock-order inversions) among tracked locks; None when turned off
        self.lock_order: LockOrder | None = LockOrder(self) if lock_order else None
        self.tls = _thread._local()
        self.perturber = Perturber(seed or 0) if stress else None
        self.perturb: Any = self.perturber.perturb if self.perturber is not None else None
        # reentrant: a signal handler that synchronizes may interrupt the holder
        self._lock = _thread.RLock()
        self.stripes = [_thread.RLock() for _ in range(access.STRIPES)]  # cells' slow paths
        # by tid; a tid is reserved (None) when Thread.start() runs, so tids follow start order
        # guarded by _lock; never shrinks while the detector lives (the C fast path borrows entries)
        self._threads: list[ThreadState | None] = []
        self._hb_clocks: dict[object, SyncClock] = {}  # guarded by _lock
        self._hb_weak: weakref.WeakKeyDictionary[Any, dict[Any, SyncClock]] = (
            weakref.WeakKeyDictionary()
        )  # guarded by _lock
        # guarded by _activation (start/stop) and _deferred_lock (deferred patches)
        self._patches: list[tuple[Any, Patches]] = []
        # deferred patches (_DEFERRED): installed by the thread that imports their module
        self._deferred_lock = _allocate_lock()
        self._deferring = False  # guarded by _deferred_lock
        self._deferred_done: set[str] = set()  # guarded by _deferred_lock
        self._watch: ImportWatch | None = None
        self._previous_listener: _hb.HBListener | None = None
        self._attached = False
        self._switch_interval: float | None = None
        self._state = "new"  # "new" -> "started" -> "stopped"
        self.internal_errors = 0  # detector bugs swallowed so the program runs on (approximate count)
        # the fast path that records: "c" or "python", and why (see speedups.py)
        self.backend, self.backend_why = speedups.choose()
        # called in a thread just before its ThreadState is (re)made (the C fast path caches it)
        self.thread_state_changing: Callable[[], Any] = _nothing

    # ----------------------------------------------------------------- control

    def start(self) -> None:
        """Begin recording in every thread; RuntimeError if another detector is active."""
        global _active
        with _activation:
            if _active is not None:
                raise RuntimeError("another racefree Detector is already started; stop it first")
            if self._state != "new":
                raise RuntimeError("a Detector can be started only once; create a new one")
            self._state = "started"
            _active = self
            try:
                self.thread_state()
                build = functools.partial(containers.build, strict=self.mode == "strict")
                fast = speedups.accelerate(self, access.build(self), build)
                functions = fast.functions
                functions.update(hb_rawlocks.runtime_functions())
                clocks.use_join_into(fast.join_into)
                if fast.thread_state_changing is not None:
                    self.thread_state_changing = fast.thread_state_changing
                if fast.lock_events is not None:  # the C methods shadow the Python ones for this run
                    acquired, released = fast.lock_events
                    self.lock_acquired = acquired  # type: ignore[method-assign, assignment]
                    self.lock_released = released  # type: ignore[method-assign, assignment]
                if fast.clock_events is not None:
                    exchange, publish, absorb = fast.clock_events
                    self.acquire_release = exchange  # type: ignore[method-assign, assignment]
                    self.publish_clock = publish  # type: ignore[method-assign]
                    self.absorb_clock = absorb  # type: ignore[method-assign, assignment]
                for module in (hb_threading, hb_queue, hb_rawlocks):
                    self._patches.append((module, module.install(self)))
                self._start_deferred()
                self._previous_listener = _hb.attach(self)
                self._attached = True
                if self.stress:
                    self._switch_interval = sys.getswitchinterval()
                    sys.setswitchinterval(1e-6)
                runtime.install(functions)
                gc.callbacks.append(self.shadow.on_gc)  # what only the shadow holds goes at each collection
            except BaseException:
                self._undo()  # leave the process exactly as it was
                raise

    def stop(self) -> None:
        """Stop recording and undo every patch (idempotent); races found stay available."""
        with _activation:
            if self._state == "started":
                self._undo()
            self._state = "stopped"

    def _start_deferred(self) -> None:
        # the watch first, then what is already imported: a module imported in between is
        # seen by both, and installed once (_install_deferred is idempotent)
        with self._deferred_lock:
            self._deferring = True
        self._watch = ImportWatch({
            name: functools.partial(self._install_deferred, hb, True) for name, hb in _DEFERRED
        })
        self._watch.install()
        for name, hb in _DEFERRED:
            if name in sys.modules:
                self._install_deferred(hb, False)

    def _install_deferred(self, hb: str, from_import: bool) -> None:
        """Install the patches of ``racefree.detector.<hb>`` (its program module is imported).

        Runs in start() or in the thread that just imported the module (`from_import`):
        there a failure is counted as an internal error (the program's import must not
        fail), in start() it propagates.  No lock is held across the import, so a
        thread that is importing the module while start() waits for it can finish.
        """
        try:
            module = importlib.import_module(f"racefree.detector.{hb}")
            with self._deferred_lock:
                if not self._deferring or hb in self._deferred_done:
                    return
                self._patches.append((module, module.install(self)))
                self._deferred_done.add(hb)
        except Exception:
            if not from_import:
                raise
            self.internal_error()

    def _undo(self) -> None:
        global _active
        runtime.uninstall()
        if self._watch is not None:
            self._watch.uninstall()
            self._watch = None
        try:
            gc.callbacks.remove(self.shadow.on_gc)
        except ValueError:
            pass
        self.thread_state_changing = _nothing
        clocks.use_join_into(clocks.python_join_into)
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
            self._switch_interval = None
        if self._attached:
            _hb.detach(self._previous_listener)
            self._attached = False
        with self._deferred_lock:  # no deferred patch goes in after this
            self._deferring = False
            for module, patches in reversed(self._patches):
                module.uninstall(patches)
            self._patches = []
        _active = None
        self._state = "stopped"

    @property
    def started(self) -> bool:
        return self._state == "started"

    def __enter__(self) -> Detector:
        self.start()
        return self

    def __exit__(
        self, tp: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def races(self) -> list[Race]:
        """Every distinct race found so far, first seen first, counts up to date."""
        return self.registry.races()

    def take_new_races(self) -> list[Race]:
        """The distinct races first found since the previous call."""
        return self.registry.take_new()

    def deadlocks(self) -> list[Deadlock]:
        """Every potential deadlock (lock-order cycle) found so far; [] when ``lock_order=False``."""
        return self.lock_order.deadlocks() if self.lock_order is not None else []

    def take_new_deadlocks(self) -> list[Deadlock]:
        """The potential deadlocks first found since the previous call."""
        return self.lock_order.take_new() if self.lock_order is not None else []

    def internal_error(self) -> None:
        """Called when the detector itself failed while recording: count it, never raise."""
        self.internal_errors += 1

    def statistics(self) -> dict[str, Any]:
        """Counters for humans and benchmarks."""
        return {
            "mode": self.mode,
            "backend": self.backend,
            "threads": sum(1 for t in self._threads if t is not None),
            "cells": len(self.shadow),
            "evicted": self.shadow.evicted,
            "races": len(self.registry.order),
            "seed": self.seed,
            "stress_yields": self.perturber.yields() if self.perturber is not None else 0,
            "internal_errors": self.internal_errors,
        }

    def __repr__(self) -> str:
        return (
            f"<Detector mode={self.mode} {self._state} threads={len(self._threads)} cells={len(self.shadow)}>"
        )

    # ----------------------------------------------------------------- threads

    def _reserve_tid(self) -> int:
        with self._lock:
            self._threads.append(None)
            return len(self._threads) - 1

    def _new_thread_state(
        self, vc: list[int], name: str, thread: Any, created: tuple[Any, ...], tid: int | None = None
    ) -> ThreadState:
        if tid is None:
            tid = self._reserve_tid()
        ts = ThreadState(tid, vc, name, thread, created)
        self._threads[tid] = ts
        if self.stress:
            import random

            ts.rng = random.Random((self.seed or 0) * 1_000_003 + tid)
        self.thread_state_changing()
        self.tls.ts = ts
        return ts

    def thread_state(self) -> ThreadState:
        """The calling thread's state, created (with no history) the first time."""
        try:
            ts: ThreadState = self.tls.ts
            return ts
        except AttributeError:
            pass
        thread = _threads_by_ident.get(_get_ident())
        name = thread.name if thread is not None else f"thread-{_get_ident()}"
        return self._new_thread_state([], name, thread, ())

    def thread_starting(self, thread: threading.Thread) -> None:
        """``Thread.start`` (in the parent): the child inherits the parent's clock."""
        ts = self.thread_state()
        created = stacks.capture_user(1)  # made into report frames only if a report needs them
        _starts.set(thread, (self.gen, ts.vc.copy(), created, self._reserve_tid()))
        ts.tick()

    def thread_begin(self, thread: threading.Thread) -> None:
        """First step of a started thread (in the child)."""
        info = _starts.pop(thread)
        if info is not None and info[0] == self.gen:
            self._new_thread_state(info[1], thread.name, thread, info[2], info[3])
        else:
            self.thread_state()

    def thread_end(self, thread: threading.Thread) -> None:
        """Last step of a thread: publish its clock for ``join``."""
        ts = self.thread_state()
        clock = SyncClock(self.gen)
        clock.publish(ts)
        _ends.set(thread, clock)
        # let the Thread (its target, its arguments) go: reports name an ended thread by its last name
        ts.name = ts.display_name()
        ts.thread = None

    def thread_joined(self, thread: threading.Thread) -> None:
        clock = _ends.get(thread)
        ts = self.thread_state()
        if isinstance(clock, SyncClock) and clock.gen == self.gen:
            clock.absorb(ts)
        else:
            ts.tick()

    def thread_observed_ended(self, thread: threading.Thread) -> None:
        """``thread.is_alive()`` returned False: its end (if it ran) happens before the caller's future."""
        clock = _ends.get(thread)
        if isinstance(clock, SyncClock) and clock.gen == self.gen:
            clock.absorb(self.thread_state())

    def threads_not_listed(self, listed: list[threading.Thread]) -> None:
        """``threading.enumerate()`` returned `listed`: every ended thread not in it ends before."""
        present = {id(t) for t in listed}
        ts: ThreadState | None = None
        for thread, clock in _ends.items():
            if id(thread) not in present and isinstance(clock, SyncClock) and clock.gen == self.gen:
                if ts is None:
                    ts = self.thread_state()
                clock.absorb(ts)

    # --------------------------------------------------------- tracked locks

    def lock_acquired(self, lock: Any) -> None:
        """After a tracked lock's acquire (inlined SyncClock.absorb + tick: locks are hot)."""
        try:
            ts: ThreadState = self.tls.ts
        except AttributeError:
            ts = self.thread_state()
        clock = lock._clock
        tvc = ts.vc
        if clock is not None and clock.gen == self.gen and clock.vc is not None:
            last = clock.last
            t = last & MASK
            if not (last and t < len(tvc) and (last >> SHIFT) <= tvc[t]):
                clocks.join_into(tvc, clock.vc)
        c = ts.clock + 1
        ts.clock = tvc[ts.tid] = c
        ts.epoch = (c << SHIFT) | ts.tid

    def lock_released(self, lock: Any) -> None:
        """Before a tracked lock's release: its clock becomes the holder's (SyncClock.publish)."""
        try:
            ts: ThreadState = self.tls.ts
        except AttributeError:
            ts = self.thread_state()
        clock = lock._clock
        if clock is None or clock.gen != self.gen:
            clock = lock._clock = SyncClock(self.gen)
        tvc = ts.vc
        clock.vc = tvc.copy()
        clock.last = ts.epoch
        c = ts.clock + 1
        ts.clock = tvc[ts.tid] = c
        ts.epoch = (c << SHIFT) | ts.tid

    # ------------------------------------- clocks of program objects (side tables)

    def _object_clock(self, obj: Any, slot: str) -> SyncClock:
        """The clock `slot` of `obj`, kept off the object (caller holds ``_lock``)."""
        slots: dict[str, SyncClock] | None = _object_clocks.get(obj)
        if slots is None:
            slots = {}
            _object_clocks.set(obj, slots)  # every synchronizer the detector wraps has weak references
        clock = slots.get(slot)
        if clock is None or clock.gen != self.gen:
            clock = slots[slot] = SyncClock(self.gen)
        return clock

    def release_object(self, obj: Any, slot: str = "") -> None:
        """An accumulating release on `obj` (event set, semaphore release, future done…)."""
        ts = self.thread_state()
        with self._lock:
            self._object_clock(obj, slot).merge(ts)

    def acquire_object(self, obj: Any, slot: str = "") -> None:
        ts = self.thread_state()
        with self._lock:
            self._object_clock(obj, slot).absorb(ts)

    def move_object_clock(self, obj: Any, source: str, target: str) -> None:
        """``target := source; source := empty`` (a barrier generation completes)."""
        with self._lock:
            src = self._object_clock(obj, source)
            dst = self._object_clock(obj, target)
            dst.vc, dst.last = src.vc, src.last
            src.vc, src.last = None, 0

    def publish_clock(self) -> list[int]:
        """A copy of the calling thread's clock, as a release (for queue items)."""
        ts = self.thread_state()
        vc = ts.vc.copy()
        ts.tick()
        return vc

    def absorb_clock(self, vc: list[int] | None) -> None:
        """Acquire a clock obtained from :meth:`publish_clock`."""
        ts = self.thread_state()
        if vc is not None:
            clocks.join_into(ts.vc, vc)
        ts.tick()

    # ------------------------------------------------ racefree.sync (_hb listener)

    def _key_clock(self, key: object) -> SyncClock:
        """The clock of a racefree.sync key (caller holds ``_lock``).

        Keyed weakly by the primitive (a key is the primitive or ``(primitive,
        channel)``), so clocks go away with their primitives; a primitive that
        cannot be weakly referenced is kept strongly.
        """
        obj, channel = key if type(key) is tuple and len(key) == 2 else (key, None)
        # subscripts, not ``.get`` (which locks the dict on the free-threaded build)
        try:
            try:
                channels = self._hb_weak[obj]
            except KeyError:
                channels = self._hb_weak[obj] = {}
        except TypeError:  # not weakly referenceable (or unhashable: then use the id)
            strong_key = key if _hashable(key) else id(key)
            try:
                return self._hb_clocks[strong_key]
            except KeyError:
                clock = self._hb_clocks[strong_key] = SyncClock(self.gen)
                return clock
        try:
            return channels[channel]
        except KeyError:
            clock = channels[channel] = SyncClock(self.gen)
            return clock

    def _own_clock(self, obj: Any) -> SyncClock:
        """The clock a primitive carries itself (``_hb.OWN_CLOCK``), guarded by its own report lock."""
        clock = obj._hb_clock
        if clock is None or clock.gen != self.gen:
            clock = obj._hb_clock = SyncClock(self.gen)
        return clock  # type: ignore[no-any-return]

    def release(self, key: object) -> None:
        ts = self.thread_state()
        if getattr(type(key), _hb.OWN_CLOCK, False):
            self._own_clock(key).merge(ts)
            return
        with self._lock:
            self._key_clock(key).merge(ts)

    def acquire(self, key: object) -> None:
        ts = self.thread_state()
        if getattr(type(key), _hb.OWN_CLOCK, False):
            self._own_clock(key).absorb(ts)
            return
        with self._lock:
            self._key_clock(key).absorb(ts)

    def acquire_release(self, key: object) -> None:
        ts = self.thread_state()
        if getattr(type(key), _hb.OWN_CLOCK, False):  # an atomic: no shared lock, no table
            self._own_clock(key).exchange(ts)
            return
        with self._lock:
            self._key_clock(key).exchange(ts)


def _hashable(key: object) -> bool:
    try:
        hash(key)
    except TypeError:
        return False
    return True
