"""Happens-before edges of :mod:`concurrent.futures` (thread pools).

* ``submit`` → the task's start: the pool's work queue is a ``queue.SimpleQueue``
  created while recording, so put → get of the work item gives the edge
  (see :mod:`racefree.detector.hb_queue`);
* the task's end → ``Future.result()``/``exception()`` returning, and the
  futures ``wait()`` reports done or ``as_completed()`` yields (``Executor.map``
  goes through ``result()``);
* ``shutdown(wait=True)`` joins the workers: ``Thread.join`` edges.

The futures' internal conditions and the executor's idle semaphore are
bookkeeping made inside ``concurrent.futures`` and give no edge.

Invariants: ``_hooks`` changes only in :func:`install`/:func:`uninstall`.
"""

from __future__ import annotations

# (as a name: this module may be imported while concurrent.futures itself finishes importing,
# before ``concurrent.futures`` is an attribute of ``concurrent``, see engine._DEFERRED)
import concurrent.futures as _futures
import concurrent.futures._base as _base
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from racefree.detector.patching import Patches

if TYPE_CHECKING:
    from racefree.detector.faces import SyncRecorder

_hooks: SyncRecorder | None = None
_Future = _base.Future
_orig: dict[str, Any] = {}


def _set_result(self: _base.Future[Any], result: Any) -> None:
    h = _hooks
    if h is not None:
        h.release_object(self, "done")
    _orig["set_result"](self, result)


def _set_exception(self: _base.Future[Any], exception: BaseException | None) -> None:
    h = _hooks
    if h is not None:
        h.release_object(self, "done")
    _orig["set_exception"](self, exception)


def _finished(future: Any) -> None:
    h = _hooks
    if h is not None and future.done():
        h.acquire_object(future, "done")


def _result(self: _base.Future[Any], timeout: float | None = None) -> Any:
    try:
        return _orig["result"](self, timeout)
    finally:
        _finished(self)


def _exception(self: _base.Future[Any], timeout: float | None = None) -> BaseException | None:
    try:
        exc: BaseException | None = _orig["exception"](self, timeout)
        return exc
    finally:
        _finished(self)


def _wait(fs: Iterable[Any], timeout: float | None = None, return_when: str = _base.ALL_COMPLETED) -> Any:
    result = _orig["wait"](fs, timeout, return_when)
    for f in result.done:
        _finished(f)
    return result


def _as_completed(fs: Iterable[Any], timeout: float | None = None) -> Iterator[Any]:
    for f in _orig["as_completed"](fs, timeout):
        _finished(f)
        yield f


def install(detector: SyncRecorder) -> Patches:
    global _hooks
    p = Patches()
    for name, fn in (
        ("set_result", _set_result), ("set_exception", _set_exception),
        ("result", _result), ("exception", _exception),
    ):
        _orig.setdefault(name, _Future.__dict__[name])
        p.set(_Future, name, fn)
    _orig.setdefault("wait", _base.wait)
    _orig.setdefault("as_completed", _base.as_completed)
    for module in (_base, _futures):
        p.set(module, "wait", _wait)
        p.set(module, "as_completed", _as_completed)
    _hooks = detector
    return p


def uninstall(patches: Patches) -> None:
    global _hooks
    _hooks = None
    patches.restore()
