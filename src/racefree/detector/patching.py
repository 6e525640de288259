"""Symmetric monkey-patching of the standard library's synchronization API.

A :class:`Patches` records every ``setattr`` it makes with the value it
replaced and restores them in reverse order, so ``install``/``uninstall`` are
exact inverses.  :func:`internal_caller` decides whether an object is being
created by the thread machinery itself (whose private locks and events must
never create happens-before edges) or by the program.

An :class:`ImportWatch` lets patches of a module wait until the program imports
it (``asyncio``, ``concurrent.futures``): a run that never uses them never pays
for importing them.

Invariants: a Patches object is used by one thread at a time (the detector's
start/stop, serialized by the engine's activation lock).
"""

from __future__ import annotations

import _thread
import sys
from collections.abc import Callable
from importlib.machinery import ModuleSpec
from types import ModuleType
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


class _ChainedLoader:
    """Runs the real loader, then the callback; the module keeps the real loader as its own."""

    def __init__(self, loader: Any, callback: Callable[[], None]) -> None:
        self.loader = loader
        self.callback = callback

    def _own(self, module: ModuleType) -> None:
        # the program must not see the watcher: the module's loader is the one that loaded it
        module.__loader__ = self.loader
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:
            spec.loader = self.loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        create = getattr(self.loader, "create_module", None)
        return None if create is None else create(spec)

    def __getattr__(self, name: str) -> Any:  # anything else the import system asks of the loader
        if name == "loader":
            raise AttributeError(name)
        return getattr(self.loader, name)

    def exec_module(self, module: ModuleType) -> None:
        self._own(module)
        self.loader.exec_module(module)
        self.callback()


class ImportWatch:
    """A ``sys.meta_path`` finder that calls ``callbacks[name]()`` right after module `name` is imported.

    It finds nothing itself: it asks the finders behind it and wraps the loader
    of the spec they return (the module's ``__loader__`` and ``__spec__.loader``
    stay the real one).  A watched module already imported when the watch is
    installed is the caller's business (see :meth:`Detector.start`).  Patches
    installed by a callback before the import returns are in place before any
    code of the importer (or of another thread, which waits on the module's import
    lock) can use the module.  ``install``/``uninstall`` are symmetric; the
    callbacks never change after construction.
    """

    def __init__(self, callbacks: dict[str, Callable[[], None]]) -> None:
        self._callbacks = dict(callbacks)
        self._busy = _thread._local()  # .active: this thread is searching the other finders

    def find_spec(self, name: str, path: Any = None, target: ModuleType | None = None) -> ModuleSpec | None:
        callback = self._callbacks.get(name)
        if callback is None or getattr(self._busy, "active", False):
            return None
        self._busy.active = True
        try:
            for finder in list(sys.meta_path):
                find = getattr(finder, "find_spec", None)
                if finder is self or find is None:
                    continue
                spec: ModuleSpec | None = find(name, path, target)
                if spec is not None:
                    break
            else:
                return None
        finally:
            self._busy.active = False
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec  # a namespace package or a legacy loader: the import runs unwatched
        spec.loader = _ChainedLoader(spec.loader, callback)  # type: ignore[assignment]
        return spec

    def install(self) -> None:
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        while self in sys.meta_path:
            sys.meta_path.remove(self)
