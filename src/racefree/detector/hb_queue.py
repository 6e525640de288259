"""Happens-before edges of :mod:`queue`: ``put`` of an item → the ``get`` of that item.

A queue's own mutex and conditions are raw locks (created by ``queue``, see
:func:`racefree.detector.patching.internal_caller`), so they give no edge: a
``get`` is ordered only after the ``put`` of the item it returns, as with a Go
channel, and ``task_done`` → a ``join`` that returns.

``Queue``, ``LifoQueue`` and ``PriorityQueue`` are wrapped at their ``_put``/
``_get`` hooks, which run under the queue's mutex: the putter's clock is kept
in a table keyed by the item's ``id`` (the item is alive while queued), itself
kept off the queue (a weak side table: ``dir``/``vars``/pickling see nothing),
FIFO per id, so the getter absorbs the clock of the put that stored what it got.
``queue.SimpleQueue`` (a C type without hooks) is replaced, while a detector
records, by a subclass that carries the clock next to the item inside the queue.

Lock order (never an edge): ``put`` and ``get`` hold the queue's ``mutex`` while
they call ``_put``/``_get`` (which a subclass may override to take a lock of its
own), and a thread that calls them while holding a lock waits for the mutex.
So, when the detector keeps a lock-order graph, ``put``/``get`` count as holding
the mutex's stand-in (see :mod:`racefree.detector.hb_rawlocks`, the same node as
a ``with q.mutex:`` in instrumented code): a real inversion between the mutex
and a program lock is reported, while the mutex still gives no happens-before
edge.

Invariants: a queue's side table is touched only under that queue's mutex; a
SimpleQueue's tagged items are unwrapped by ``get`` even after ``stop``.
"""

from __future__ import annotations

import _thread
import functools
import queue
from collections.abc import Callable
from sys import _getframe
from typing import TYPE_CHECKING, Any

from racefree.detector import speedups
from racefree.detector.hb_rawlocks import stand_in, stands
from racefree.detector.patching import Patches
from racefree.detector.sidetable import SideTable

if TYPE_CHECKING:
    from racefree.detector.faces import SyncRecorder
    from racefree.detector.lockorder import LockOrder

_hooks: SyncRecorder | None = None
_order: LockOrder | None = None  # the started detector's lock-order graph, if it keeps one
_held: Any = _thread._local()  # _order.tls (its .held: the calling thread's held locks), as in hb_threading
_held_gen = 0  # bumped whenever _held changes (see hb_threading)
_stands = stands  # hb_rawlocks' raw lock -> stand-in table, read by the C put/get (_speedups.HoldingMethod)
_RawSimpleQueue: Any = queue.SimpleQueue
_RawLock: Any = _thread.LockType
_orig: dict[str, Any] = {}
_sides = SideTable()  # queue -> (gen, {id(item): [putter clocks, FIFO]}): off the queue (issue 9)


def _side(q: Any, gen: int) -> dict[int, list[list[int]]]:
    side = _sides.get(q)
    if side is None or side[0] != gen:
        side = (gen, {})
        _sides.set(q, side)
    table: dict[int, list[list[int]]] = side[1]
    return table


def _wrap_put(original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def _put(self: Any, item: Any) -> None:
        h = _hooks
        if h is not None:
            table = _side(self, h.gen)
            vc = h.publish_clock()
            key = id(item)
            if key in table:  # rarely (one object queued twice): a miss raising KeyError costs more
                table[key].append(vc)
            else:
                table[key] = [vc]
        original(self, item)

    return _put


def _wrap_get(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def _get(self: Any) -> Any:
        item = original(self)
        h = _hooks
        if h is not None:
            table = _side(self, h.gen)
            try:
                clocks = table[id(item)]
            except KeyError:
                clocks = None
            vc = None
            if clocks:
                vc = clocks.pop(0)
                if not clocks:
                    del table[id(item)]
            h.absorb_clock(vc)
        return item

    return _get


def _task_done(self: queue.Queue[Any]) -> None:
    h = _hooks
    if h is not None:
        h.release_object(self, "tasks")
    _orig["task_done"](self)


def _join(self: queue.Queue[Any]) -> None:
    _orig["join"](self)
    h = _hooks
    if h is not None:
        h.acquire_object(self, "tasks")


def _holding_mutex(name: str) -> Callable[..., Any]:
    original = queue.Queue.__dict__[name]

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        o = _order
        mutex = getattr(self, "mutex", None)
        if o is None or type(mutex) is not _RawLock:
            return original(self, *args, **kwargs)
        stand = stand_in(mutex)
        o.acquired(stand, _getframe(1), True)  # lock order only: no clock, no edge
        try:
            return original(self, *args, **kwargs)
        finally:
            o.released(stand)

    functools.update_wrapper(method, original)  # name, doc, signature (through __wrapped__)
    return method


class _Tagged:
    __slots__ = ("gen", "item", "vc")

    def __init__(self, item: Any, gen: int, vc: list[int]) -> None:
        self.item = item
        self.gen = gen
        self.vc = vc


class SimpleQueue(_RawSimpleQueue):  # type: ignore[misc]
    """``queue.SimpleQueue`` while a detector records: ``put`` → the ``get`` of that item."""

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        h = _hooks
        if h is not None:
            item = _Tagged(item, h.gen, h.publish_clock())
        super().put(item, block, timeout)

    def put_nowait(self, item: Any) -> None:
        self.put(item, False)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        item = super().get(block, timeout)
        if type(item) is _Tagged:
            h = _hooks
            if h is not None and item.gen == h.gen:
                h.absorb_clock(item.vc)
            return item.item
        return item

    def get_nowait(self) -> Any:
        return self.get(False)


SimpleQueue.__name__ = SimpleQueue.__qualname__ = "SimpleQueue"
SimpleQueue.__module__ = "queue"


def install(detector: SyncRecorder) -> Patches:
    global _hooks, _order, _held, _held_gen
    p = Patches()
    for cls in (queue.Queue, queue.LifoQueue, queue.PriorityQueue):
        for name, wrap in (("_put", _wrap_put), ("_get", _wrap_get)):
            original = cls.__dict__[name]
            p.set(cls, name, wrap(original))
    _orig.setdefault("task_done", queue.Queue.__dict__["task_done"])
    _orig.setdefault("join", queue.Queue.__dict__["join"])
    p.set(queue.Queue, "task_done", _task_done)
    p.set(queue.Queue, "join", _join)
    backend = getattr(detector, "backend", "python")
    for name in ("put", "get"):
        # the same steps in C on the C back-end (the Python wrapper above stays the reference)
        in_c = speedups.holding_method(backend, queue.Queue.__dict__[name], globals())
        p.set(queue.Queue, name, in_c if in_c is not None else _holding_mutex(name))
    p.set(queue, "SimpleQueue", SimpleQueue)
    _order = getattr(detector, "lock_order", None)
    _held = _order.tls if _order is not None else _thread._local()
    _held_gen += 1
    _hooks = detector
    return p


def uninstall(patches: Patches) -> None:
    global _hooks, _order, _held, _held_gen
    _hooks = None
    _order = None
    _held = _thread._local()
    _held_gen += 1
    patches.restore()
