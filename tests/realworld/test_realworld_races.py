"""Documented races in released PyPI packages: reported on the buggy release, clean on the fix.

Run with `pytest -m realworld tests/realworld` (the registry is needed once: environments are cached,
see realworld_venvs.py). Each test installs one release with --no-deps into its own cached
environment and runs the case's driver under `racefree run --include <package>*` in python mode.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from realworld_cases import CASES, Case
from realworld_venvs import RegistryError, ensure_venv, venv_path, venv_python

DRIVERS = Path(__file__).resolve().parent / "drivers"
RUN_TIMEOUT = 120
# both detector back-ends, as the engine tests: the C fast path where it is built
BACKENDS = ["python"] + (["c"] if importlib.util.find_spec("racefree.detector._speedups") else [])

pytestmark = pytest.mark.realworld


def _params() -> list[Any]:
    params = []
    for case in CASES:
        for side, needs in (("buggy", case.needs_buggy), ("fixed", case.needs_fixed)):
            # raises=AssertionError: a registry failure (pytest.fail) is never taken for the xfail
            why = f"detector needs: {needs}"
            marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason=why)] if needs else []
            version = case.buggy if side == "buggy" else case.fixed
            for backend in BACKENDS:
                params.append(pytest.param(case, side, backend, id=f"{case.name}-{version}-{side}-{backend}",
                                           marks=marks))
    return params


_registry_down: list[str] = []  # the first registry failure: later tests fail at once, not after a timeout


def _run(case: Case, version: str, backend: str, tmp_path: Path) -> tuple[int, str, dict[str, Any]]:
    name, pins = f"{case.project}-{version}", [f"{case.project}=={version}", *case.extra]
    if not _registry_down or venv_python(venv_path(name, pins)).exists():
        try:
            venv = ensure_venv(name, pins)
        except RegistryError as exc:
            _registry_down.append(str(exc))
    if _registry_down and not venv_python(venv_path(name, pins)).exists():
        pytest.fail(_registry_down[0], pytrace=False)
    report = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["RACEFREE_DETECTOR_BACKEND"] = backend
    proc = subprocess.run(
        [str(venv_python(venv)), "-m", "racefree", "run", "--mode", "python", "--format", "json",
         "--output", str(report), "--include", case.include, str(DRIVERS / f"{case.name}_race.py")],
        capture_output=True, text=True, timeout=RUN_TIMEOUT, cwd=tmp_path, env=env,
    )
    data = json.loads(report.read_text()) if report.exists() else {"races": [], "deadlocks": []}
    return proc.returncode, proc.stdout + proc.stderr, data


def _matches(case: Case, race: dict[str, Any]) -> bool:
    if race["kind"] != case.kind or case.location not in race["location"]:
        return False
    tops = [race[side]["stack"][0] for side in ("current", "previous") if race[side]["stack"]]
    return any(top["file"].endswith("site-packages/" + case.file) and case.function in top["function"]
               for top in tops)


def _summary(data: dict[str, Any]) -> str:
    lines = [f"{r['kind']} on {r['location']} at "
             + " / ".join(f"{s['stack'][0]['function']}:{s['stack'][0]['line']}"
                          for s in (r["current"], r["previous"]) if s["stack"])
             for r in data["races"]]
    return "\n".join(lines) or "no race reported"


@pytest.mark.parametrize(("case", "side", "backend"), _params())
def test_documented_race(case: Case, side: str, backend: str, tmp_path: Path) -> None:
    version = case.buggy if side == "buggy" else case.fixed
    code, output, data = _run(case, version, backend, tmp_path)
    for _ in range(2):  # on 3.13t a run can order the pair through the library's own lock (pyee)
        if not ((side == "buggy" or case.fix_incomplete) and code == 0):
            break
        code, output, data = _run(case, version, backend, tmp_path)
    assert "ok" in output.splitlines(), f"the driver did not finish:\n{output[-3000:]}"
    if side == "buggy" or case.fix_incomplete:
        assert code == 66, f"exit {code}, expected 66:\n{_summary(data)}"
        assert any(_matches(case, r) for r in data["races"]), (
            f"no {case.kind} on '{case.location}' at {case.file}:{case.function}; reported:\n"
            f"{_summary(data)}")
    else:
        assert code == 0 and not data["races"] and not data["deadlocks"], (
            f"exit {code} on the fixed release; reported:\n{_summary(data)}\n"
            f"{len(data['deadlocks'])} potential deadlock(s)")
