#!/usr/bin/env python3
"""One entry point for people and CI: each command does its own setup.

    python3 dev.py lab [--python PY] [ARGS...]       run `racefree lab` (creates .venv on first use)
    python3 dev.py test [--python PY] [ARGS...]      ruff + mypy + the whole pytest suite
    python3 dev.py racefree [--python PY] [ARGS...]  any racefree command in the project venv

The virtual environment for interpreter PY lives in `.venv` (the interpreter
running this script) or `.venv-<tag>` (another one, e.g. a free-threaded build),
and is re-installed only when the build inputs change (pyproject.toml, setup.py
and the C extension's source, which an editable install compiles in place).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BUILD_INPUTS = (
    ROOT / "pyproject.toml", ROOT / "setup.py", ROOT / "src" / "racefree" / "detector" / "_speedups.c",
    ROOT / "src" / "racefree" / "sync" / "_fastread.c",
)


def _run(cmd: list[str], **kw: object) -> int:
    print("+", " ".join(cmd), flush=True)
    return subprocess.call(cmd, cwd=ROOT, **kw)  # type: ignore[arg-type]


def _interp_facts(python: str) -> tuple[str, bool]:
    out = subprocess.check_output(
        [python, "-c", "import sys, sysconfig; print(sys.implementation.cache_tag, "
         "bool(sysconfig.get_config_var('Py_GIL_DISABLED')))"],
        text=True,
    ).split()
    return out[0], out[1] == "True"


def ensure_venv(python: str, extras: str, lint: bool = False) -> tuple[Path, bool]:
    """Create (once) and return the venv for `python` with racefree installed.

    `lint` adds the `lint` extra on a default build only (see pyproject.toml).
    """
    tag, free_threaded = _interp_facts(python)
    if lint and not free_threaded:
        extras = f"{extras},lint" if extras else "lint"
    same = Path(python).resolve() == Path(sys.executable).resolve()
    venv = ROOT / (".venv" if same else f".venv-{tag}{'t' if free_threaded else ''}")
    vpy = venv / "bin" / "python"
    if not vpy.exists() and _run([python, "-m", "venv", str(venv)]) != 0:
        sys.exit(f"dev.py: could not create a virtual environment with {python}")
    stamp = venv / ".racefree-installed"
    want = hashlib.sha256(b"".join(p.read_bytes() for p in BUILD_INPUTS) + extras.encode()).hexdigest()
    have = stamp.read_text() if stamp.exists() else ""
    if want not in have.split():
        # --prefer-binary: newer hypothesis releases are sdists with a Rust part that cannot
        # build offline for 3.13t; the newest pure-Python wheel serves every interpreter.
        pip = [str(vpy), "-m", "pip", "install", "--disable-pip-version-check", "-q", "--prefer-binary"]
        spec = f".[{extras}]" if extras else "."
        if _run([*pip, "-e", spec]) != 0:
            sys.exit("dev.py: pip install failed (see above)")
        stamp.write_text(have + " " + want)
    return vpy, free_threaded


def _pick_python(argv: list[str]) -> tuple[str, list[str]]:
    """`--python PY` as the first arguments selects another interpreter."""
    if argv[:1] == ["--python"] and len(argv) >= 2:
        return argv[1], argv[2:]
    return sys.executable, argv


def cmd_racefree(argv: list[str]) -> int:
    python, argv = _pick_python(argv)
    vpy, _ = ensure_venv(python, "")
    return _run([str(vpy), "-m", "racefree", *argv])


def cmd_lab(argv: list[str]) -> int:
    python, argv = _pick_python(argv)
    return cmd_racefree(["--python", python, "lab", *argv])


def cmd_test(argv: list[str]) -> int:
    python, argv = _pick_python(argv)
    vpy, free_threaded = ensure_venv(python, "test", lint=True)
    env = dict(os.environ)
    if shutil.which("cc") or shutil.which("gcc"):
        # With a compiler the install built the detector's C fast path: the suite must test it,
        # not silently fall back to the Python one (tests/detector/engine/test_engine_speedups.py).
        env["RACEFREE_EXPECT_SPEEDUPS"] = "1"
    if free_threaded:
        # The suite fails if any import turned the GIL back on (see tests/conftest.py).
        env["RACEFREE_REQUIRE_GIL_DISABLED"] = "1"
    else:
        # Static checks once, on the default build.
        for check in (["-m", "ruff", "check", "."],
                      ["-m", "mypy"]):
            if _run([str(vpy), *check], env=env) != 0:
                return 1
    return _run([str(vpy), "-m", "pytest", *argv], env=env)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"lab", "test", "racefree"}:
        print(__doc__, file=sys.stderr)
        return 2
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by any python3
        sys.exit("dev.py: racefree needs Python >= 3.11")
    command, argv = sys.argv[1], sys.argv[2:]
    return {"lab": cmd_lab, "test": cmd_test, "racefree": cmd_racefree}[command](argv)


if __name__ == "__main__":
    sys.exit(main())
