"""The functions instrumented code calls (see ``events.RUNTIME_API``).

Rewritten modules import this module once and call its functions *as module
attributes* (``@rf.read(...)``): while no detector records, they are the cheap
no-ops below; :meth:`Detector.start` rebinds them to the detector's recording
functions and :meth:`Detector.stop` puts the no-ops back.  So the cost while
stopped is one call of an empty function, and while recording there is no
extra indirection.

Invariants: the bindings change only in :func:`install` / :func:`uninstall`,
called by :class:`~racefree.detector.engine.Detector` under its activation
lock; a call that loaded the old binding just before a change finishes with it
(a recording function of a stopped detector is harmless).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "call", "cells", "contains", "delitem", "entering", "getitem", "iterate", "lockcall", "read", "setitem",
    "write",
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


_NAMES = (
    "read", "write", "getitem", "setitem", "delitem", "contains", "iterate", "call", "entering", "lockcall",
)
_NOOPS: dict[str, Callable[..., Any]] = {name: globals()[name] for name in _NAMES}


def install(functions: dict[str, Callable[..., Any]]) -> None:
    """Make the module's functions record (called by ``Detector.start``)."""
    missing = set(_NAMES) - set(functions)
    if missing:
        raise ValueError(f"runtime functions missing: {sorted(missing)}")
    globals().update({name: functions[name] for name in _NAMES})


def current() -> dict[str, Callable[..., Any]]:
    """The functions bound now (a wrapper, such as ``--confirm``'s scheduler, installs over them)."""
    return {name: globals()[name] for name in _NAMES}


def uninstall() -> None:
    """Back to the no-ops (called by ``Detector.stop``)."""
    globals().update(_NOOPS)


def recording() -> bool:
    """Whether a detector is recording through this module."""
    return globals()["read"] is not _NOOPS["read"]
