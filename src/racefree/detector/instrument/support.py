"""Helpers for rewritten code where hidden temporaries cannot be used.

In function bodies the rewriter evaluates a sub-expression once by binding it to
a hidden local (``(@rf3 := f()).x``).  Comprehensions, class bodies and module
level code cannot use such temporaries safely (a comprehension's walrus target
leaks into the enclosing function and is shared by a lazily consumed generator;
names bound in a class body become class attributes — or ``Enum`` members), so
there the rewriter calls these helpers instead: each takes the runtime recorder
first (so the same rewritten code works with any runtime module), evaluates its
arguments in Python's order, records, then performs the operation.

They hold no state.  Their frames are the detector's own: reports and the
runner's tracebacks leave out every frame from the ``racefree`` package.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from itertools import islice
from typing import Any

from racefree.detector.events import ATTR, SIZE

Recorder = Callable[..., None]


def load_attr(read: Recorder, obj: Any, name: str, site: tuple[Any, ...]) -> Any:
    """``obj.name``, recorded as a read of ATTR(obj, name)."""
    read(ATTR, obj, name, site)
    return getattr(obj, name)


def store_attr(write: Recorder, value: Any, obj: Any, name: str, site: tuple[Any, ...]) -> None:
    """``obj.name = value`` (value evaluated first, as Python does)."""
    write(ATTR, obj, name, site)
    setattr(obj, name, value)


def del_attr(write: Recorder, obj: Any, name: str, site: tuple[Any, ...]) -> None:
    """``del obj.name``."""
    write(ATTR, obj, name, site)
    delattr(obj, name)


def load_item(getitem: Recorder, obj: Any, key: Any, site: tuple[Any, ...]) -> Any:
    """``obj[key]``, recorded by ``runtime.getitem``."""
    getitem(obj, key, site)
    return obj[key]


def store_item(setitem: Recorder, value: Any, obj: Any, key: Any, site: tuple[Any, ...]) -> None:
    """``obj[key] = value`` (value evaluated first, as Python does)."""
    setitem(obj, key, site)
    obj[key] = value


def del_item(delitem: Recorder, obj: Any, key: Any, site: tuple[Any, ...]) -> None:
    """``del obj[key]``."""
    delitem(obj, key, site)
    del obj[key]


def load_slice(read: Recorder, obj: Any, key: slice, site: tuple[Any, ...]) -> Any:
    """``obj[a:b]``: reads the whole container (SIZE, as an iteration)."""
    read(SIZE, obj, None, site)
    return obj[key]


SLICE_ITEMS = 32  # elements of one slice store or delete recorded one by one


def _slice_writes(
    setitem: Recorder, write: Recorder, obj: list[Any], key: slice, new: int | None, site: tuple[Any, ...]
) -> None:
    """Record what ``obj[key] = <new items>`` (`new` None: ``del obj[key]``) changes in a list: the
    elements it replaces or shifts (the first SLICE_ITEMS of them, each as ``obj[i] = ...``), and
    its size when that changes."""
    n = len(obj)
    idx = range(*key.indices(n))
    added = new or 0
    if key.step not in (None, 1):  # an extended slice: exactly its elements
        changed, resized = idx, new is None and len(idx) > 0
    elif len(idx) == added:
        changed, resized = idx, False
    else:  # everything from the slice's start on moves
        changed, resized = range(idx.start, max(n, n - len(idx) + added)), True
    for i in islice(changed, SLICE_ITEMS):
        setitem(obj, i, site)
    if resized:
        write(SIZE, obj, None, site)


def store_slice(
    setitem: Recorder, write: Recorder, value: Any, obj: Any, lower: Any, upper: Any, step: Any,
    site: tuple[Any, ...],
) -> None:
    """``obj[lower:upper:step] = value`` (value evaluated first, as Python does): on a list, writes
    of the elements it changes, and of its size when that changes; on anything else, its size."""
    key = slice(lower, upper, step)
    if issubclass(type(obj), list):
        if not hasattr(type(value), "__len__"):
            value = list(value)  # what list's slice assignment does with an iterator anyway
        try:
            n = len(value)
        except Exception:
            n = None
        if n is not None:
            _slice_writes(setitem, write, obj, key, n, site)
    else:
        write(SIZE, obj, None, site)
    obj[key] = value


def del_slice(
    setitem: Recorder, write: Recorder, obj: Any, lower: Any, upper: Any, step: Any, site: tuple[Any, ...]
) -> None:
    """``del obj[lower:upper:step]``: as :func:`store_slice` with nothing stored."""
    key = slice(lower, upper, step)
    if issubclass(type(obj), list):
        _slice_writes(setitem, write, obj, key, None, site)
    else:
        write(SIZE, obj, None, site)
    del obj[key]


def truth_size(read: Recorder, container: Any, site: tuple[Any, ...]) -> Any:
    """``container`` as tested for truth by a guard: recorded as a read of its SIZE."""
    read(SIZE, container, None, site)
    return container


def contains(record: Recorder, key: Any, container: Any, site: tuple[Any, ...]) -> bool:
    """``key in container`` (key evaluated first, as Python does)."""
    record(container, key, site)
    return key in container


make_slice = slice
"""``a:b:c`` as an object, for :func:`load_slice` (the builtin may be shadowed by user code)."""

# augmented-assignment operators by AST class name, with in-place semantics (``__iadd__`` first)
_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "Add": operator.iadd, "Sub": operator.isub, "Mult": operator.imul, "MatMult": operator.imatmul,
    "Div": operator.itruediv, "FloorDiv": operator.ifloordiv, "Mod": operator.imod,
    "Pow": operator.ipow, "LShift": operator.ilshift, "RShift": operator.irshift,
    "BitOr": operator.ior, "BitXor": operator.ixor, "BitAnd": operator.iand,
}


def aug_attr(
    read: Recorder, write: Recorder, obj: Any, name: str, op: str,
    value: Callable[[], Any], rsite: tuple[Any, ...], wsite: tuple[Any, ...],
) -> None:
    """``obj.name <op>= value()`` at module level: load, evaluate, in-place op, store."""
    read(ATTR, obj, name, rsite)
    current = getattr(obj, name)
    current = _INPLACE[op](current, value())
    write(ATTR, obj, name, wsite)
    setattr(obj, name, current)


def aug_item(
    getitem: Recorder, setitem: Recorder, obj: Any, key: Any, op: str,
    value: Callable[[], Any], rsite: tuple[Any, ...], wsite: tuple[Any, ...],
) -> None:
    """``obj[key] <op>= value()`` at module level."""
    getitem(obj, key, rsite)
    current = obj[key]
    current = _INPLACE[op](current, value())
    setitem(obj, key, wsite)
    obj[key] = current
