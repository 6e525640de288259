"""The import hook: instrument the user's own modules as they are imported.

:class:`ImportHook` is a ``sys.meta_path`` finder.  For each import it decides,
cheaply and before any file is read, whether the module is the user's:

1. a module matching an ``exclude`` pattern — no;
2. a module matching an ``include`` pattern — yes (even in the stdlib or
   site-packages);
3. ``racefree`` itself, the standard library, site-packages — no;
4. a source file under one of the ``roots`` (the script's directory, the current
   directory) — yes; anything else — no.

Patterns are :mod:`fnmatch` globs over dotted module names; a pattern also
covers the submodules of what it names (``mylib`` covers ``mylib.util``).
``racefree.detector`` (the detector itself) is never instrumented.

A selected module is loaded by :class:`InstrumentingLoader`, a
``SourceFileLoader`` whose code comes from the rewriter through the bytecode
cache; a module the rewriter fails on runs plain, with one warning line naming
it.  A module carrying the ``RACEFREE: no-instrument`` marker runs plain.

Invariants (true with and without the GIL): ``instrumented`` and ``skipped``
are appended/updated under ``_lock``; the re-entry guard is per thread (an
import made while this thread is inside the hook's own search is left to the
other finders); ``install``/``uninstall`` are symmetric and idempotent.
"""

from __future__ import annotations

import fnmatch
import importlib.machinery
import importlib.util
import os
import site
import sys
import sysconfig
import threading
import types
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec

from racefree.detector.events import DEFAULT_RUNTIME
from racefree.detector.instrument.cache import BytecodeCache
from racefree.detector.instrument.compiler import InstrumentError, instrument_source

_NEVER = "racefree.detector"


def _warn_stderr(message: str) -> None:
    sys.stderr.write(f"racefree: warning: {message}\n")


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(name, p + ".*") for p in patterns)


def _under(path: str, dirs: Sequence[str]) -> bool:
    return any(path == d or path.startswith(d.rstrip(os.sep) + os.sep) for d in dirs)


def _system_dirs() -> list[str]:
    """Directories of the standard library and of installed packages."""
    dirs: set[str] = set()
    keys = ("stdlib", "platstdlib", "purelib", "platlib")
    schemes = [sysconfig.get_paths()]  # each call expands every path of the scheme: once per prefix
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        where = {"base": prefix, "platbase": prefix, "installed_base": prefix}
        schemes.append(sysconfig.get_paths(vars=where))
    for paths in schemes:
        dirs.update(p for p in (paths.get(key) for key in keys) if p)
    try:
        dirs.update(site.getsitepackages())
    except AttributeError:  # pragma: no cover - old virtualenv's site.py
        pass
    user = site.getusersitepackages()
    if isinstance(user, str):
        dirs.add(user)
    import racefree

    dirs.add(os.path.dirname(racefree.__file__))
    return sorted({os.path.realpath(d) for d in dirs})


class InstrumentingLoader(importlib.machinery.SourceFileLoader):
    """A source loader whose code is instrumented (through the hook's cache)."""

    def __init__(self, fullname: str, path: str, hook: ImportHook) -> None:
        super().__init__(fullname, path)
        self._hook = hook

    def get_code(self, fullname: str) -> types.CodeType:
        path = self.get_filename(fullname)
        return self._hook.code_for(fullname, path, self.get_data(path))


def _racefree_command(name: str) -> bool:
    """A module the ``racefree`` CLI imports to build its parser, before any hook exists."""
    return name.startswith("racefree.") and name.endswith(".command")


