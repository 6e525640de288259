"""The front door of racefree.sync: its names, and the back-end it reports."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import racefree.sync
from racefree.sync import BackendInfo, _backend, backend_info


def test_public_names_are_pinned() -> None:
    assert sorted(racefree.sync.__all__) == [
        "AtomicInt",
        "AtomicRef",
        "BackendInfo",
        "ConcurrentMap",
        "ConcurrentMapStatistics",
        "DeadlockError",
        "LockNotHeldError",
        "RWLock",
        "RWLockStatistics",
        "ReentrantCallError",
        "ShardedCounter",
        "ShardedCounterHandle",
        "ShardedCounterStatistics",
        "Snapshot",
        "SnapshotStatistics",
        "SyncError",
        "WrongThreadError",
        "backend_info",
    ]
    for name in racefree.sync.__all__:
        assert getattr(racefree.sync, name) is not None


def test_error_types_share_a_base() -> None:
    for name in ("DeadlockError", "LockNotHeldError", "ReentrantCallError", "WrongThreadError"):
        assert issubclass(getattr(racefree.sync, name), racefree.sync.SyncError)
    assert issubclass(racefree.sync.SyncError, RuntimeError)


def test_backend_info_names_the_active_backend_and_why() -> None:
    info = backend_info()
    assert isinstance(info, BackendInfo)
    assert info.name == _backend.ACTIVE.name
    assert info.reason
    assert info.describe() == f"{info.name} ({info.reason})"
    if "cereggii" in _backend.AVAILABLE:
        assert info.name.startswith("cereggii")
        assert ("cereggii", "usable") in info.candidates
    else:
        assert info.name == "python"


def _probe(env_value: str) -> str:
    env = dict(os.environ, RACEFREE_SYNC_BACKEND=env_value)
    code = "import racefree.sync as s; print(s.backend_info().describe()); print(s.AtomicInt().backend)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout


def test_the_python_backend_can_be_forced_and_says_so() -> None:
    assert _probe("python") == "python (forced by RACEFREE_SYNC_BACKEND=python)\npython\n"


def test_an_unknown_backend_request_is_ignored_with_a_reason() -> None:
    info = _backend.choose({"RACEFREE_SYNC_BACKEND": "nonsense"})[1]
    assert ("nonsense", "unknown RACEFREE_SYNC_BACKEND value, ignored") in info.candidates
    assert info.name == _backend.ACTIVE.name


def test_choose_explains_a_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_backend, "_load_cereggii", lambda: (None, "not installed"))
    backend, info, available = _backend.choose({})
    assert backend is _backend.PYTHON
    assert info.describe() == "python (fallback: cereggii not installed)"
    assert list(available) == ["python"]


@pytest.mark.skipif("cereggii" not in _backend.AVAILABLE, reason="cereggii is not installed")
def test_a_c_backend_that_turns_the_gil_back_on_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    states = iter([False, True])  # GIL off before the import, on after it
    monkeypatch.setattr(_backend, "_gil_enabled", lambda: next(states))
    backend, info, _ = _backend.choose({})
    assert backend is _backend.PYTHON
    assert info.describe() == "python (fallback: cereggii importing it re-enabled the GIL)"
