"""Run a Python program as ``python`` would, instrumented, under the race detector.

:class:`ProgramRunner` reproduces what ``python script.py args`` and
``python -m module args`` set up (coverage.py's ``PyRunner`` is the model):

* ``sys.argv`` — ``[script, *args]``; for ``-m``, the module file's full path first;
* ``sys.path[0]`` — the script's directory (symlinks resolved); for ``-m``, the
  current directory;
* a fresh ``__main__`` module (``__file__``, ``__spec__``, ``__package__`` as
  python sets them) replacing ``sys.modules['__main__']`` while the program runs;
* stdin/stdout/stderr are the process's own;
* the exit status: 0 when the code ends, ``SystemExit``'s code as python
  interprets it, 1 after printing the traceback of an uncaught exception (with
  racefree's own frames left out), 130 after ``KeyboardInterrupt``.

Non-daemon threads still running when the main code ends are waited for, as
python does at exit, before the detector stops; daemon threads are abandoned
(they keep running, unrecorded).  ``atexit`` handlers run after the report.

Bad input (a missing script or module, a syntax error in the script) raises
:class:`ProgramError` before any program code runs: one line, for exit code 2.
"""

from __future__ import annotations

import builtins
import importlib.machinery
import importlib.util
import os
import sys
import threading
import types
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from racefree.detector.instrument.compiler import InstrumentError, instrument_source
from racefree.detector.instrument.hook import ImportHook

if TYPE_CHECKING:
    import traceback

_RACEFREE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ProgramError(Exception):
    """The program cannot be started (bad input): one line for the user."""


class Program(NamedTuple):
    """What to run: a script path or (``as_module``) a dotted module name, with its arguments."""

    target: str
    args: Sequence[str] = ()
    as_module: bool = False