class ImportHook:
    """Instrument the user's modules on import (see the module docstring).

    Initial state: not installed.  `roots` are the directories whose modules are
    the user's own (default: the current directory).  ``instrumented`` lists the
    module names rewritten so far, ``skipped`` maps names to why they were not
    (opt-out marker, rewrite failure, exclusion, imported before install).
    """

    def __init__(
        self,
        *,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        roots: Sequence[str] = (),
        runtime: str = DEFAULT_RUNTIME,
        cache: BytecodeCache | None = None,
        warn: Callable[[str], None] = _warn_stderr,
    ) -> None:
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self.roots = [os.path.realpath(r) for r in (roots or [os.getcwd()])]
        self.runtime = runtime
        self.cache = cache if cache is not None else BytecodeCache()
        self.warn = warn
        self.instrumented: list[str] = []  # guarded by _lock
        self.skipped: dict[str, str] = {}  # guarded by _lock
        self._foreign: set[str] = set()  # top-level packages outside the roots; guarded by _lock
        self._lock = threading.Lock()
        self._busy = threading.local()
        self._system = _system_dirs()

    def __repr__(self) -> str:
        state = "installed" if self in sys.meta_path else "not installed"
        return f"<ImportHook {state} roots={self.roots} instrumented={len(self.instrumented)}>"

    # --- selection -------------------------------------------------------------------
    def selects(self, name: str, origin: str | None) -> tuple[bool, str]:
        """(instrument?, why) for module `name` whose source file is `origin`."""
        if name == _NEVER or name.startswith(_NEVER + "."):
            return False, "the detector itself"
        if _matches(name, self.exclude):
            return False, "excluded by pattern"
        if origin is None or not origin.endswith(".py"):
            return False, "not a Python source file"
        if _matches(name, self.include):
            return True, "included by pattern"
        if name == "racefree" or name.startswith("racefree."):
            return False, "standard library, site-packages or racefree"
        real = os.path.realpath(origin)
        if _under(real, self._system):
            return False, "standard library, site-packages or racefree"
        if _under(real, self.roots):
            return True, "under a root"
        return False, "outside the roots"

    # --- finder ----------------------------------------------------------------------
    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: types.ModuleType | None = None
    ) -> ModuleSpec | None:
        if getattr(self._busy, "active", False):
            return None
        top = name.partition(".")[0]
        if (top in sys.stdlib_module_names or top == "racefree" or top in self._foreign) \
                and not _matches(name, self.include):
            return None  # the cheap bail-out: no second file system search for what is not ours
        self._busy.active = True
        try:
            spec = importlib.machinery.PathFinder.find_spec(name, path)
        finally:
            self._busy.active = False
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return None
        ok, why = self.selects(name, spec.origin)
        if not ok:
            with self._lock:
                if why == "excluded by pattern":
                    self.skipped[name] = why
                elif name == top and spec.submodule_search_locations is not None:
                    self._foreign.add(top)  # an installed package: its submodules are not ours either
            return None
        assert spec.origin is not None
        loader = InstrumentingLoader(name, spec.origin, self)
        return importlib.util.spec_from_file_location(
            name, spec.origin, loader=loader, submodule_search_locations=spec.submodule_search_locations
        )

    # --- loading ---------------------------------------------------------------------
    def code_for(self, name: str, path: str, source: bytes) -> types.CodeType:
        """The code to run for module `name` (instrumented unless opted out or failing)."""
        st = os.stat(path)
        cached = self.cache.load(path, source, st, self.runtime)
        if cached is not None:
            code, instrumented = cached
        else:
            try:
                code, instrumented = instrument_source(source, path, runtime=self.runtime)
            except InstrumentError as exc:
                why = " ".join(str(exc).split())  # one line, whatever the exception said
                with self._lock:
                    self.skipped[name] = f"rewrite failed: {why}"
                self.warn(f"module {name} ({path}) runs uninstrumented: {why}")
                return compile(source, path, "exec", dont_inherit=True)
            self.cache.store(path, source, st, self.runtime, code, instrumented)
        with self._lock:
            if instrumented:
                self.instrumented.append(name)
            else:
                self.skipped[name] = "no-instrument marker"
        return code

    # --- installation ----------------------------------------------------------------
    def install(self) -> None:
        """Put the hook first on ``sys.meta_path`` (no-op if there).

        Selected modules already imported cannot be instrumented any more: they
        are listed in ``skipped``, with a warning for those an include pattern named.
        """
        if self in sys.meta_path:
            return
        for name, module in list(sys.modules.items()):
            origin = getattr(module, "__file__", None)
            loader = getattr(module, "__loader__", None)
            if name == "__main__" or not isinstance(origin, str) or isinstance(loader, InstrumentingLoader):
                continue
            if name.partition(".")[0] in sys.stdlib_module_names and not _matches(name, self.include):
                continue  # as in find_spec: never the user's, and no realpath() for each of them
            ok, why = self.selects(name, origin)
            if ok:
                with self._lock:
                    self.skipped[name] = "imported before the hook was installed"
                # asked for explicitly: say it did not happen (racefree's own command
                # modules are always imported first, by the CLI that runs the program)
                if why == "included by pattern" and not _racefree_command(name):
                    self.warn(f"module {name} was imported before racefree could instrument it")
        sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        """Remove the hook from ``sys.meta_path`` (no-op if absent); loaded modules stay instrumented."""
        while self in sys.meta_path:
            sys.meta_path.remove(self)
