"""What container operations access: item, size and iteration recording.

:func:`build` turns a detector's ``(read, write, iterated)`` recorders into the
``getitem``/``setitem``/``delitem``/``contains``/``iterate``/``call`` functions
of :mod:`racefree.detector.runtime`.

The model (strict mode follows Go, where a map is one variable for writes):

* ``d[k]`` reads ITEM(k); ``d[k] = v`` writes ITEM(k), and SIZE too when it
  inserts; ``del d[k]`` writes ITEM(k) and SIZE (list slots are separate
  variables, as in Go; so are the values of a dict's existing keys);
* ``k in d`` reads ITEM(k) of a dict or set, SIZE of a sequence (it scans);
* ``len(x)`` reads SIZE; ``for``, comprehensions, ``list(x)``, ``sorted(x)``,
  ``sum(x)``… and iterating methods (``.items()``, ``.copy()``…) iterate SIZE;
  except that in python mode a one-shot copy that CPython makes atomically on
  every build (:func:`atomic_copy`: ``list(d)``, ``sorted(d)``, ``d.copy()``... of
  an exact ``dict``, ``list`` or ``set``) is a *snapshot*: one read of SIZE, never
  an iteration during a mutation;
* mutating methods (``append``, ``pop``, ``update``, ``add``…) write SIZE, and
  those that name an element (``set.add(x)``, ``dict.pop(k)``) its ITEM too;
  ``dict.update`` writes the ITEM of each keyword and of the first keys of a
  plain-dict argument;
* immutable containers (str, bytes, tuple, frozenset, range) are never recorded;
* ``next(it)`` is not tracked: it advances an iterator, and the container was
  recorded when the iteration began (``iter``, ``for``, ``enumerate``...);
* a *library container* -- a mutable mapping, set or sequence whose methods are
  Python code of the standard library (``weakref.WeakSet``, ``WeakKeyDictionary``,
  ``WeakValueDictionary``, ``collections.UserDict``, ``ChainMap``...), imported
  before any user code and so never rewritten -- is recorded at its public methods
  and operators with the table of ``dict``, ``set`` or ``list`` its ABC gives; a
  method a user subclass overrides is the subclass's own (instrumented) code.

Holds no shared state besides a per-(type, method) handler cache whose entries
are computed idempotently (a racing double computation stores equal values).
"""

from __future__ import annotations

import builtins
import sys
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, MutableMapping, MutableSequence, MutableSet
from itertools import islice
from types import BuiltinFunctionType, MethodDescriptorType, MethodType, WrapperDescriptorType
from typing import Any

from racefree.detector.events import ELEMENTS, F_COPIED, ITEM, S_FLAGS, SIZE, SYNCHRONIZED_ATTR
from racefree.detector.shadow import IMMUTABLE, Ident

Site = tuple[Any, ...]
Handler = Callable[[Any, Site, tuple[Any, ...]], None]

TRACKED = (dict, list, set, deque, bytearray)
UPDATE_KEYS = 32  # keys of one dict.update recorded one by one (the rest: the key set only)
_ITERATING_BUILTINS = frozenset({"sorted", "sum", "min", "max", "any", "all", "iter"})
_ITERATING_TYPES: frozenset[Any] = frozenset(
    {list, tuple, set, frozenset, dict, enumerate, reversed, bytearray}
)
_MULTI_ITERATING_TYPES: frozenset[Any] = frozenset({zip})
_FUNC_FIRST_TYPES: frozenset[Any] = frozenset({map, filter})

def _safe_keys(d: dict[Any, Any]) -> bool:
    """Whether every key of `d` hashes and compares in C (no Python ``__eq__``): see atomic_copy."""
    try:
        keys = list(d)  # itself atomic (atomic_copy)
        types = set(map(type, keys))
    except Exception:
        return False
    if types <= _SAFE_KEYS:
        return True
    return types <= _SAFE_KEYS | {tuple} and all(_safe_key(k) for k in keys if type(k) is tuple)


