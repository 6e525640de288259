"""The type stub of the C extension (``_speedups.pyi``) names exactly what the built module provides."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

STUB = Path(__file__).resolve().parents[2] / "src" / "racefree" / "detector" / "_speedups.pyi"

speedups_c = pytest.importorskip("racefree.detector._speedups", reason="C fast path not built")


def _stub_names(tree: ast.Module) -> dict[str, set[str]]:
    """Each top-level name of the stub -> its members (empty for a function)."""
    names: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            # public members only, as _public() sees the module's (dunders like __enter__ are typed too)
            names[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef)
                                and not n.name.startswith("_")}
        elif isinstance(node, ast.FunctionDef):
            names[node.name] = set()
    return names


def _public(obj: object) -> set[str]:
    return {n for n in vars(obj) if not n.startswith("_")}


def test_the_stub_names_what_the_module_provides() -> None:
    stub = _stub_names(ast.parse(STUB.read_text(encoding="utf-8")))
    assert set(stub) == _public(speedups_c)
    for name, members in stub.items():
        runtime = getattr(speedups_c, name)
        if isinstance(runtime, type):
            assert members == _public(runtime), name


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed (lint extra)")
def test_stubtest_agrees_with_the_module() -> None:
    """mypy's stubtest: every signature of the stub against the built module."""
    out = subprocess.run([sys.executable, "-m", "mypy.stubtest", "racefree.detector._speedups"],
                         capture_output=True, text=True, cwd=STUB.parents[3])
    assert out.returncode == 0, out.stdout + out.stderr