class ProgramRunner:
    """Prepare then run one program in this process (see the module docstring)."""

    def __init__(self, program: Program, *, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> None:
        self.program = program
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self.hook: ImportHook | None = None
        self.code: types.CodeType | None = None
        self.argv: list[str] = []
        self.path0 = ""
        self._spec: importlib.machinery.ModuleSpec | None = None
        self._file = ""
        self._saved: tuple[list[str], list[str], types.ModuleType | None] | None = None

    # --- preparation (bad input is reported here, before any program code runs) ---
    def prepare(self) -> None:
        """Resolve the program, set up ``sys.argv``/``sys.path``, install the hook, compile the code."""
        self._saved = (list(sys.argv), list(sys.path), sys.modules.get("__main__"))
        if self.program.as_module:
            self.path0 = os.getcwd()
        else:
            script = self.program.target
            if os.path.isdir(script):
                script = os.path.join(script, "__main__.py")
            if not os.path.isfile(script):
                raise ProgramError(f"can't open file {self.program.target!r}: no such file")
            self._file = os.path.abspath(script)
            self.path0 = os.path.dirname(os.path.realpath(script))
        sys.path[0:1] = [self.path0]
        roots = [self.path0, os.getcwd()]
        self.hook = ImportHook(include=self.include, exclude=self.exclude, roots=roots)
        self.hook.install()
        try:
            if self.program.as_module:
                self._prepare_module()
            else:
                self._prepare_script()
        except BaseException:
            self.restore()
            raise
        self.argv = [self._file, *self.program.args] if self.program.as_module else \
            [self.program.target, *self.program.args]

    def _compile(self, source: bytes, filename: str) -> types.CodeType:
        """The program's instrumented code, through the hook's bytecode cache (as its modules')."""
        assert self.hook is not None
        cache, runtime = self.hook.cache, self.hook.runtime
        try:
            st = os.stat(filename)
        except OSError:
            st = None
        cached = None if st is None else cache.load(filename, source, st, runtime)
        if cached is not None:
            return cached[0]
        try:
            code, instrumented = instrument_source(source, filename, runtime=runtime)
        except SyntaxError as exc:
            where = f"{exc.filename}, line {exc.lineno}" if exc.lineno else str(exc.filename)
            raise ProgramError(f"syntax error in {where}: {exc.msg}") from None
        except InstrumentError as exc:
            if self.hook is not None:
                self.hook.warn(f"{filename} runs uninstrumented: {exc}")
            return compile(source, filename, "exec", dont_inherit=True)
        if st is not None:
            cache.store(filename, source, st, runtime, code, instrumented)
        return code

    def _prepare_script(self) -> None:
        try:
            with open(self._file, "rb") as f:
                source = f.read()
        except OSError as exc:
            raise ProgramError(f"can't open file {self.program.target!r}: {exc.strerror}") from None
        self.code = self._compile(source, self._file)

    def _prepare_module(self) -> None:
        name = self.program.target
        if not name or name.startswith("."):
            raise ProgramError(f"relative module names are not supported: {name!r}")
        try:
            spec = importlib.util.find_spec(name)
            if spec is not None and spec.submodule_search_locations is not None:
                name = f"{name}.__main__"
                spec = importlib.util.find_spec(name)
        except ImportError as exc:
            raise ProgramError(f"error while finding module specification for {name!r}: {exc}") from None
        if spec is None:
            raise ProgramError(f"no module named {self.program.target!r}")
        if spec.origin is None or not spec.origin.endswith(".py") or not os.path.isfile(spec.origin):
            raise ProgramError(f"module {name!r} has no Python source to run")
        self._spec, self._file = spec, spec.origin
        with open(spec.origin, "rb") as f:
            self.code = self._compile(f.read(), spec.origin)

    # --- running -------------------------------------------------------------------
    def run(self, *, finalize: bool = True) -> int:
        """Execute the prepared program in a fresh ``__main__``; the exit status python would give.

        With `finalize` (the ``racefree run`` command) the interpreter's own
        shutdown step runs afterwards (``threading._shutdown``: threading's atexit
        calls, then every non-daemon thread joined); without it (in-process use,
        tests) the non-daemon threads the program started are joined.
        """
        assert self.code is not None, "prepare() first"
        before = set(threading.enumerate())
        main = types.ModuleType("__main__")
        # the names python's own __main__ starts with (``__annotations__`` until 3.14's lazy ones)
        names: dict[str, object] = {"__file__": self._file, "__builtins__": builtins, "__cached__": None}
        if sys.version_info < (3, 14):
            names["__annotations__"] = {}
        if self._spec is not None:
            names["__cached__"] = self._spec.cached
        main.__dict__.update(names)
        if self._spec is not None:
            main.__spec__ = self._spec
            main.__loader__ = self._spec.loader
            main.__package__ = self._spec.parent
        else:
            main.__loader__ = importlib.machinery.SourceFileLoader("__main__", self._file)
            main.__package__ = None  # scripts have no package (python sets None, not "")
        sys.modules["__main__"] = main
        sys.argv = list(self.argv)
        status = 0
        try:
            exec(self.code, main.__dict__)
        except SystemExit as exc:
            status = exit_status(exc)
        except KeyboardInterrupt as exc:
            print_exception(exc)
            status = 130
        except BaseException as exc:
            print_exception(exc)
            status = 1
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
        wait_for_threads(before, finalize=finalize)
        return status

    def restore(self) -> None:
        """Undo :meth:`prepare`: hook out, ``sys.argv``/``sys.path``/``__main__`` back."""
        if self.hook is not None:
            self.hook.uninstall()
        if self._saved is not None:
            argv, path, main = self._saved
            sys.argv[:] = argv
            sys.path[:] = path
            if main is not None:
                sys.modules["__main__"] = main
            self._saved = None


def exit_status(exc: SystemExit) -> int:
    """The process exit status python gives for an uncaught ``SystemExit``."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF if code >= 0 else code % 256
    try:
        sys.stderr.write(f"{code}\n")
    except (OSError, ValueError):
        pass
    return 1


def _strip(te: traceback.TracebackException, seen: set[int]) -> None:
    if id(te) in seen:
        return
    seen.add(id(te))
    import traceback

    te.stack = traceback.StackSummary.from_list(
        [f for f in te.stack if not os.path.abspath(f.filename).startswith(_RACEFREE_DIR + os.sep)]
    )
    for other in (te.__cause__, te.__context__):
        if other is not None:
            _strip(other, seen)
    for sub in getattr(te, "exceptions", None) or ():
        _strip(sub, seen)


def print_exception(exc: BaseException) -> None:
    """Print `exc` as python would for an uncaught exception, without racefree's frames."""
    import traceback  # here: only a program that dies of an exception needs it

    te = traceback.TracebackException.from_exception(exc)
    _strip(te, set())
    sys.stderr.write("".join(te.format()))
    sys.stderr.flush()


def wait_for_threads(before: set[threading.Thread], *, finalize: bool) -> None:
    """Wait for the program's non-daemon threads, as the interpreter does at exit."""
    if finalize and threading.current_thread() is threading.main_thread():
        shutdown = getattr(threading, "_shutdown", None)
        if shutdown is not None:
            shutdown()
            return
    me = threading.current_thread()
    while True:
        pending = [t for t in threading.enumerate()
                   if t not in before and t is not me and not t.daemon and t.is_alive()]
        if not pending:
            return
        for t in pending:
            t.join()