def atomic_copy(func: Any, source: Any) -> bool:
    """Whether ``func(source)`` (`func` a builtin, or ``"copy"`` for ``source.copy()``) copies the
    tracked container `source` in one step on every CPython build: a snapshot, not an iteration.

    With the GIL, a builtin written in C is one step when no Python code runs inside it
    (none does for these copies: they read the entries without hashing or comparing
    them, or compare keys only where the keys are of builtin types); on the
    free-threaded build (3.13t) each of these copies runs under the source's critical
    section (``list(x)``: ``list_extend`` takes it for an exact ``dict``, ``set`` or
    ``list``; ``tuple(lst)``: ``PyList_AsTuple``; a slice ``lst[i:j]``, recorded by
    :mod:`racefree.detector.access` as the same snapshot; ``set(s)``, ``s.copy()``:
    ``set_merge``; ``d.copy()``, ``dict(d)``: ``PyDict_Copy``/``dict_merge``; ``set(d)``:
    ``set_update_dict``; ``sorted(x)`` copies with ``list`` before sorting).
    ``list(d.items())``, ``sorted(d.keys())``... of an exact dict are one step too
    (``list_extend`` takes the dict's critical section for its exact view types; the
    rewriter marks such a view call :data:`events.F_COPIED`).  Not one step: anything on a
    dict subclass (``OrderedDict``, ``defaultdict``, ``Counter``: ``list()`` iterates them
    item by item on 3.13t), a ``deque``, ``tuple(d)`` and
    ``tuple(s)`` (item by item on 3.13t), ``set(lst)``/``frozenset(lst)``, ``sum``,
    ``min``, ``max``, ``enumerate``, ``for`` loops and comprehensions; and a dict copy
    into a new dict or set (``d.copy()``, ``dict(d)``, ``set(d)``) whose keys run a
    Python ``__eq__`` when two hashes collide (that code can let another thread in).
    """
    ts = type(source)
    if ts is list:
        return func is list or func is tuple or func is sorted or func == "copy"
    if ts is set:
        return func is list or func is set or func is frozenset or func is sorted or func == "copy"
    if ts is dict:
        if func is list or func is sorted:
            return True
        if func is set or func is frozenset or func is dict or func == "copy":
            return _safe_keys(source)
    return False


