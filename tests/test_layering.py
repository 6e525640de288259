"""The package's layers point one way: each may import only the layers below it.

Ground floor: ``racefree`` (the root), ``racefree.errors``, ``racefree._build``, ``racefree._lazy``,
``racefree.annotations`` (the root re-exports it).
Then ``racefree.sync``; ``racefree.detector`` and ``racefree.automation`` on it;
``racefree.lab`` and ``racefree.bench`` above those; at the top the front ends
(``racefree.cli``, ``racefree.__main__``, ``racefree.pytest_plugin``), which no
layer imports.  An import inside a function, under ``TYPE_CHECKING`` or by name
(``importlib.import_module("racefree.x")``) is still an arrow and is checked.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import racefree

PACKAGE = Path(racefree.__file__).parent
GROUND = {"racefree", "racefree.errors", "racefree._build", "racefree._lazy", "racefree.annotations"}

# layer -> the layers it may import (besides itself and the ground floor)
ALLOWED: dict[str, set[str]] = {
    "racefree.errors": set(),
    "racefree._build": set(),
    "racefree._lazy": set(),
    "racefree.annotations": set(),
    "racefree.sync": set(),
    "racefree.detector": {"racefree.sync"},
    "racefree.automation": {"racefree.sync"},
    # the two measuring layers may measure anything below them; bench also measures the lab's
    # configuration managers (its read-mostly suite has exercise 3's shape), the lab never imports bench
    "racefree.bench": {"racefree.sync", "racefree.detector", "racefree.automation", "racefree.lab"},
    "racefree.lab": {"racefree.sync", "racefree.detector", "racefree.automation"},
    "racefree.pytest_plugin": {"racefree.detector", "racefree.sync"},
    "racefree.cli": {"racefree.detector", "racefree.sync", "racefree.lab", "racefree.bench"},
    "racefree.__main__": {"racefree.cli"},
}


def layer_of(module: str) -> str:
    """``racefree.detector.instrument.hook`` -> ``racefree.detector``; the root is ``racefree``."""
    parts = module.split(".")
    return ".".join(parts[:2])


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every racefree module `path` names in an import statement or an ``import_module("...")`` call."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # `from racefree import cli` imports the module racefree.cli
            found.update(f"{base}.{alias.name}" for alias in node.names
                         if _is_module(f"{base}.{alias.name}"))
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and (getattr(node.func, "attr", None) == "import_module"
                   or getattr(node.func, "id", None) in ("import_module", "__import__"))):
            found.add(node.args[0].value)
    return {m for m in found if m == "racefree" or m.startswith("racefree.")}


def _is_module(name: str) -> bool:
    if not name.startswith("racefree."):
        return False
    rel = Path(*name.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def violations(path: Path) -> list[str]:
    here = module_name(path)
    mine = layer_of(here)
    allowed = {mine} | GROUND | ALLOWED.get(mine, set())
    return [f"{here} imports {target}" for target in sorted(imports_of(path))
            if layer_of(target) not in allowed and target not in GROUND]


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_layer_is_known() -> None:
    layers = {layer_of(module_name(p)) for p in SOURCES} - {"racefree"}
    assert layers == set(ALLOWED)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_imports_point_down(path: Path) -> None:
    assert violations(path) == []


@pytest.mark.parametrize("line", [
    "from racefree.cli import UsageError",
    "import racefree.cli",
    "from racefree import cli",
    "from ... import cli",
    "importlib.import_module('racefree.cli')",
    "def f():\n    from racefree.pytest_plugin import RaceSession",
    "from racefree.lab import run_lab",
])
def test_the_check_sees_an_upward_arrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str) -> None:
    # a detector module (two levels down: `from ... import cli` is racefree.cli)
    fake = PACKAGE / "detector" / "instrument" / "_layering_probe.py"
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: line + "\n")
    assert violations(fake) != []


def test_the_ground_floor_imports_nothing_of_racefree() -> None:
    assert imports_of(PACKAGE / "errors.py") == set()
    assert imports_of(PACKAGE / "annotations.py") == set()


def _modules_after(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint('--', *sorted(sys.modules))"],
                         capture_output=True, text=True)
    return out.stdout.rpartition("\n-- ")[2].split()


HEAVY = ("racefree.detector.engine", "racefree.detector._speedups", "racefree.detector.sarif",
         "racefree.sync.atomic", "racefree.sync._backend", "racefree.bench.suites", "racefree.lab.exercises",
         "tomllib", "json")


def test_racefree_help_imports_no_layer() -> None:
    loaded = _modules_after(
        "import racefree.cli\ntry:\n    racefree.cli.main(['--help'])\nexcept SystemExit:\n    pass")
    assert [m for m in loaded if m.startswith("racefree.")] == [
        "racefree.annotations", "racefree.cli", "racefree.errors"]


def test_building_the_run_parser_imports_no_engine() -> None:
    loaded = _modules_after("import racefree.cli\nracefree.cli.build_parser(['run', 'x.py'])")
    assert "racefree.detector.command" in loaded
    assert [m for m in HEAVY if m in loaded] == []


# the engine's collaborators see it through its faces (racefree.detector.faces), never as the class
ENGINE_FACING = ("hb_threading", "hb_queue", "hb_futures", "hb_rawlocks", "hb_asyncio", "lockorder", "access",
                 "speedups", "clocks", "containers")


@pytest.mark.parametrize("name", ENGINE_FACING)
def test_the_engine_s_collaborators_do_not_import_it(name: str) -> None:
    assert "racefree.detector.engine" not in imports_of(PACKAGE / "detector" / f"{name}.py")


def _imports_speedups(path: Path) -> bool:
    """Whether `path` imports the C extension (a compiled module: imports_of cannot see it as a file)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and ((node.module or "").endswith("_speedups")
                                                 or any(a.name == "_speedups" for a in node.names)):
            return True
        if isinstance(node, ast.Import) and any(a.name.endswith("._speedups") for a in node.names):
            return True
    return False


def test_only_the_back_end_chooser_imports_the_c_extension() -> None:
    importers = sorted(module_name(p) for p in SOURCES if _imports_speedups(p))
    assert importers == ["racefree.detector.speedups"]
