"""A test double for the detector engine and the import hook, loaded with ``-p racefree_fake_engine``.

It lets ``tests/test_pytest_plugin.py`` check the plugin's own logic (which test
fails, marker, leaked threads, suppressions, SARIF, xdist) independently of what
the real engine detects: test code calls :func:`race` to make the "detector"
report a race right then, from the calling thread.  ``-p`` plugins are imported
before ``pytest_load_initial_conftests``, so the plugin picks these classes up.
"""

from __future__ import annotations

import os
import sys
import threading
import types
from typing import Any

import racefree.detector as detector_pkg
import racefree.detector.engine as engine
import racefree.detector.instrument as instrument
from racefree.detector.findings import Access, Deadlock, Frame, Race
from racefree.detector.instrument import InstrumentError

_pending: list[Race] = []
_all: list[Race] = []
_lock = threading.Lock()  # guards _pending and _all
compiled: list[str] = []  # files compiled through compile_instrumented (pytest's test modules)


def race(location: str, other_thread: str = "MainThread", kind: Any = "lost-update") -> None:
    """Pretend the detector just found a race on *location* between this thread and *other_thread*."""
    f = sys._getframe(1)
    here = (Frame(f.f_code.co_filename, f.f_lineno, f.f_code.co_name),)
    r = Race(kind, location, Access("write", threading.current_thread().name, here),
             Access("read", other_thread, here))
    with _lock:
        _pending.append(r)
        _all.append(r)


class Detector:
    def __init__(self, mode: str = "python", *, history_size: int = 1 << 16, stress: bool = False,
                 seed: int | None = None, lock_order: bool = True) -> None:
        self.mode, self.stress = mode, stress
        self.seed = 4242 if seed is None else seed
        self.lock_order = lock_order
        self.active = False

    def start(self) -> None:
        self.active = True
        os.environ["FAKE_ENGINE_STARTED"] = f"{self.mode} {self.stress} {self.seed}"
        os.environ["FAKE_ENGINE_LOCK_ORDER"] = str(self.lock_order)

    def stop(self) -> None:
        self.active = False

    def races(self) -> list[Race]:
        with _lock:
            return list(_all)

    def take_new_races(self) -> list[Race]:
        with _lock:
            out = list(_pending)
            _pending.clear()
        return out

    def deadlocks(self) -> list[Deadlock]:
        return []

    def take_new_deadlocks(self) -> list[Deadlock]:
        return []  # the plugin's deadlock path is tested with the real detector


class ImportHook:
    def __init__(self, *, include: Any = (), exclude: Any = (), roots: Any = (), warn: Any = None) -> None:
        self.include, self.exclude, self.roots = list(include), list(exclude), list(roots)
        self.instrumented: list[str] = []
        self.skipped: dict[str, str] = {}

    def selects(self, name: str, origin: str) -> tuple[bool, str]:
        ok = any(origin.startswith(r + os.sep) for r in self.roots) and "racefree" not in name
        return ok, "under a root" if ok else "outside the roots"

    def find_spec(self, *args: Any) -> None:
        return None

    def install(self) -> None:
        sys.meta_path.insert(0, self)  # type: ignore[arg-type]
        os.environ["FAKE_HOOK"] = f"include={self.include} exclude={self.exclude} roots={self.roots}"

    def uninstall(self) -> None:
        if self in sys.meta_path:
            sys.meta_path.remove(self)  # type: ignore[arg-type]


def compile_instrumented(source: Any, filename: str, mode: str = "exec") -> types.CodeType:
    if "_uninstrumentable" in filename:
        raise InstrumentError("rewritten code does not compile: a simulated rewriter bug")
    compiled.append(os.path.basename(filename))
    return compile(source, filename, mode, dont_inherit=True)


instrument.ImportHook = ImportHook  # type: ignore[misc]
instrument.compile_instrumented = compile_instrumented
detector_pkg.Detector = Detector  # type: ignore[misc]
engine.Detector = Detector  # type: ignore[misc]  (what racefree.detector.session builds)
