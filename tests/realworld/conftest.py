"""The real-world check needs the package registry: it runs only when `-m realworld` selects it."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "realworld" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="real-world check: needs the package registry, run with -m realworld")
    for item in items:
        if item.get_closest_marker("realworld"):
            item.add_marker(skip)
