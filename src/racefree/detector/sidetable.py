"""Values the detector attaches to program objects without touching them.

The program must not see its observer (``dir``, ``vars``, ``__dict__``,
pickling, ``copy``, equality, ``repr``), so clocks of threads, events,
semaphores, queues and futures live here, not on the objects: a
:class:`SideTable` is keyed by ``id`` (never calling the object's ``__hash__``
or ``__eq__``) and an entry is dropped by a weakref callback when its object
dies, so it keeps nothing alive and a reused ``id`` never finds an old value.

Invariants (true with and without the GIL): an entry's weak reference is
checked to point at the object on every read (``ref() is obj``); the callback
runs while the object is being freed, before its address can be reused; every
dict operation is one atomic step (a subscript, ``pop``, or a store), callers
serialize read-modify-write sequences themselves (the detector's lock, a
queue's mutex).
"""

from __future__ import annotations

import weakref
from typing import Any

__all__ = ["SideTable"]

_MISSING: Any = object()


class _Ref(weakref.ref):  # type: ignore[type-arg]
    __slots__ = ("key",)
    key: int


class SideTable:
    """A weak, identity-keyed map from live objects to values.

    An object that cannot be weakly referenced (``__slots__`` without
    ``__weakref__``) is not stored: :meth:`set` returns False and the caller
    goes without (never a strong reference that would keep it alive).
    """

    __slots__ = ("__weakref__", "_drop", "_entries")

    def __init__(self) -> None:
        self._entries: dict[int, tuple[_Ref, Any]] = {}
        entries = self._entries

        def drop(ref: _Ref) -> None:
            # only this object's entry: a later set() for the same live object reuses its ref
            try:
                if entries[ref.key][0] is ref:
                    del entries[ref.key]
            except KeyError:
                pass

        self._drop = drop

    def get(self, obj: object, default: Any = None) -> Any:
        """The value attached to `obj`, or `default`."""
        try:
            ref, value = self._entries[id(obj)]
        except KeyError:
            return default
        return value if ref() is obj else default

    def set(self, obj: object, value: Any) -> bool:
        """Attach `value` to `obj` (replacing any); False if `obj` cannot be weakly referenced."""
        key = id(obj)
        try:
            ref = self._entries[key][0]
        except KeyError:
            ref = None
        if ref is None or ref() is not obj:
            try:
                ref = _Ref(obj, self._drop)
            except TypeError:
                return False
            ref.key = key
        self._entries[key] = (ref, value)
        return True

    def setdefault(self, obj: object, value: Any) -> Any:
        """The value attached to `obj`, attaching `value` first if there is none."""
        found = self.get(obj, _MISSING)
        if found is not _MISSING:
            return found
        self.set(obj, value)
        return value

    def pop(self, obj: object, default: Any = None) -> Any:
        """Detach and return the value attached to `obj` (or `default`)."""
        key = id(obj)
        try:
            ref, value = self._entries[key]
        except KeyError:
            return default
        if ref() is not obj:
            return default
        try:
            del self._entries[key]
        except KeyError:
            return default
        return value

    def items(self) -> list[tuple[Any, Any]]:
        """A snapshot of the live ``(object, value)`` pairs."""
        out = []
        for ref, value in list(self._entries.values()):
            obj = ref()
            if obj is not None:
                out.append((obj, value))
        return out

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<SideTable of {len(self._entries)} objects>"
