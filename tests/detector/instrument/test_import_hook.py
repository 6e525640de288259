"""ImportHook: which modules it instruments, loading through it, warnings, install/uninstall."""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import rf_fake_runtime

import racefree.detector.instrument.hook as hook_module
from racefree.detector.instrument import ImportHook, InstrumentError, InstrumentingLoader


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on sys.path; modules imported from it are forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]
    importlib.invalidate_caches()


@pytest.fixture
def hook(project: Path) -> Iterator[ImportHook]:
    h = ImportHook(roots=[str(project)], runtime="rf_fake_runtime", warn=WARNINGS.append)
    WARNINGS.clear()
    h.install()
    yield h
    h.uninstall()


WARNINGS: list[str] = []

COUNTER = """
class Counter:
    def __init__(self):
        self.n = 0
    def inc(self):
        self.n += 1
        return self.n
"""


def test_user_module_under_a_root_is_instrumented(project: Path, hook: ImportHook) -> None:
    (project / "rf_user_a.py").write_text(COUNTER)
    import rf_user_a  # type: ignore[import-not-found]

    log = rf_fake_runtime.reset()
    assert rf_user_a.Counter().inc() == 1
    assert [e[0] for e in log] == ["write", "read", "write", "read"]
    assert hook.instrumented == ["rf_user_a"]
    assert isinstance(rf_user_a.__loader__, InstrumentingLoader)
    assert rf_user_a.__file__ == str(project / "rf_user_a.py")


def test_packages_and_submodules(project: Path, hook: ImportHook) -> None:
    pkg = project / "rf_pkg_b"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .core import Counter\n")
    (pkg / "core.py").write_text(COUNTER)
    import rf_pkg_b  # type: ignore[import-not-found]

    assert rf_pkg_b.Counter().inc() == 1
    assert sorted(hook.instrumented) == ["rf_pkg_b", "rf_pkg_b.core"]
    assert rf_pkg_b.__path__ == [str(pkg)]


def test_stdlib_site_packages_and_racefree_are_left_alone(hook: ImportHook) -> None:
    assert hook.selects("json", json.__file__) == (False, "standard library, site-packages or racefree")
    assert hook.selects("pytest", pytest.__file__)[0] is False
    import racefree.detector.events as engine_like

    assert hook.selects("racefree.lab.unsafe", engine_like.__file__)[0] is False
    assert hook.selects("racefree.detector.engine", engine_like.__file__) == (False, "the detector itself")
    assert hook.find_spec("json") is None


def test_modules_outside_the_roots_are_left_alone(tmp_path: Path) -> None:
    h = ImportHook(roots=[str(tmp_path / "app")])
    assert h.selects("elsewhere", str(tmp_path / "other" / "elsewhere.py")) == (False, "outside the roots")
    assert h.selects("mine", str(tmp_path / "app" / "mine.py")) == (True, "under a root")
    assert h.selects("mine", str(tmp_path / "app" / "native.so")) == (False, "not a Python source file")


def test_include_and_exclude_patterns(tmp_path: Path) -> None:
    h = ImportHook(roots=[str(tmp_path)], include=["json", "racefree.lab.*", "racefree.detector"],
                   exclude=["app.vendor"])
    assert h.selects("json.decoder", json.__file__) == (True, "included by pattern")  # covers submodules
    assert h.selects("racefree.lab.unsafe", "/x/racefree/lab/unsafe.py")[0] is True
    assert h.selects("racefree.lab", "/x/racefree/lab/__init__.py")[0] is False  # `.*` only submodules
    assert h.selects("racefree.detector.runtime", "/x/r.py") == (False, "the detector itself")
    assert h.selects("app.vendor.lib", str(tmp_path / "app/vendor/lib.py")) == (False, "excluded by pattern")
    assert h.selects("app.main", str(tmp_path / "app/main.py"))[0] is True


def test_excluded_module_imports_plain_and_is_listed(project: Path) -> None:
    (project / "rf_user_c.py").write_text(COUNTER)
    h = ImportHook(roots=[str(project)], exclude=["rf_user_c"], runtime="rf_fake_runtime")
    h.install()
    try:
        import rf_user_c  # type: ignore[import-not-found]
    finally:
        h.uninstall()
    log = rf_fake_runtime.reset()
    rf_user_c.Counter().inc()
    assert log == [] and h.instrumented == [] and h.skipped == {"rf_user_c": "excluded by pattern"}


