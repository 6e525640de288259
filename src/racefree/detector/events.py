"""The contract between instrumented code and the detector's engine.

Instrumented code (see :mod:`racefree.detector.instrument`) calls the functions
of :mod:`racefree.detector.runtime`, which forward to the engine.  This module
only names the shared vocabulary so that both sides agree on it.

Locations
---------
A location is ``(kind, container, key)``:

=========  =========================  ===============================  ==========================
kind       container                  key                              shown as
=========  =========================  ===============================  ==========================
ATTR       the object                 attribute name (str)             ``Counter.n``
GLOBAL     the module's globals dict  variable name (str)              ``global total``
CELL       the closure cell object    variable name (str)              ``closure total``
ITEM       dict / list / other        the key or index                 ``dict registry['cfg']``
SIZE       dict / list / set / deque  ``None`` (key set and length)    ``dict registry``
=========  =========================  ===============================  ==========================

An attribute of a module object is the module's GLOBAL of that name (the engine
normalizes).  A dict insertion or deletion writes both ITEM(key) and SIZE;
``k in d`` reads ITEM(k); ``len(d)`` reads SIZE; iteration reads SIZE (as an
iteration, see below).

Sites
-----
A site is a constant tuple compiled into the rewritten code (so it costs one
``LOAD_CONST`` and needs no registry, and survives the bytecode cache):
``(filename, lineno, function, flags, text)`` where ``text`` is the source of
the container expression (``"self"``, ``"registry"``, ``"results"``) used in
report locations, and ``flags`` is a bit set of the ``F_*`` values below.
"""

from __future__ import annotations

from typing import Final

# the module instrumented code calls (the rewriter's default; the bytecode cache keys on it)
DEFAULT_RUNTIME: Final = "racefree.detector.runtime"

# Rewritten code calls these runtime functions through names of its own module's globals,
# ``BOUND_PREFIX + name`` (one global load: no module attribute lookup, which 3.13t does not
# specialise), that the module's first statement binds (``runtime.bind(globals())``) and the
# runtime keeps current.  The prefix starts with ``_`` so ``from m import *`` does not copy them,
# and holds ``@`` so no program name can collide.  ``BOUND_PREFIX`` alone holds the runtime's handle.
BOUND_PREFIX: Final = "_@rf:"
BOUND_NAMES: Final = (
    "read", "write", "getitem", "setitem", "delitem", "contains", "iterate", "call", "entering", "lockcall",
)

# location kinds
ATTR: Final = 0
GLOBAL: Final = 1
CELL: Final = 2
ITEM: Final = 3
SIZE: Final = 4

KIND_NAMES: Final = ("attr", "global", "cell", "item", "size")


class _Elements:
    """The type of :data:`ELEMENTS` (one instance, compared by identity)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "*"


ELEMENTS: Final = _Elements()
"""The key of ITEM(list, ELEMENTS), shown as ``list s[*]``: in strict mode every element store of
a list also writes it and every iteration of the list reads it, so iterating a list races with a
concurrent ``s[3] = 3``.  Writes of it never race each other (they are stores of different
elements, or of one element whose own ITEM location reports that race)."""

# site tuple fields
S_FILE: Final = 0
S_LINE: Final = 1
S_FUNC: Final = 2
S_FLAGS: Final = 3
S_TEXT: Final = 4

# site flags
F_GUARD: Final = 1
"""This read is (part of) the test of an ``if``/``while``/conditional expression
whose body writes the same location with no ``with``-block synchronization in
between (decided statically by the rewriter): a check-then-act candidate."""

F_AUGMENTED: Final = 2
"""This access is half of an augmented assignment (``x += 1``)."""

F_ITERATION: Final = 4
"""This SIZE read is an iteration (``for``, comprehension, ``list(d)``,
``sorted``, ``sum``, ``.items()`` …), reported as kind ``iteration``."""

SYNCHRONIZED_ATTR: Final = "__racefree_synchronized__"
"""A container class that synchronizes itself and reports its happens-before
edges through :mod:`racefree.sync._hb` (``ConcurrentMap``) sets this class
attribute to ``True``: the detector then records no container access on its
instances — their own edges order their users, and recording the accesses
before the method takes its lock would report races that cannot happen."""

RUNTIME_API: Final = """
Functions of racefree.detector.runtime that rewritten code calls (all cheap
no-ops while no detector is recording; `site` is a site tuple as above):

read(kind, container, key, site) -> None       before a load of the location
write(kind, container, key, site) -> None      before a store/delete of the location
getitem(container, key, site) -> None          before `container[key]` is loaded
setitem(container, key, site) -> None          before `container[key] = v` (dict insertion also writes SIZE)
delitem(container, key, site) -> None          before `del container[key]` (writes ITEM and SIZE)
contains(container, key, site) -> None         before `key in container` / `not in`
iterate(container, site) -> container          wraps the iterable of `for` / comprehensions
call(func, site, *args, **kwargs) -> result    calls func; records the accesses when func is a
                                               tracked builtin (len, list, sorted, sum, ...) or a
                                               bound method of a dict/list/set/deque (get, append, ...)
entering(obj) -> obj or a stand-in             the context manager of `with obj:` (a raw
                                               `_thread` lock gets its edges: hb_rawlocks)
lockcall(method) -> callable                   `x.acquire(...)` is `lockcall(x.acquire)(...)` (so is
                                               release): `method`, or for a raw lock a stand-in
cells(closure_fn) -> tuple[cell, ...]          the cells a function's `lambda: (a, b)` closes over
bind(namespace) -> None                        a rewritten module's first statement: binds the functions
                                               above as its globals (BOUND_PREFIX + name) and keeps
                                               them current while it lives
"""
