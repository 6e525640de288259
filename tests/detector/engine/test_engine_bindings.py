"""Rewritten modules call the runtime through globals of their own (runtime.bind), kept current.

The emitted code loads ``_@rf:read`` from the module's globals instead of
``@rf.read`` from the runtime module: these tests pin that the bindings follow
every change of the runtime functions (start, stop, a restart with a new
detector, a wrapper such as ``--confirm``'s scheduler installed over them, the
back-end of each detector: conftest runs each test on both), that a namespace
is not kept alive by them, and that ``import *`` does not copy them.
"""

from __future__ import annotations

import gc
import sys
import textwrap
import threading
import types
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from racefree.detector import Detector, runtime
from racefree.detector.events import BOUND_NAMES, BOUND_PREFIX
from racefree.detector.instrument import compile_instrumented

PROGRAM = """
class Counter:
    def __init__(self):
        self.n = 0

def incr(c):
    c.n += 1
"""


def load(source: str = PROGRAM, name: str = "rf_bound_module") -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = f"/src/{name}.py"
    exec(compile_instrumented(textwrap.dedent(source), module.__file__), module.__dict__)
    return module


def bound(ns: dict[str, Any]) -> dict[str, Any]:
    return {name: ns[BOUND_PREFIX + name] for name in BOUND_NAMES}


def race_in(module: types.ModuleType) -> int:
    """Two unordered increments of one counter (threads started before either runs): races found."""
    c = module.Counter()
    gate = threading.Barrier(2)

    def go() -> None:
        gate.wait()  # no edge between the two threads, only a rendezvous
        module.incr(c)

    with Detector() as d:
        raw = [threading.Thread(target=go) for _ in range(2)]
        for t in raw:
            t.start()
        for t in raw:
            t.join()
    return len(d.races())


def test_the_emitted_code_loads_the_functions_from_its_own_globals() -> None:
    code = compile_instrumented("def f(o):\n    o.x += 1\n", "/src/m.py")
    f_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    assert BOUND_PREFIX + "read" in f_code.co_names and BOUND_PREFIX + "write" in f_code.co_names
    assert "read" not in f_code.co_names and "@rf" not in f_code.co_names


def test_the_bindings_follow_start_stop_and_a_new_detector() -> None:
    module = load()
    ns = module.__dict__
    assert bound(ns) == runtime.current() and not runtime.recording()
    first = Detector()
    first.start()
    try:
        recording = runtime.current()
        assert bound(ns) == recording and ns[BOUND_PREFIX + "read"] is not runtime._NOOPS["read"]
        late = load(name="rf_bound_late")  # bound while recording: gets the recording functions
        assert bound(late.__dict__) == recording
    finally:
        first.stop()
    assert bound(ns) == runtime._NOOPS == bound(late.__dict__)
    with Detector() as second:
        assert bound(ns) == runtime.current() != recording
        assert second.started
    assert bound(ns) == runtime._NOOPS


def test_a_wrapper_installed_over_the_recording_functions_reaches_the_module() -> None:
    module = load()
    calls: list[str] = []
    with Detector():
        saved = runtime.current()

        def read(*args: Any) -> None:
            calls.append("read")
            saved["read"](*args)

        runtime.install({**saved, "read": read})  # as --confirm's scheduler does
        module.incr(module.Counter())
        runtime.install(saved)
        module.incr(module.Counter())
    assert calls == ["read"]


def test_races_are_found_in_code_bound_before_the_detector_started() -> None:
    module = load()  # bound to the no-ops
    assert race_in(module) == 1
    assert race_in(module) == 1  # and again with a second detector (stop put the no-ops back between)


def test_a_bound_namespace_is_not_kept_alive() -> None:
    # a namespace without functions: on 3.13t, module-level functions (and modules) made once
    # threads have run are immortal, which would keep their globals alive whatever the runtime does
    ns: dict[str, Any] = {}
    exec(compile_instrumented("d = {}\nd['k'] = 1\n", "/src/plain.py"), ns)
    handle = weakref.ref(ns[BOUND_PREFIX])
    assert handle() in runtime._bindings
    del ns
    gc.collect()
    assert handle() is None


def test_bind_is_idempotent() -> None:
    module = load()
    handle = module.__dict__[BOUND_PREFIX]
    runtime.bind(module.__dict__)
    assert module.__dict__[BOUND_PREFIX] is handle


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from racefree.detector.instrument import ImportHook

    (tmp_path / "rf_star_lib.py").write_text(
        "total = 0\n\ndef bump():\n    global total\n    total += 1\n\n"
        "class Counter:\n    def __init__(self):\n        self.n = 0\n")
    (tmp_path / "rf_star_user.py").write_text(
        "from rf_star_lib import *\n\nhits = 0\n\ndef incr(c):\n    c.n += 1\n\n"
        "def hit():\n    global hits\n    hits += 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    hook = ImportHook(roots=[str(tmp_path)])
    hook.install()
    yield tmp_path
    hook.uninstall()
    for name in ("rf_star_lib", "rf_star_user"):
        sys.modules.pop(name, None)


def test_import_star_copies_no_binding_and_the_importer_stays_current(project: Path) -> None:
    import rf_star_user  # type: ignore[import-not-found]

    ns = rf_star_user.__dict__
    assert ns[BOUND_PREFIX].namespace is ns  # its own handle, not the library's
    assert race_in(rf_star_user) == 1
    assert bound(ns) == runtime._NOOPS


def test_import_star_keeps_the_importers_globals_container(project: Path) -> None:
    """Both modules record globals; the importer's global locations stay in its own dict."""
    import rf_star_user

    from racefree.detector.instrument.expressions import GLOBALS

    ns = rf_star_user.__dict__
    assert ns[GLOBALS] is ns  # not rf_star_lib's dict, copied over by `import *`