# method name -> what it does: "r" read ITEM(arg0), "w" write SIZE, "ins" write ITEM(arg0) and, if
# absent, SIZE, "del" write ITEM(arg0) and, if present, SIZE, "it" iterate, "len" read SIZE,
# "ita" write SIZE and iterate arg0, "cp" a copy of the owner (an iteration, or a snapshot:
# atomic_copy)
_DICT = {
    "get": "r", "__getitem__": "r", "__contains__": "r",
    "setdefault": "ins", "__setitem__": "ins", "pop": "del", "__delitem__": "del",
    "popitem": "w", "clear": "w", "update": "ita", "__ior__": "ita",
    "keys": "it", "values": "it", "items": "it", "copy": "cp", "__iter__": "it", "__reversed__": "it",
    "__len__": "len", "move_to_end": "w",
    # collections.Counter (Python-level methods)
    "subtract": "ita", "most_common": "it", "elements": "it", "total": "it",
}
_LIST = {
    "append": "w", "insert": "w", "pop": "w", "remove": "w", "clear": "w", "sort": "w", "reverse": "w",
    "extend": "ita", "__iadd__": "ita", "index": "it", "count": "it", "copy": "cp", "__iter__": "it",
    "__len__": "len", "__getitem__": "r",
}
_SET = {
    "add": "ins", "discard": "del", "remove": "del", "__contains__": "r",
    "pop": "w", "clear": "w", "update": "ita", "difference_update": "ita", "intersection_update": "ita",
    "symmetric_difference_update": "ita", "__ior__": "ita", "__iand__": "ita", "__isub__": "ita",
    "copy": "cp", "union": "it", "intersection": "it", "difference": "it", "symmetric_difference": "it",
    "issubset": "it", "issuperset": "it", "isdisjoint": "it", "__iter__": "it", "__len__": "len",
}
_DEQUE = {
    "append": "w", "appendleft": "w", "pop": "w", "popleft": "w", "clear": "w", "remove": "w",
    "rotate": "w", "insert": "w", "reverse": "w", "extend": "ita", "extendleft": "ita",
    "count": "it", "index": "it", "copy": "it", "__iter__": "it", "__len__": "len",
}
_TABLES: tuple[tuple[type, dict[str, str]], ...] = (
    (OrderedDict, _DICT), (defaultdict, _DICT), (dict, _DICT), (list, _LIST), (set, _SET), (deque, _DEQUE),
)
# library containers (see the module docstring): their ABC's table, plus what weakref adds
_LIBRARY_TABLES: tuple[tuple[type, dict[str, str]], ...] = (
    (MutableMapping, {
        **_DICT, "__copy__": "it", "__deepcopy__": "it", "keyrefs": "it", "valuerefs": "it",
        "itervaluerefs": "it", "iterkeyrefs": "it", "__or__": "it", "__ror__": "it",
    }),
    (MutableSet, {**_SET, "__ixor__": "ita", "__or__": "it", "__and__": "it", "__sub__": "it",
                  "__xor__": "it", "__le__": "it", "__ge__": "it", "__lt__": "it", "__gt__": "it"}),
    (MutableSequence, {**_LIST, "__contains__": "it"}),
)
_STDLIB = frozenset(sys.stdlib_module_names) - {"racefree"}


_SAFE_KEYS = frozenset({str, int, float, bool, bytes, type(None), complex})
_OBJECT_HASH: Any = object.__hash__
_OBJECT_EQ: Any = object.__eq__


def _type_slot(tp: type, name: str) -> Any:
    return getattr(tp, name, None)


def _safe_key(key: Any) -> bool:
    """Whether hashing and comparing `key` runs no user code (a detector must not call the program)."""
    tk = type(key)
    if tk in _SAFE_KEYS:
        return True
    if tk is tuple:
        return all(type(k) in _SAFE_KEYS for k in key)
    return _type_slot(tk, "__hash__") is _OBJECT_HASH and _type_slot(tk, "__eq__") is _OBJECT_EQ


def _loc(key: Any) -> Any:
    """The shadow-memory key of ITEM(`key`)."""
    if type(key) in _SAFE_KEYS or _safe_key(key):
        return key
    return Ident(key)


def _present(container: Any, key: Any, absent: bool = True) -> bool:
    """``key in container`` when that is safe to ask; otherwise assume the key set changes."""
    if not _safe_key(key):
        return not absent
    try:
        return key in container
    except Exception:
        return not absent


# type -> whether the detector leaves its instances alone (immutable, or synchronized by itself)
_skipped_cache: dict[type, bool] = {}


def _skipped(tp: type) -> bool:
    try:
        return _skipped_cache[tp]
    except KeyError:
        skip = _skipped_cache[tp] = tp in IMMUTABLE or getattr(tp, SYNCHRONIZED_ATTR, False) is True
        return skip


_ABC_MODULES = frozenset({"_collections_abc", "collections.abc", "abc", "typing"})


def _library_origin(cls: type, abcs: bool = False) -> bool:
    """Whether `cls` is the standard library's own Python code (never rewritten by the detector);
    an abstract base class (whose mixin methods call the subclass's) only when `abcs`."""
    module = cls.__dict__.get("__module__")
    if type(module) is not str or module.partition(".")[0] not in _STDLIB:
        return False
    return abcs or module not in _ABC_MODULES


# type -> (its ABC table, or None when not a library container); computed idempotently
_library_cache: dict[type, dict[str, str] | None] = {}


