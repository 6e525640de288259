"""The instrumented-code cache: hits, misses, invalidation, atomic writes, its own tag."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import rf_fake_runtime

from racefree.detector.instrument import BytecodeCache, ImportHook, compile_instrumented
from racefree.detector.instrument.cache import TAG, cache_path

SOURCE = "class O:\n    pass\ndef f(o):\n    o.x = 1\n    return o.x\n"


@pytest.fixture(autouse=True)
def writable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(sys, "pycache_prefix", None)


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "rf_cached_mod.py"
    path.write_text(SOURCE)
    yield path
    sys.modules.pop("rf_cached_mod", None)
    importlib.invalidate_caches()


def import_fresh(path: Path, runtime: str = "rf_fake_runtime") -> tuple[ImportHook, object]:
    sys.modules.pop("rf_cached_mod", None)
    h = ImportHook(roots=[str(path.parent)], runtime=runtime)
    h.install()
    try:
        mod = importlib.import_module("rf_cached_mod")
    finally:
        h.uninstall()
    return h, mod


def test_cache_file_has_its_own_tag_next_to_the_source(module: Path) -> None:
    where = cache_path(str(module))
    assert where is not None
    assert os.path.dirname(where) == str(module.parent / "__pycache__")
    assert os.path.basename(where) == f"rf_cached_mod.{sys.implementation.cache_tag}.{TAG}.pyc"


def test_miss_then_hit(module: Path) -> None:
    first, _ = import_fresh(module)
    assert first.cache.statistics() == (0, 1, 1)
    second, mod = import_fresh(module)
    assert second.cache.statistics() == (1, 0, 0)
    assert second.instrumented == ["rf_cached_mod"]
    log = rf_fake_runtime.reset()
    assert mod.f(mod.O()) == 1  # type: ignore[attr-defined]
    assert [e[0] for e in log] == ["write", "read"]  # the cached code is the instrumented code


def test_source_change_invalidates(module: Path) -> None:
    import_fresh(module)
    st = module.stat()
    module.write_text(SOURCE.replace("o.x = 1", "o.x = 2"))  # same size
    os.utime(module, ns=(st.st_atime_ns, st.st_mtime_ns))  # and same mtime: the hash still differs
    h, mod = import_fresh(module)
    assert h.cache.statistics().misses == 1
    assert mod.f(mod.O()) == 2  # type: ignore[attr-defined]


def test_other_runtime_module_is_a_miss(module: Path) -> None:
    import_fresh(module)
    h, _ = import_fresh(module, runtime="racefree.detector.runtime")
    assert h.cache.statistics().misses == 1


def test_corrupt_or_truncated_cache_is_a_miss(module: Path) -> None:
    import_fresh(module)
    where = cache_path(str(module))
    assert where is not None
    Path(where).write_bytes(b"garbage")
    h, mod = import_fresh(module)
    assert h.cache.statistics() == (0, 1, 1)
    assert mod.f(mod.O()) == 1  # type: ignore[attr-defined]


def test_writes_leave_no_temporary_files(module: Path) -> None:
    import_fresh(module)
    assert sorted(p.name for p in (module.parent / "__pycache__").iterdir()) == [
        os.path.basename(cache_path(str(module)) or "")
    ]


def test_nothing_written_when_bytecode_writing_is_off(module: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    h, _ = import_fresh(module)
    assert h.cache.statistics().writes == 0
    assert not (module.parent / "__pycache__").exists()


def test_unwritable_directory_is_not_an_error(module: Path) -> None:
    (module.parent / "__pycache__").write_text("a file where the directory should be")
    h, mod = import_fresh(module)
    assert h.cache.statistics() == (0, 1, 0)
    assert mod.f(mod.O()) == 1  # type: ignore[attr-defined]


def test_load_and_store_directly(module: Path) -> None:
    cache = BytecodeCache()
    data = module.read_bytes()
    st = module.stat()
    assert cache.load(str(module), data, st, "rt") is None
    code = compile_instrumented(data, str(module), runtime="rt")
    cache.store(str(module), data, st, "rt", code, True)
    loaded = cache.load(str(module), data, st, "rt")
    assert loaded is not None and loaded[0].co_consts == code.co_consts and loaded[1] is True