def test_opt_out_marker(project: Path, hook: ImportHook) -> None:
    (project / "rf_user_d.py").write_text('"""Fast path. RACEFREE: no-instrument"""\n' + COUNTER)
    import rf_user_d  # type: ignore[import-not-found]

    log = rf_fake_runtime.reset()
    rf_user_d.Counter().inc()
    assert log == [] and hook.skipped == {"rf_user_d": "no-instrument marker"} and hook.instrumented == []


def test_rewrite_failure_runs_plain_with_one_warning(
    project: Path, hook: ImportHook, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise InstrumentError("boom")

    monkeypatch.setattr(hook_module, "instrument_source", broken)
    (project / "rf_user_e.py").write_text(COUNTER)
    import rf_user_e  # type: ignore[import-not-found]

    assert rf_user_e.Counter().inc() == 1
    assert len(WARNINGS) == 1 and "rf_user_e" in WARNINGS[0] and "boom" in WARNINGS[0]
    assert hook.skipped["rf_user_e"] == "rewrite failed: boom"


def test_syntax_errors_propagate_like_a_plain_import(project: Path, hook: ImportHook) -> None:
    (project / "rf_user_f.py").write_text("def broken(:\n")
    with pytest.raises(SyntaxError) as info:
        import rf_user_f  # type: ignore[import-not-found]  # noqa: F401
    assert info.value.filename == str(project / "rf_user_f.py") and info.value.lineno == 1


def test_warns_about_included_modules_imported_before_install(project: Path) -> None:
    (project / "rf_user_g.py").write_text(COUNTER)
    import rf_user_g  # type: ignore[import-not-found]  # noqa: F401

    warnings: list[str] = []
    h = ImportHook(roots=[str(project)], include=["rf_user_g"], warn=warnings.append)
    h.install()
    h.uninstall()
    assert h.skipped == {"rf_user_g": "imported before the hook was installed"}
    assert warnings == ["module rf_user_g was imported before racefree could instrument it"]


def test_no_warning_about_the_command_modules_the_cli_imported_itself() -> None:
    # `racefree run --include 'racefree.lab.*'` builds its parser first, which imports
    # racefree.lab.command: nothing the user could have done differently.
    import racefree.lab.command  # noqa: F401

    warnings: list[str] = []
    h = ImportHook(include=["racefree.lab.*"], warn=warnings.append)
    h.install()
    h.uninstall()
    assert "racefree.lab.command" in h.skipped
    assert not [w for w in warnings if "racefree.lab.command" in w]


def test_install_and_uninstall_are_symmetric_and_idempotent() -> None:
    h = ImportHook()
    before = list(sys.meta_path)
    h.install()
    h.install()
    assert sys.meta_path[0] is h and sys.meta_path.count(h) == 1
    assert "installed" in repr(h)
    h.uninstall()
    h.uninstall()
    assert sys.meta_path == before


def test_default_root_is_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert ImportHook().roots == [os.path.realpath(tmp_path)]


def test_front_door_all_is_pinned() -> None:
    import racefree.detector.instrument as front

    assert sorted(front.__all__) == [
        "BytecodeCache", "CacheStats", "ImportHook", "InstrumentError", "InstrumentingLoader",
        "NO_INSTRUMENT_MARKER", "compile_instrumented", "instrument_source",
    ]
    assert all(hasattr(front, name) for name in front.__all__)


def test_submodules_of_foreign_packages_skip_the_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "installed"
    (outside / "rf_foreign_pkg").mkdir(parents=True)
    (outside / "rf_foreign_pkg" / "__init__.py").write_text("")
    (outside / "rf_foreign_pkg" / "sub.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(outside))
    h = ImportHook(roots=[str(tmp_path / "app")])
    assert h.find_spec("rf_foreign_pkg") is None
    searched: list[str] = []
    monkeypatch.setattr(hook_module.importlib.machinery.PathFinder, "find_spec",
                        lambda name, path=None: searched.append(name))
    assert h.find_spec("rf_foreign_pkg.sub", [str(outside / "rf_foreign_pkg")]) is None
    assert searched == []


def test_modules_of_namespace_packages_are_instrumented(project: Path, hook: ImportHook) -> None:
    (project / "rf_ns_pkg").mkdir()
    (project / "rf_ns_pkg" / "mod.py").write_text(COUNTER)
    import rf_ns_pkg.mod  # type: ignore[import-not-found]

    assert rf_ns_pkg.mod.Counter().inc() == 1
    assert hook.instrumented == ["rf_ns_pkg.mod"]
