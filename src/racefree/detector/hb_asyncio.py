"""Happens-before edges of hand-offs to an :mod:`asyncio` event loop from another thread.

=================================================  =====================================
operation                                          edge
=================================================  =====================================
``loop.call_soon_threadsafe(cb)``                  the caller's past → ``cb``'s run
``asyncio.run_coroutine_threadsafe(coro, loop)``   the caller's past → the coroutine's
                                                   start (a ``call_soon_threadsafe``);
                                                   its end → the concurrent future's
                                                   ``result()`` (see hb_futures)
``loop.run_in_executor(ex, fn)``                   ``submit`` → ``fn``; ``fn``'s end →
                                                   the awaiting side (the executor's
                                                   future is copied into the loop's
                                                   future by ``result()``: hb_futures)
=================================================  =====================================

An event loop's thread runs the callbacks of many hand-offs one after the other:
each hand-off carries its own clock (taken by the caller, kept for the one
:class:`asyncio.Handle` it created, off the handle, in a weak side table), and
only that handle's run absorbs it.  There is no clock of the loop itself, so two
threads that hand callbacks to one loop are not ordered with each other by it.

The handle is made and queued inside ``call_soon_threadsafe``, and the loop may
run it before that call returns: so the caller's clock is handed to the first
``Handle`` its thread creates inside the call (a per-thread slot that
``Handle.__init__`` empties), before the loop can see it.

Invariants: ``_hooks`` changes only in :func:`install`/:func:`uninstall`;
``_pending.vc`` is written and read by its own thread only; a handle's entry in
``_handoffs`` is set before the handle is queued and popped by the thread that
runs it.
"""

from __future__ import annotations

import _thread
import asyncio
import asyncio.base_events
import asyncio.events
from typing import TYPE_CHECKING, Any

from racefree.detector.patching import Patches
from racefree.detector.sidetable import SideTable

if TYPE_CHECKING:
    from racefree.detector.faces import SyncRecorder

_hooks: SyncRecorder | None = None
_orig: dict[str, Any] = {}
_pending: Any = _thread._local()  # .vc: the clock for the next Handle this thread creates
_handoffs = SideTable()  # Handle -> the clock of the thread that handed it over
_Handle = asyncio.events.Handle
_BaseEventLoop = asyncio.base_events.BaseEventLoop


def _call_soon_threadsafe(self: Any, callback: Any, *args: Any, **kwargs: Any) -> Any:
    h = _hooks
    if h is None:
        return _orig["call_soon_threadsafe"](self, callback, *args, **kwargs)
    _pending.vc = h.publish_clock()
    try:
        return _orig["call_soon_threadsafe"](self, callback, *args, **kwargs)
    finally:
        _pending.vc = None


def _handle_init(self: Any, *args: Any, **kwargs: Any) -> None:
    _orig["Handle.__init__"](self, *args, **kwargs)
    try:
        vc = _pending.vc
    except AttributeError:
        return
    if vc is not None:
        _pending.vc = None
        _handoffs.set(self, vc)


def _handle_run(self: Any) -> None:
    vc = _handoffs.pop(self)
    if vc is not None:
        h = _hooks
        if h is not None:
            h.absorb_clock(vc)
    _orig["Handle._run"](self)


def install(detector: SyncRecorder) -> Patches:
    global _hooks
    p = Patches()
    for key, owner, name, fn in (
        ("call_soon_threadsafe", _BaseEventLoop, "call_soon_threadsafe", _call_soon_threadsafe),
        ("Handle.__init__", _Handle, "__init__", _handle_init),
        ("Handle._run", _Handle, "_run", _handle_run),
    ):
        _orig.setdefault(key, owner.__dict__[name])
        p.set(owner, name, fn)
    _hooks = detector
    return p


def uninstall(patches: Patches) -> None:
    global _hooks
    _hooks = None
    patches.restore()
