"""The top-level ``racefree`` command: ``--version`` names the active back-ends."""

from __future__ import annotations

import pytest

from racefree import __version__, cli
from racefree.detector import speedups


def test_version_names_version_and_backends(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"racefree {__version__} (Python ")
    assert "racefree.sync atomics: " in out
    backend, why = speedups.choose()
    assert f"detector fast path: {backend} ({why})" in out


def test_version_reports_a_bad_backend_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(speedups.ENV, "nope")
    assert "detector fast path: invalid (RACEFREE_DETECTOR_BACKEND='nope'" in cli.version_text()
