"""Whether a container only the detector's holds keep alive is garbage: trial deletion.

The shadow (:mod:`racefree.detector.shadow`) holds the containers that cannot be
weakly referenced (dict, list, bytearray) through :class:`_Hold` objects.  A
container the program dropped is then kept alive by its hold alone, or by its hold
and a garbage cycle it is part of (a self-referencing list, a dict and the objects
that point back to it); :func:`garbage_cycle` recognizes the second case the way
CPython's cycle collector does, on a bounded set of objects, so the hold can let go
and the collection that would free the cycle without the detector frees it.

Holds no shared state; called under ``Shadow.lock``.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Hashable
from types import BuiltinFunctionType, CodeType, FrameType, FunctionType, ModuleType
from typing import Any

_getrefcount = sys.getrefcount
_get_referents = gc.get_referents
_is_tracked = gc.is_tracked
CYCLE_LIMIT = 256  # objects a garbage-cycle check looks at before it assumes the container is alive
# referents never followed (treated as alive): following them reaches whole modules
_BOUNDARY = frozenset({ModuleType, FunctionType, BuiltinFunctionType, CodeType, FrameType})


class _Hold:
    """The strong reference to a container without weak references, shared by its cells.

    Called like a weak reference: the container, or None once the sweep released it.
    ``keys``: the keys of its cells (None when more than ``shadow.HOLD_KEYS``, or released).
    """

    __slots__ = ("ident", "keys", "obj")

    def __init__(self, obj: Any) -> None:
        self.obj = obj
        self.ident = id(obj)
        self.keys: list[Hashable] | None = []

    def __call__(self) -> Any:
        return self.obj


def garbage_cycle(hold: _Hold, anchors: dict[int, _Hold], budget: list[int]) -> list[_Hold] | None:
    """The holds to release if `hold`'s container is in garbage only the holds keep, else None.

    Trial deletion (as the cycle collector does) over the objects reachable from the
    container, at most CYCLE_LIMIT of them: each one's references must all come from
    inside that set or from a hold.  A wrong answer (another thread changing
    references meanwhile) only loses history: a released hold's cells are never
    matched to a container again.
    """
    members: dict[int, Any] = {hold.ident: hold.obj}
    inner: dict[int, int] = {}
    todo = list(members.values())
    while todo:
        budget[0] -= 1
        for r in _get_referents(todo.pop()):
            if not _is_tracked(r) or type(r) in _BOUNDARY or isinstance(r, type):
                continue  # atomic values lead nowhere; classes, modules, functions: alive
            i = id(r)
            try:
                inner[i] += 1
            except KeyError:
                inner[i] = 1
            if i not in members:
                if len(members) >= CYCLE_LIMIT:
                    return None
                members[i] = r
                todo.append(r)
        r = None
    if inner.get(hold.ident, 0) == 0:
        return None  # not in a cycle: its other references come from outside
    found = []
    for i in list(members):  # (an items() iterator would keep a reference in its result tuple)
        m = members[i]
        try:
            h: _Hold | None = anchors[i]
        except KeyError:
            h = None
        held = h is not None and h.obj is m
        # references: `members`, `m`, getrefcount's argument, a hold's, the set's own
        if _getrefcount(m) - 3 - held - inner.get(i, 0) > 0:
            return None
        if h is not None and held:
            found.append(h)
    return found
