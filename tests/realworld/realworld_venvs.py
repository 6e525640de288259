"""Cached virtual environments holding released PyPI packages, with racefree importable.

Each environment is made once with the interpreter that runs racefree (the detector's C fast path is
built in place for that interpreter) and lives under ``$RACEFREE_REALWORLD_CACHE`` (default
``~/.cache/racefree-realworld``) in a folder named after the interpreter and the racefree checkout it
points at, so worktrees and interpreters never share one. racefree is made importable by a ``.pth``
file that adds the site directory racefree runs from, *after* the environment's own packages: the
package under test always comes from the environment. An environment is built in a scratch folder and
renamed into place, so an interrupted or concurrent build never leaves a half-made one behind.

Shared by tests/realworld (documented races) and benchmarks/realworld_suites.py (real test suites).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import racefree

__all__ = ["RegistryError", "cache_root", "ensure_venv", "racefree_site", "venv_path", "venv_python"]

# pip waits 180 s per try by default here; a registry that is down should fail in seconds.
PIP_NETWORK = ["--retries", "1", "--timeout", "20"]


class RegistryError(RuntimeError):
    """The package registry could not provide a pinned package (message is one line)."""


def racefree_site() -> Path:
    """The site directory racefree is imported from (its dependencies live there too)."""
    purelib = Path(sysconfig.get_paths()["purelib"])
    package_parent = Path(racefree.__file__).resolve().parent.parent
    # An editable install imports racefree from src/ through a .pth in purelib: adding purelib
    # brings both (and rich, prometheus_client, cereggii); a plain install lives in purelib itself.
    return purelib if purelib.is_dir() else package_parent


def _interpreter_tag() -> str:
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    return sys.implementation.cache_tag + ("t" if free_threaded else "")


def cache_root() -> Path:
    base = os.environ.get("RACEFREE_REALWORLD_CACHE") or str(Path.home() / ".cache" / "racefree-realworld")
    site = str(racefree_site()).encode()
    return Path(base) / f"{_interpreter_tag()}-{hashlib.sha256(site).hexdigest()[:10]}"


def venv_path(name: str, requirements: list[str]) -> Path:
    """Where the environment `name` holding `requirements` lives (a new pin is a new folder)."""
    pins = hashlib.sha256("\n".join(sorted(requirements)).encode()).hexdigest()[:8]
    return cache_root() / f"{name}-{pins}"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _pip_failure(what: str, proc: subprocess.CompletedProcess[str]) -> RegistryError:
    lines = [ln.strip() for ln in (proc.stderr or proc.stdout or "").splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("ERROR")] or lines[-1:] or ["no output"]
    return RegistryError(f"cannot install {what} from the package registry (pip exit {proc.returncode}): "
                         f"{errors[-1][:300]}")


def ensure_venv(name: str, requirements: list[str], *, no_deps: bool = True) -> Path:
    """Return the cached environment `name` holding exactly `requirements` (pinned), making it once.

    Raises RegistryError (one line) when pip cannot get a requirement.
    """
    venv = venv_path(name, requirements)
    if venv_python(venv).exists():
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=venv.parent))
    try:
        # the interpreter racefree runs on: base_prefix's python, not the venv wrapper
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(scratch)], check=True,
                       capture_output=True, text=True)
        # No pip of its own: pip comes from racefree's site directory (the .pth below), so
        # --ignore-installed keeps it from counting, or uninstalling, what it finds there.
        pth = Path(sysconfig.get_paths(vars={"base": str(scratch), "platbase": str(scratch)})["purelib"])
        pth.mkdir(parents=True, exist_ok=True)
        (pth / "zz_racefree_realworld.pth").write_text(
            f"import site; site.addsitedir({str(racefree_site())!r})\n")
        cmd = [str(venv_python(scratch)), "-m", "pip", "install", "--disable-pip-version-check",
               "--no-input", "-q", "--ignore-installed", *PIP_NETWORK,
               *(["--no-deps"] if no_deps else []), *requirements]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise _pip_failure(" ".join(requirements), proc)
        try:
            scratch.rename(venv)
        except OSError:
            if not venv_python(venv).exists():  # not a concurrent build that won the race
                raise
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return venv