def _library(tp: type) -> dict[str, str] | None:
    """The table of a library container type (a stdlib class, or a subclass of one), else None."""
    try:
        return _library_cache[tp]
    except KeyError:
        pass
    table = None
    if not issubclass(tp, TRACKED) and not _skipped(tp) and any(_library_origin(c) for c in tp.__mro__[:-1]):
        for abc, t in _LIBRARY_TABLES:
            try:
                if issubclass(tp, abc):
                    table = t
                    break
            except Exception:  # a metaclass's __subclasscheck__ failed: not ours to track
                break
    _library_cache[tp] = table
    return table


def _library_method(tp: type, name: str) -> bool:
    """Whether `tp`'s `name` is the standard library's code (not a user subclass's override)."""
    for cls in tp.__mro__:
        if name in cls.__dict__:
            return _library_origin(cls, abcs=True)
    return False


def _tracked(tp: type) -> bool:
    """A built-in or library container (or a subclass) whose accesses the detector records."""
    if issubclass(tp, TRACKED):
        return not _skipped(tp)
    return _library(tp) is not None


def _mapping_or_set(tp: type) -> bool:
    """Keyed by its elements: ``k in c`` reads ITEM(k), an insertion writes SIZE."""
    if issubclass(tp, (dict, set)):
        return True
    table = _library(tp)
    return table is not None and table is not _LIBRARY_TABLES[2][1]


def _lookup(tp: type, name: str) -> str | None:
    for base, table in _TABLES:
        if issubclass(tp, base):
            return table.get(name)
    library = _library(tp)
    if library is not None and _library_method(tp, name):
        return library.get(name)
    return None


