"""Every engine test runs once per fast-path backend: the C one (when built) and the Python reference."""

from __future__ import annotations

import pytest

from racefree.detector import speedups


def _backends() -> list[object]:
    built = speedups._load()[0] is not None
    return [
        pytest.param("c", marks=pytest.mark.skipif(not built, reason="C fast path not built")),
        "python",
    ]


@pytest.fixture(autouse=True, params=_backends())
def detector_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(speedups.ENV, request.param)
    return str(request.param)
