"""The functions instrumented code calls (see ``events.RUNTIME_API``).

Rewritten modules import this module once and call :func:`bind` with their
globals: the functions named in ``events.BOUND_NAMES`` are then globals of the
module itself (``_@rf:read``...), so a call costs one global load, not a
module attribute lookup (which 3.13t does not specialise, on a module dict every
thread shares).  While no detector records, they are the cheap no-ops below;
:func:`install` (``Detector.start``, and ``--confirm``'s scheduler over it)
rebinds them, here and in every bound namespace, and :func:`uninstall`
(``Detector.stop``) puts the no-ops back.  So the cost while stopped is one call
of an empty function, and while recording there is no extra indirection.

A bound namespace is reached through a :class:`_Binding` it holds (under
``events.BOUND_PREFIX``), kept here in a weak set: a module the program drops
is not kept alive.

Invariants: the bindings change only in :func:`install` / :func:`uninstall`,
called by :class:`~racefree.detector.engine.Detector` under its activation
lock; ``_lock`` serializes them with :func:`bind` (so a namespace bound while
the detector starts gets the new functions either way) and guards ``_bindings``;
a call that loaded the old binding just before a change finishes with it (a
recording function of a stopped detector is harmless).
"""

from __future__ import annotations

import _thread
import weakref
from collections.abc import Callable, MutableMapping
from typing import Any

from racefree.detector.events import BOUND_NAMES, BOUND_PREFIX

__all__ = [
    "bind", "call", "cells", "contains", "delitem", "entering", "getitem", "iterate", "lockcall", "read",
    "setitem", "write",
]


def read(kind: int, container: Any, key: Any, site: tuple[Any, ...]) -> None:
    """Before a load of the location ``(kind, container, key)``."""


def write(kind: int, container: Any, key: Any, site: tuple[Any, ...]) -> None:
    """Before a store or delete of the location."""


def getitem(container: Any, key: Any, site: tuple[Any, ...]) -> None:
    """Before ``container[key]`` is loaded."""


def setitem(container: Any, key: Any, site: tuple[Any, ...]) -> None:
    """Before ``container[key] = value``."""


def delitem(container: Any, key: Any, site: tuple[Any, ...]) -> None:
    """Before ``del container[key]``."""


def contains(container: Any, key: Any, site: tuple[Any, ...]) -> None:
    """Before ``key in container``."""


def iterate(container: Any, site: tuple[Any, ...]) -> Any:
    """Wraps the iterable of ``for`` and comprehensions; returns it unchanged."""
    return container


def call(func: Any, site: tuple[Any, ...], /, *args: Any, **kwargs: Any) -> Any:
    """``func(*args, **kwargs)``; records what it accesses when it is a tracked builtin or method."""
    return func(*args, **kwargs)


def entering(obj: Any) -> Any:
    """The context manager of ``with obj:`` (`obj`; a raw lock gets its edges, see hb_rawlocks)."""
    return obj


def lockcall(method: Any) -> Any:
    """What ``x.acquire(...)``/``x.release()`` calls: `method` (a raw lock's gets its edges: hb_rawlocks)."""
    return method


def cells(closure_fn: Any) -> tuple[Any, ...]:
    """The closure cells of `closure_fn` (a ``lambda`` naming the nonlocal variables)."""
    return closure_fn.__closure__ or ()


_NAMES = BOUND_NAMES
_NOOPS: dict[str, Callable[..., Any]] = {name: globals()[name] for name in _NAMES}


class _Binding:
    """What a bound namespace holds so that :func:`install` can reach it while it lives."""

    __slots__ = ("__weakref__", "namespace")

    def __init__(self, namespace: MutableMapping[str, Any]) -> None:
        self.namespace = namespace


_lock = _thread.allocate_lock()
_bindings: weakref.WeakSet[_Binding] = weakref.WeakSet()  # guarded by _lock


def _bound(functions: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    return {BOUND_PREFIX + name: functions[name] for name in _NAMES}


def bind(namespace: MutableMapping[str, Any]) -> None:
    """Give a rewritten module's globals the functions bound now, and keep them current.

    Idempotent (interactive code binds once per statement).  A handle copied
    from another namespace is replaced by one of this namespace.
    """
    with _lock:
        namespace.update(_bound(current()))
        handle = namespace.get(BOUND_PREFIX)
        if not (isinstance(handle, _Binding) and handle.namespace is namespace):
            handle = namespace[BOUND_PREFIX] = _Binding(namespace)
            _bindings.add(handle)


def _rebind(functions: dict[str, Callable[..., Any]]) -> None:
    with _lock:
        globals().update({name: functions[name] for name in _NAMES})
        bound = _bound(functions)
        for handle in list(_bindings):
            handle.namespace.update(bound)


def install(functions: dict[str, Callable[..., Any]]) -> None:
    """Make the runtime functions record (called by ``Detector.start``), everywhere they are bound."""
    missing = set(_NAMES) - set(functions)
    if missing:
        raise ValueError(f"runtime functions missing: {sorted(missing)}")
    _rebind(functions)


def current() -> dict[str, Callable[..., Any]]:
    """The functions bound now (a wrapper, such as ``--confirm``'s scheduler, installs over them)."""
    return {name: globals()[name] for name in _NAMES}


def uninstall() -> None:
    """Back to the no-ops (called by ``Detector.stop``)."""
    _rebind(_NOOPS)


def recording() -> bool:
    """Whether a detector is recording through this module."""
    return globals()["read"] is not _NOOPS["read"]
