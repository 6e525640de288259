"""Instrumentation: the AST rewriter, the import hook and its bytecode cache.

* :func:`compile_instrumented` — source to instrumented code (:mod:`.compiler`,
  :mod:`.transform`, :mod:`.expressions`, with :mod:`.scopes` and :mod:`.guards`
  as its static analyses, :mod:`.support` as the helpers rewritten code calls
  where hidden temporaries cannot be used);
* :class:`ImportHook` — a ``sys.meta_path`` finder that instruments the user's
  own modules (:mod:`.hook`), through a :class:`BytecodeCache` (:mod:`.cache`).

What is recorded (through :mod:`racefree.detector.runtime`, see ``events.RUNTIME_API``):

* attribute loads, stores, deletes and augmented assignments (``o.x``,
  ``o.x = v``, ``del o.x``, ``o.x += v`` as a read then a write, both
  ``F_AUGMENTED``) — private names as mangled; not the attribute load of a method
  call ``o.m(...)``, not lookups on ``super()``, not a module used as a namespace
  (``os.path`` in ``os.path.join``);
* module globals that some function of the module declares ``global`` (loads,
  stores, deletes, augmented, and bindings by ``import``, ``def``, ``class`` and
  ``for``/``with``/``except`` targets), in functions and at module level;
* closure variables that some inner function declares ``nonlocal``, in the
  defining function and in every inner function, lambda or comprehension;
* subscripts: ``c[k]``, ``c[k] = v``, ``del c[k]``, ``c[k] += v``; slices as a
  read (``F_ITERATION``) or write of the whole container (SIZE);
* ``getattr``/``hasattr`` (read) and ``setattr``/``delattr`` (write) of ATTR(o, name)
  in function bodies, with the name evaluated at run time;
* ``k in c`` / ``k not in c`` (also inside chained comparisons in functions);
* iteration by ``for`` and comprehensions (``iterate``, ``F_ITERATION``), except
  over literals, comprehensions and call results;
* calls of the builtins ``len list tuple set frozenset dict sorted sum min max
  any all enumerate reversed iter zip map filter`` (when not shadowed) and of
  methods named ``get setdefault pop popitem append appendleft extend
  extendleft insert remove clear update add discard sort reverse rotate popleft
  items keys values copy count index *_update`` (the runtime checks the receiver).

Reads in the test of an ``if``/``while``/conditional expression whose branches
write the same location outside any ``with`` block are marked ``F_GUARD`` (see
:mod:`.guards`).

Not recorded: accesses through ``vars()``/``__dict__`` tricks, the dynamic
attribute builtins at module level or with ``*args``, walrus targets that are
tracked names, attribute or item targets of ``for``/``with``, augmented
assignments of attributes or items in class bodies,
chained comparisons with ``in`` at module level or in comprehensions, and code
in modules that are not instrumented (the standard library, site-packages and
racefree unless ``--include`` names them; modules whose docstring says
``RACEFREE: no-instrument``).

Also not recorded: iteration hidden in ``str.join``, ``*``/``**`` unpacking and
operators such as ``d | e``; writes made by a function a guarded body calls
(the check-then-act analysis is local to the ``if``).

A note on schedules: instrumented code calls Python functions between the read
and the write of ``x += 1``, and CPython with the GIL switches threads after
calls, so a *racy* instrumented program can lose updates that the plain program
happens not to lose on a GIL build.  That only helps detection; the output of a
race-free program does not change.

Guarantees: every sub-expression is evaluated once, in Python's order; in-place
operators keep their semantics; line numbers are kept; functions are never
wrapped (``super()``, generators, coroutines, decorators unaffected); hidden
names start with ``@`` so they cannot collide with the program's (the runtime
functions a module binds as its globals, ``_@rf:read``..., with ``_@`` so that
``from m import *`` leaves them), and temporaries never keep an object alive
past the statement that used it.
"""

from racefree.detector.instrument.cache import BytecodeCache, CacheStats
from racefree.detector.instrument.compiler import (
    NO_INSTRUMENT_MARKER,
    InstrumentError,
    compile_instrumented,
    instrument_source,
)
from racefree.detector.instrument.hook import ImportHook, InstrumentingLoader

__all__ = [
    "NO_INSTRUMENT_MARKER",
    "BytecodeCache",
    "CacheStats",
    "ImportHook",
    "InstrumentError",
    "InstrumentingLoader",
    "compile_instrumented",
    "instrument_source",
]