def build(
    read: Callable[[int, Any, Any, Site], None],
    write: Callable[[int, Any, Any, Site], None],
    iterated: Callable[[Any, Site], None],
    snapshot: Callable[[Any, Site], None] | None = None,
    *,
    strict: bool = False,
) -> dict[str, Callable[..., Any]]:
    """The container functions of the runtime API for one detector (`strict`: a list element
    store also writes the list's ELEMENTS, which strict iterations read; `snapshot`: how an
    atomic copy is recorded, python mode only — without it, as an iteration)."""
    copied = snapshot if snapshot is not None and not strict else None

    def copy_of(func: Any, x: Any, site: Site) -> None:
        """``func(x)`` (or ``x.copy()``: `func` is "copy"), a copy of `x`: a snapshot or an iteration."""
        if copied is not None and atomic_copy(func, x):
            copied(x, site)
        else:
            iterate_one(x, site)

    # type checks only: isinstance() may consult a user-defined __class__
    def iterate_one(x: Any, site: Site) -> None:
        if _tracked(type(x)):
            iterated(x, site)

    def read_item(owner: Any, site: Site, args: tuple[Any, ...]) -> None:
        if args:
            read(ITEM, owner, _loc(args[0]), site)

    def write_size(owner: Any, site: Site, args: tuple[Any, ...]) -> None:
        write(SIZE, owner, None, site)

    def insert_item(owner: Any, site: Site, args: tuple[Any, ...]) -> None:
        # setdefault(k), set.add(x): the key set changes only if the key was absent
        if not args:
            return
        write(ITEM, owner, _loc(args[0]), site)
        if not _present(owner, args[0]):
            write(SIZE, owner, None, site)

    def remove_item(owner: Any, site: Site, args: tuple[Any, ...]) -> None:
        # pop(k), discard(x), remove(x): the key set changes only if the key was there
        if not args:
            return
        write(ITEM, owner, _loc(args[0]), site)
        if _present(owner, args[0], absent=False):
            write(SIZE, owner, None, site)

    def iterate_owner(owner: Any, site: Site, args: tuple[Any, ...]) -> None:
        if copied is not None and site[S_FLAGS] & F_COPIED and type(owner) is dict:
            copied(owner, site)  # list(d.items()), sorted(d.keys()): copied at once (atomic_copy)
        else:
            iterated(owner, site)

    def copy_owner(owner: Any, site: Site, args: tuple[Any, ...]) -> None:
        copy_of("copy", owner, site)

    def read_size(owner: Any, site: Site, args: tuple[Any, ...]) -> None:
        read(SIZE, owner, None, site)

    def write_size_iterate_arg(owner: Any, site: Site, args: tuple[Any, ...]) -> None:
        write(SIZE, owner, None, site)
        if args:
            iterate_one(args[0], site)

    def update_keys(owner: Any, site: Site, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        # dict.update(mapping, **kw) also writes each key it stores (the first UPDATE_KEYS of
        # a plain dict argument, and every keyword): a racing d[k] read or d[k] += 1 is seen
        keys: list[Any] = list(kwargs)
        if args and type(args[0]) is dict:
            try:
                keys.extend(islice(args[0], UPDATE_KEYS))
            except RuntimeError:  # resized by another thread: its own race, seen elsewhere
                pass
        for k in keys[:UPDATE_KEYS]:
            write(ITEM, owner, _loc(k), site)

    by_action: dict[str, Handler] = {
        "r": read_item, "w": write_size, "ins": insert_item, "del": remove_item, "it": iterate_owner,
        "len": read_size,
        "ita": write_size_iterate_arg, "cp": copy_owner,
    }
    # (type, method name) -> handler, or None for untracked; filled on first sight
    handlers: dict[tuple[type, str], Handler | None] = {}

    def resolve(tp: type, name: str) -> Handler | None:
        action = None if _skipped(tp) else _lookup(tp, name)
        handler = handlers[(tp, name)] = by_action[action] if action is not None else None
        return handler

    def builtin(name: str, site: Site, args: tuple[Any, ...]) -> None:
        if name == "len":
            if args and _tracked(type(args[0])):
                read(SIZE, args[0], None, site)
        elif name == "sorted" and args:
            copy_of(sorted, args[0], site)
        elif name in _ITERATING_BUILTINS and args and (len(args) == 1 or name in ("sum", "iter")):
            iterate_one(args[0], site)

    def call(func: Any, site: Site, /, *args: Any, **kwargs: Any) -> Any:
        tf = type(func)
        if tf is BuiltinFunctionType:
            owner = func.__self__
            if owner is builtins:
                builtin(func.__name__, site, args)
            elif owner is not None:
                tp = type(owner)
                try:
                    handler = handlers[(tp, func.__name__)]
                except KeyError:
                    handler = resolve(tp, func.__name__)
                if handler is not None:
                    # the two commonest (d.get(k), lst.append(x)) inlined
                    if handler is read_item:
                        if args:
                            k = args[0]
                            read(ITEM, owner, k if type(k) in _SAFE_KEYS else _loc(k), site)
                    elif handler is write_size:
                        write(SIZE, owner, None, site)
                    else:
                        handler(owner, site, args)
                        if handler is write_size_iterate_arg and issubclass(tp, dict):
                            update_keys(owner, site, args, kwargs)
        elif tf is type:
            if func in _ITERATING_TYPES:
                if args:
                    copy_of(func, args[0], site)
            elif func in _MULTI_ITERATING_TYPES:
                for a in args:
                    iterate_one(a, site)
            elif func in _FUNC_FIRST_TYPES:
                for a in args[1:]:
                    iterate_one(a, site)
        elif tf is MethodType:
            owner = func.__self__
            tp = type(owner)
            if _tracked(tp):
                try:
                    handler = handlers[(tp, func.__name__)]
                except KeyError:
                    handler = resolve(tp, func.__name__)
                if handler is not None:
                    handler(owner, site, args)
                    if handler is write_size_iterate_arg and issubclass(tp, dict):
                        update_keys(owner, site, args, kwargs)
        elif (tf is MethodDescriptorType or tf is WrapperDescriptorType) and args:
            tp = type(args[0])
            try:
                handler = handlers[(tp, func.__name__)]
            except KeyError:
                handler = resolve(tp, func.__name__)
            if handler is not None:
                handler(args[0], site, args[1:])
                if handler is write_size_iterate_arg and issubclass(tp, dict):
                    update_keys(args[0], site, args[1:], kwargs)
        return func(*args, **kwargs)

    def getitem(container: Any, key: Any, site: Site) -> None:
        tp = type(container)
        if tp is dict:  # the common case first
            read(ITEM, container, key if type(key) in _SAFE_KEYS else _loc(key), site)
            return
        if _skipped(tp):
            return
        tk = type(key)
        if tk is slice:
            iterate_one(container, site)
            return
        if tp is list:
            if tk is int and key < 0:
                key += len(container)
        # a defaultdict's __missing__ inserts: asked only when hashing the key runs no user
        # code, otherwise recorded as a read
        elif issubclass(tp, defaultdict) and _safe_key(key) and not _present(container, key, absent=False):
            write(ITEM, container, _loc(key), site)
            write(SIZE, container, None, site)
            return
        read(ITEM, container, _loc(key), site)

    def setitem(container: Any, key: Any, site: Site) -> None:
        tp = type(container)
        if tp is not dict and _skipped(tp):
            return
        if type(key) is slice:
            write(SIZE, container, None, site)
            return
        if tp is list:
            if type(key) is int and key < 0:
                key += len(container)
            write(ITEM, container, _loc(key), site)
            if strict:
                write(ITEM, container, ELEMENTS, site)
            return
        if tp is not dict and not issubclass(tp, TRACKED) and _library(tp) is not None:
            library_setitem(container, key, site)
            return
        write(ITEM, container, _loc(key), site)
        if tp is dict or issubclass(tp, TRACKED):
            # an insertion writes the key set too (inlined _present: stores are hot)
            if type(key) in _SAFE_KEYS or _safe_key(key):
                try:
                    present = key in container
                except Exception:
                    present = False
            else:
                present = False
            if not present:
                write(SIZE, container, None, site)

    def library_setitem(container: Any, key: Any, site: Site) -> None:
        tp = type(container)
        if not _library_method(tp, "__setitem__"):
            return  # a user subclass's own code: recorded inside it
        write(ITEM, container, _loc(key), site)
        if _mapping_or_set(tp) and not _present(container, key):
            write(SIZE, container, None, site)

    def delitem(container: Any, key: Any, site: Site) -> None:
        tp = type(container)
        if _skipped(tp):
            return
        if type(key) is slice:
            write(SIZE, container, None, site)
            return
        if tp is list:
            if type(key) is int and key < 0:
                key += len(container)
            write(ITEM, container, _loc(key), site)
            write(SIZE, container, None, site)
            return
        write(ITEM, container, _loc(key), site)
        if not issubclass(tp, TRACKED) or _present(container, key, absent=False):  # a deletion
            write(SIZE, container, None, site)

    def contains(container: Any, key: Any, site: Site) -> None:
        tp = type(container)
        if _skipped(tp):
            return
        if issubclass(tp, (dict, set)):
            read(ITEM, container, _loc(key), site)
        elif issubclass(tp, TRACKED):
            read(SIZE, container, None, site)
        elif _library(tp) is not None and _library_method(tp, "__contains__"):
            if _mapping_or_set(tp):
                read(ITEM, container, _loc(key), site)
            else:
                iterated(container, site)  # a sequence's `in` scans it

    def iterate(container: Any, site: Site) -> Any:
        tp = type(container)
        if _tracked(tp) and (issubclass(tp, TRACKED) or _library_method(tp, "__iter__")):
            iterated(container, site)
        return container

    return {
        "read": read, "write": write, "getitem": getitem, "setitem": setitem, "delitem": delitem,
        "contains": contains, "iterate": iterate, "call": call,
    }
