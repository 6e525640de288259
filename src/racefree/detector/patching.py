"""Symmetric monkey-patching of the standard library's synchronization API.

A :class:`Patches` records every ``setattr`` it makes with the value it
replaced and restores them in reverse order, so ``install``/``uninstall`` are
exact inverses.  :func:`internal_caller` decides whether an object is being
created by the thread machinery itself (whose private locks and events must
never create happens-before edges) or by the program.

Invariants: a Patches object is used by one thread at a time (the detector's
start/stop, serialized by the engine's activation lock).
"""

from __future__ import annotations

import sys
from typing import Any

_getframe = sys._getframe
_missing = object()

# modules whose own locks, conditions, events and semaphores are bookkeeping, not program synchronization
INTERNAL_MODULES = frozenset({
    "threading", "queue", "concurrent.futures", "concurrent.futures.thread", "concurrent.futures._base",
    "concurrent.futures.process", "functools", "_threading_local", "importlib._bootstrap",
    "multiprocessing.pool", "multiprocessing.queues",
})
INTERNAL_PREFIXES = ("racefree.detector", "racefree.sync")


def internal_caller(depth: int) -> bool:
    """Whether the frame `depth` levels above the caller belongs to thread machinery."""
    try:
        name = _getframe(depth + 1).f_globals["__name__"]  # not .get: see access.build
    except (ValueError, KeyError):
        return False
    if not isinstance(name, str):
        return False
    return name in INTERNAL_MODULES or name.startswith(INTERNAL_PREFIXES)


class Patches:
    """A reversible set of attribute replacements."""

    def __init__(self) -> None:
        self._done: list[tuple[Any, str, Any]] = []

    def set(self, owner: Any, name: str, value: Any) -> Any:
        """Replace ``owner.name`` by `value`; returns the original (None if there was none)."""
        if isinstance(owner, type):
            old = owner.__dict__.get(name, _missing)
        else:
            old = getattr(owner, name, _missing)
        self._done.append((owner, name, old))
        setattr(owner, name, value)
        return None if old is _missing else old

    def restore(self) -> None:
        while self._done:
            owner, name, old = self._done.pop()
            if old is _missing:
                try:
                    delattr(owner, name)
                except AttributeError:
                    pass
            else:
                setattr(owner, name, old)

    def __len__(self) -> int:
        return len(self._done)
