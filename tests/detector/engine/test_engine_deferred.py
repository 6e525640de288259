"""Patches that wait for their module: asyncio and concurrent.futures, patched when the program imports them.

A run that never uses them does not import them (start-up cost); one that imports
them after the detector started gets the same happens-before edges as one that
imported them before.  Each program runs in a fresh interpreter (the test
process has imported both long ago), once per back-end (conftest) and per mode.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from racefree.detector.patching import ImportWatch

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def _python(code: str, cwd: Path | None = None) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         cwd=cwd, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_starting_imports_neither_asyncio_nor_concurrent_futures() -> None:
    out = _python("""
        import sys
        from racefree.detector import Detector
        with Detector():
            print(sorted(m for m in ("asyncio", "concurrent.futures") if m in sys.modules))
    """)
    assert out.split("\n")[0] == "[]"


def test_patches_go_in_when_the_program_imports_the_module_and_come_out_at_stop() -> None:
    out = _python("""
        import sys
        from racefree.detector import Detector
        d = Detector()
        d.start()
        import asyncio
        import concurrent.futures
        from racefree.detector import hb_asyncio, hb_futures
        patched = [asyncio.events.Handle._run is hb_asyncio._handle_run,
                   concurrent.futures.Future.result is hb_futures._result,
                   concurrent.futures.wait is hb_futures._wait]
        loaders = [type(m.__loader__).__name__ for m in (asyncio, concurrent.futures)]
        loaders += [type(m.__spec__.loader).__name__ for m in (asyncio, concurrent.futures)]
        errors = d.internal_errors
        d.stop()
        restored = [asyncio.events.Handle._run is not hb_asyncio._handle_run,
                    concurrent.futures.Future.result is not hb_futures._result,
                    concurrent.futures.wait is not hb_futures._wait,
                    not any(type(f).__name__ == "ImportWatch" for f in sys.meta_path)]
        print(patched, loaders, errors, restored)
    """)
    assert out.strip() == ("[True, True, True] ['SourceFileLoader', 'SourceFileLoader', 'SourceFileLoader', "
                           "'SourceFileLoader'] 0 [True, True, True, True]")


def test_a_module_imported_after_stop_is_not_patched_and_a_new_detector_patches_it() -> None:
    out = _python("""
        from racefree.detector import Detector
        d = Detector()
        d.start()
        d.stop()
        import asyncio
        from racefree.detector import hb_asyncio
        first = asyncio.events.Handle._run is hb_asyncio._handle_run
        with Detector():
            second = asyncio.events.Handle._run is hb_asyncio._handle_run
        print(first, second, asyncio.events.Handle._run is hb_asyncio._handle_run)
    """)
    assert out.strip() == "False True False"


def test_hello_under_racefree_run_imports_none_of_the_cold_parts(tmp_path: Path) -> None:
    script = tmp_path / "hello.py"
    script.write_text(textwrap.dedent("""
        import sys, threading
        t = threading.Thread(target=print, args=("hello",))
        t.start()
        t.join()
        cold = ("asyncio", "concurrent.futures", "racefree.detector.instrument.transform", "ast",
                "dataclasses", "pathlib", "tomllib", "json", "subprocess", "racefree.detector.findings",
                "racefree.detector.suppression_entry", "racefree.detector.schedule", "shutil",
                "racefree.detector.confirm")
        print(sorted(m for m in cold if m in sys.modules))
    """))
    for _ in range(2):  # the second run reuses the rewrite cache: the rewriter is not even imported
        out = subprocess.run([sys.executable, "-m", "racefree", "run", str(script)], capture_output=True,
                             text=True, cwd=tmp_path, timeout=120,
                             env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})
        assert out.returncode == 0, out.stderr
    assert out.stdout == "hello\n[]\n"


@pytest.mark.parametrize("mode", ["python", "strict"])
@pytest.mark.parametrize("program, races", [
    ("norace_asyncio_call_soon_threadsafe", 0),
    ("norace_asyncio_run_coroutine_threadsafe", 0),
    ("norace_asyncio_run_in_executor", 0),
    ("race_asyncio_write_after_handoff", 1),
])
def test_asyncio_edges_hold_when_asyncio_is_imported_after_start(program: str, races: int, mode: str) -> None:
    # racefree run starts the detector before the program's first line: these programs
    # import asyncio (and with it concurrent.futures) only then
    out = subprocess.run([sys.executable, "-m", "racefree", "run", "--mode", mode, "--format", "json",
                          str(CORPUS / f"{program}.py")], capture_output=True, text=True, timeout=120)
    doc = json.loads(out.stderr[out.stderr.index("{"):])
    assert len(doc["races"]) == races, out.stderr


# --- ImportWatch ------------------------------------------------------------------------------


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    (tmp_path / "rf_watched_mod.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "rf_watched_mod"
    sys.modules.pop("rf_watched_mod", None)


def test_the_watch_calls_back_once_after_the_module_ran_and_leaves_its_loader_alone(package: str) -> None:
    seen: list[object] = []
    watch = ImportWatch({package: lambda: seen.append(sys.modules[package].VALUE)})
    watch.install()
    try:
        import importlib

        module = importlib.import_module(package)
        importlib.import_module(package)
    finally:
        watch.uninstall()
    assert seen == [42]
    assert type(module.__loader__).__name__ == "SourceFileLoader"
    assert module.__spec__ is not None and module.__spec__.loader is module.__loader__
    assert watch not in sys.meta_path


def test_the_watch_sees_an_import_made_in_another_thread(package: str) -> None:
    seen: list[str] = []
    watch = ImportWatch({package: lambda: seen.append(threading.current_thread().name)})
    watch.install()
    try:
        t = threading.Thread(target=__import__, args=(package,), name="importer")
        t.start()
        t.join()
    finally:
        watch.uninstall()
    assert seen == ["importer"]


def test_the_watch_ignores_other_modules_and_missing_ones(package: str) -> None:
    watch = ImportWatch({"rf_no_such_module": lambda: None})
    watch.install()
    try:
        assert watch.find_spec(package) is None
        with pytest.raises(ModuleNotFoundError):
            __import__("rf_no_such_module")
    finally:
        watch.uninstall()
